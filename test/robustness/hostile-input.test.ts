/**
 * Hostile and broken input: each defect a fuzzing pass found, as a named regression test, and
 * seeded fuzz suites over safetensors, checkpoints and feature-cache entries with a time bound per
 * case. The rule for all of them: a typed error that names the problem, or a correct answer; never
 * a crash, a hang, unbounded memory, or an answer made of NaN.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, SafetensorsError, SerTsError, StateDictError, audio, loadSafetensors, manualSeed, nn, saveSafetensors, ser, tensor } from '../../src/index.js';
import { FeatureCache, extractFeatures, removeStaleTemps, scanRavdess, writeFileAtomic } from '../../src/node.js';
import { fixturePath } from '../helpers/fixtures.js';

const { decodeWav, encodeWav, AudioError, resample } = audio;
const stageWav = readFileSync(fixturePath('audio/stage.wav'));
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ser-hostile-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A WAV's header fields, overwritten. */
function patched(bytes: Uint8Array, edits: (v: DataView) => void): Uint8Array {
  const out = bytes.slice();
  edits(new DataView(out.buffer));
  return out;
}
const mono16 = (seconds: number, rate: number) => encodeWav([Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin(i / 7))], rate);
/** Offset of the 'fmt ' chunk's sample-rate field in encodeWav's output (RIFF, WAVE, 'fmt ', size, then 4 bytes in). */
const RATE_AT = 24;

/** Milliseconds `f` takes. */
function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('the sample rate is bounded (1 kHz–768 kHz) and resampling cost follows the output', () => {
  it.each([1, 7, 999, 768_001, 9_999_991])('a WAV at %i Hz is refused at once, naming the rate and the range', (rate) => {
    const bytes = patched(mono16(0.5, 22050), (v) => v.setUint32(RATE_AT, rate, true));
    const { ms } = timed(() => expect(() => decodeWav(bytes)).toThrow(new RegExp(`sample rate ${rate} Hz is outside the accepted 1000–768000 Hz`)));
    expect(ms).toBeLessThan(200);
  });
  it('a rate with a large prime factor (1009 Hz, 767999 Hz) resamples quickly: no table of the rates\' size', () => {
    for (const rate of [1009, 767_999]) {
      const y = new Float32Array(rate).map((_, i) => Math.sin(i / 5)); // one second
      const { value, ms } = timed(() => resample(y, rate, 22050));
      expect(value.length).toBe(22050);
      expect(value.every(Number.isFinite)).toBe(true);
      expect(ms).toBeLessThan(5000);
    }
  });
  it('raw samples at a rate outside the range are a ValueError', () => {
    expect(() => resample(new Float32Array(10), 1, 22050)).toThrow(/fromRate 1 Hz is outside the accepted/);
    expect(() => resample(new Float32Array(10), 22050, 10_000_000)).toThrow(/toRate 10000000 Hz is outside/);
    expect(() => resample(new Float32Array(10), 44100, 22050, { zeroCrossings: 1e6 })).toThrow(/invalid filter settings/);
  });
});

describe('no answer is made of NaN', () => {
  const model = () => {
    manualSeed(1);
    return new ser.EmotionCNN();
  };
  it('one 1e30 sample in a float WAV is a WavError naming the sample', () => {
    const y = new Float32Array(22050).map((_, i) => 0.1 * Math.sin(i / 9));
    y[1234] = 1e30;
    expect(() => decodeWav(encodeWav([y], 22050, '32f'))).toThrow(/sample 1234 of channel 0 is [\d.]+e\+30, over 10000/);
  });
  it('raw samples that are not finite or not audio are an AudioError, before any MFCC', () => {
    const r = new ser.EmotionRecognizer(model());
    const y = new Float32Array(22050).map((_, i) => 0.1 * Math.sin(i / 9));
    y[7] = NaN;
    expect(() => r.predict(y, { sampleRate: 22050 })).toThrow(/sample 7 is NaN, not a finite number/);
    y[7] = 1e30;
    expect(() => r.predict(y, { sampleRate: 22050 })).toThrow(AudioError);
  });
  it('weights holding NaN or Inf are refused at load, naming the tensor', () => {
    const sd = model().stateDict();
    const w = sd['fc1.weight']!.toArray();
    w[5] = NaN;
    const bytes = saveSafetensors({ ...sd, 'fc1.weight': tensor(w, sd['fc1.weight']!.shape) });
    expect(() => ser.EmotionRecognizer.fromSafetensors(bytes)).toThrow(StateDictError);
    expect(() => ser.EmotionRecognizer.fromSafetensors(bytes)).toThrow(/fc1\.weight\[5\] is NaN/);
  });
  it('a model whose weights turned non-finite after loading answers with an error, not NaN probabilities', () => {
    const m = model();
    const r = new ser.EmotionRecognizer(m);
    const b = m.fc2.bias!;
    b._assign(b._backend.fromArray(new Float32Array(8).fill(Infinity)));
    expect(() => r.predict(stageWav)).toThrow(/the model's output for clip 1 is (NaN|-?Infinity): its weights hold values that are not finite/);
  });
  it('a one-sample clip is too short to answer', () => {
    const r = new ser.EmotionRecognizer(model());
    expect(() => r.predict(new Float32Array([0.5]), { sampleRate: 22050 })).toThrow(/clip is 0\.000 s long: at least 0\.25 s is needed/);
  });
  it('a training step on a non-finite loss stops the run and names the batch', () => {
    const features = new Float32Array(4 * 40 * 174).fill(1);
    features[100] = NaN;
    manualSeed(1);
    expect(() => ser.train(new ser.EmotionCNN(), { features, labels: [0, 1, 2, 3] }, { epochs: 1, batchSize: 4 })).toThrow(/the loss is NaN at epoch 1, batch 1/);
  });
});

describe('WAV headers', () => {
  it('a format chunk shorter than 16 bytes is refused (its fields would be read from outside it)', () => {
    // RIFF, WAVE, a 15-byte 'fmt ' chunk (padded to 16), then a data chunk whose bytes would be read as bits per sample
    const fmt = new Uint8Array(16);
    new DataView(fmt.buffer).setUint16(0, 1, true);
    const bytes = new Uint8Array(12 + 8 + 16 + 8 + 4);
    const v = new DataView(bytes.buffer);
    const tag = (at: number, t: string) => bytes.set(new TextEncoder().encode(t), at);
    tag(0, 'RIFF');
    v.setUint32(4, bytes.length - 8, true);
    tag(8, 'WAVE');
    tag(12, 'fmt ');
    v.setUint32(16, 15, true);
    bytes.set(fmt, 20);
    tag(36, 'data');
    v.setUint32(40, 4, true);
    expect(() => decodeWav(bytes)).toThrow(/the format chunk has 15 bytes, fewer than the 16/);
  });
  it('a streamed WAV (RIFF and data sizes 0xFFFFFFFF) decodes to the end of the file', () => {
    const good = mono16(0.5, 22050);
    const streamed = patched(good, (v) => {
      v.setUint32(4, 0xffffffff, true);
      v.setUint32(40, 0xffffffff, true);
    });
    expect(decodeWav(streamed).channels[0]).toEqual(decodeWav(good).channels[0]);
    // and a byte cut from the end loses the half frame, not the file
    expect(decodeWav(streamed.subarray(0, streamed.length - 1)).channels[0]!.length).toBe(decodeWav(good).channels[0]!.length - 1);
  });
});

describe('weights files follow the safetensors specification strictly', () => {
  const small = () => ({ a: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5, 6], [2]) });
  /** A file from a hand-written header (the data section: eight float32 zeros unless given). */
  const file = (header: unknown, data = new Uint8Array(32), prefix = '') => {
    const h = new TextEncoder().encode(prefix + (typeof header === 'string' ? header : JSON.stringify(header)));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  const entry = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

  it('a tensor named like an Object.prototype member is a name: loadStateDict names it as unexpected', () => {
    const m = new nn.Linear(2, 2);
    const bytes = saveSafetensors({ ...m.stateDict(), constructor: tensor([1], [1]) });
    const { tensors } = loadSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(['bias', 'constructor', 'weight']);
    expect(() => m.loadStateDict(tensors)).toThrow(/unexpected keys: constructor/);
    expect(() => new nn.Linear(2, 2).loadStateDict({ weight: tensor([1, 2, 3, 4], [2, 2]) })).toThrow(/missing keys: bias/);
  });
  it('a tensor named __proto__ does not replace the result\'s prototype', () => {
    const { tensors } = loadSafetensors(file('{"__proto__":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}'));
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(tensors['__proto__']!.shape).toEqual([8]);
  });
  it('20,000 entries over the same bytes are refused at once (overlap), not decoded 20,000 times', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) header[`t${i}`] = entry(0, 32);
    const { ms } = timed(() => expect(() => loadSafetensors(file(header))).toThrow(/entries overlap/));
    expect(ms).toBeLessThan(2000);
  });
  it.each([
    ['a __metadata__ that is not an object', { __metadata__: 'x', a: entry(0, 32) }, /__metadata__ must be an object of strings/],
    ['a __metadata__ value that is not a string', { __metadata__: { input_mean: [1, 2] }, a: entry(0, 32) }, /__metadata__ value 'input_mean' must be a string/],
    ['three data_offsets', { a: { dtype: 'F32', shape: [8], data_offsets: [0, 32, 32] } }, /needs data_offsets \[begin, end\] of two/],
    ['a dtype that is not a string', { a: { dtype: ['F32'], shape: [8], data_offsets: [0, 32] } }, /unsupported dtype \["F32"\]/],
    ['an inherited name as dtype', { a: { dtype: 'constructor', shape: [8], data_offsets: [0, 32] } }, /unsupported dtype "constructor"/],
    ['an extra field in an entry', { a: { ...entry(0, 32), extra: 1 } }, /exactly dtype, shape and data_offsets/],
    ['a gap in the data', { a: entry(0, 16), b: entry(20, 32, [3]) }, /leave a gap/],
    ['data not covered', { a: entry(0, 16) }, /cover 16 of the 32 data bytes/],
  ])('%s is a SafetensorsError', (_, header, message) => {
    expect(() => loadSafetensors(file(header))).toThrow(SafetensorsError);
    expect(() => loadSafetensors(file(header))).toThrow(message);
  });
  it('a byte-order mark before the header is refused', () => {
    expect(() => loadSafetensors(file({ a: entry(0, 32) }, undefined, '\ufeff'))).toThrow(/does not start with '\{'/);
    expect(loadSafetensors(file({ a: entry(0, 32) })).tensors.a!.shape).toEqual([8]);
  });

  it('fuzz: 1500 mutations of a small file load or fail with a SafetensorsError, each within 100 ms', () => {
    const base = saveSafetensors(small(), { metadata: { note: 'fuzz' } });
    const rng = new Generator(20);
    let loaded = 0;
    for (let trial = 0; trial < 1500; trial++) {
      let bytes = base.slice();
      const kind = trial % 3;
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) bytes[rng.int(kind === 0 ? Math.min(bytes.length, 120) : bytes.length)] = rng.int(256);
      if (kind === 2) bytes = bytes.slice(0, rng.int(bytes.length + 1));
      const t0 = performance.now();
      try {
        const { tensors } = loadSafetensors(bytes);
        for (const t of Object.values(tensors)) expect(t.size).toBeLessThanOrEqual(bytes.length);
        loaded++;
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw new Error(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      expect(performance.now() - t0).toBeLessThan(100);
    }
    expect(loaded).toBeGreaterThan(0); // some mutations only touch the data: those still load
  });
});

describe('training verifies what it reads', () => {
  const toy = () => {
    const g = new Generator(3);
    const features = new Float32Array(8 * 40 * 174).map((_, j) => (j % 174 < 150 ? g.normal() + 30 : 0));
    return { features, labels: [0, 1, 2, 3, 4, 5, 6, 7] };
  };
  const checkpoint = (opts: Partial<ser.TrainOptions> = {}) => {
    manualSeed(2);
    let ckpt: Uint8Array | null = null;
    ser.train(new ser.EmotionCNN(), toy(), { epochs: 1, batchSize: 4, seed: 1, ...opts, onEpoch: (_, save) => (ckpt = save()) });
    return ckpt!;
  };
  const resume = (bytes: Uint8Array, opts: Partial<ser.TrainOptions> = {}) => {
    manualSeed(2);
    return ser.train(new ser.EmotionCNN(), toy(), { epochs: 2, batchSize: 4, seed: 1, ...opts, resume: bytes });
  };

  it('a checkpoint with one value changed, or an edited epoch, is refused as damaged', () => {
    const good = checkpoint();
    expect(resume(good).length).toBe(1);
    const { tensors, metadata } = loadSafetensors(good);
    const w = tensors['model.fc2.bias']!.toArray();
    w[0] = NaN;
    expect(() => resume(saveSafetensors({ ...tensors, 'model.fc2.bias': tensor(w, [8]) }, { metadata }))).toThrow(/damaged or was edited/);
    expect(() => resume(saveSafetensors(tensors, { metadata: { ...metadata, epoch: '0' } }))).toThrow(/damaged or was edited/);
  });
  it('--resume with another seed, learning rate, batch size, data or recipe part is refused, saying which', () => {
    const good = checkpoint();
    expect(() => resume(good, { seed: 2 })).toThrow(/other settings: seed 1, this run 2/);
    expect(() => resume(good, { lr: 1e-3 })).toThrow(/lr 0\.0005, this run 0\.001/);
    expect(() => resume(good, { batchSize: 8 })).toThrow(/batchSize 4, this run 8/);
    expect(() => resume(good, { labelSmoothing: 0.1 })).toThrow(/labelSmoothing 0, this run 0\.1/);
    expect(() => resume(good, { augment: {} })).toThrow(/augment none, this run/);
    const other = toy();
    other.features[0] = 31;
    manualSeed(2);
    expect(() => ser.train(new ser.EmotionCNN(), other, { epochs: 2, batchSize: 4, seed: 1, resume: good })).toThrow(/clips 8 clips, features [0-9a-f]{8}/);
  });
  it('fuzz: 40 mutations of a checkpoint resume or fail with a typed error, each within 2 s', () => {
    const good = checkpoint();
    const rng = new Generator(21);
    let resumed = 0;
    for (let trial = 0; trial < 40; trial++) {
      const bytes = good.slice();
      for (let f = 0; f < 1 + rng.int(3); f++) bytes[trial % 2 ? rng.int(bytes.length) : rng.int(4000)] = rng.int(256);
      const t0 = performance.now();
      try {
        resume(bytes);
        resumed++; // a flip that changed nothing (a byte set to its own value)
      } catch (e) {
        if (!(e instanceof SerTsError)) throw new Error(`trial ${trial}: ${(e as Error).name}: ${(e as Error).message}`);
      }
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect(resumed).toBeLessThan(40);
  }, 120_000);

  it('a feature-cache entry that was damaged or filled with NaN is a miss, and the features are computed again', () => {
    const dir = tempDir();
    const cache = new FeatureCache(dir);
    const features = ser.wavFeatures(stageWav);
    cache.put(stageWav, features);
    expect(cache.get(stageWav)).toEqual(features);
    const [sub] = readdirSync(dir);
    const [name] = readdirSync(join(dir, sub!));
    const path = join(dir, sub!, name!);
    const entry = readFileSync(path);
    // the same size, full of NaN: the checksum no longer matches
    const nan = Buffer.from(entry);
    new Float32Array(nan.buffer, nan.byteOffset + 32, 40 * 174).fill(NaN);
    writeFileSync(path, nan);
    expect(cache.get(stageWav)).toBeNull();
    // fuzz: 300 byte flips, each a miss or the very entry
    const rng = new Generator(22);
    for (let trial = 0; trial < 300; trial++) {
      const b = Buffer.from(entry);
      b[rng.int(b.length)] = rng.int(256);
      writeFileSync(path, b);
      const got = cache.get(stageWav);
      if (got !== null) expect(got).toEqual(features);
    }
  });
  it('a clip whose samples are not audio is skipped with a warning naming it', () => {
    const dir = tempDir();
    const actor = join(dir, 'Actor_01');
    mkdirSync(actor);
    writeFileSync(join(actor, '03-01-05-01-01-01-01.wav'), stageWav);
    const y = new Float32Array(22050).map((_, i) => 0.1 * Math.sin(i / 9));
    y[99] = 1e30;
    writeFileSync(join(actor, '03-01-04-01-01-01-01.wav'), encodeWav([y], 22050, '32f'));
    const warnings: string[] = [];
    const data = extractFeatures(scanRavdess(dir), { warn: (m) => warnings.push(m) });
    expect(data.labels.length).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/skipping .*03-01-04-01-01-01-01\.wav: invalid WAV: sample 99 of channel 0 is [\d.]+e\+30/)]);
  });
  it('temporary files left by a killed run are removed; a live writer\'s are kept', () => {
    const dir = tempDir();
    writeFileAtomic(join(dir, 'w.safetensors'), new Uint8Array([1]));
    const dead = join(dir, 'w.safetensors.ckpt.tmp-999999999-0123abcd');
    const live = join(dir, `w.safetensors.ckpt.tmp-${process.ppid}-89abcdef`);
    writeFileSync(dead, 'half a checkpoint');
    writeFileSync(live, 'being written');
    expect(removeStaleTemps(dir)).toEqual([dead]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(dir, 'w.safetensors'))).toBe(true);
  });
});
