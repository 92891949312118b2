/** The SER application: labels, splits, metrics, features, prediction, training and resume. */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator, StateDictError, audio, manualSeed, noGrad, saveSafetensors, ser, tensor } from '../../src/index.js';
import { BUNDLED_SPEAKER_NORM_WEIGHTS, DatasetError, FeatureCache, actorSplit, extractFeatures, foldSplit, loadModel, randomSplit, scanRavdess } from '../../src/node.js';
import { fixturePath } from '../helpers/fixtures.js';

const { EMOTIONS, parseRavdessName, EmotionCNN, EmotionRecognizer } = ser;
const stageWav = readFileSync(fixturePath('audio/stage.wav'));

describe('RAVDESS names and labels', () => {
  it('labels are alphabetical, as LabelEncoder orders them', () => {
    expect([...EMOTIONS]).toEqual([...EMOTIONS].sort());
  });
  it('parses the official file names', () => {
    expect(parseRavdessName('Actor_03/03-01-05-02-01-01-03.wav')).toEqual({
      emotion: 'angry', label: 0, intensity: 'strong', statement: 1, repetition: 1, actor: 3,
    });
    expect(parseRavdessName('03-01-01-01-02-02-24.WAV')?.emotion).toBe('neutral');
    expect(parseRavdessName('03-01-08-01-01-01-01.wav')?.label).toBe(7);
    for (const bad of ['03-02-05-02-01-01-03.wav', '03-01-09-01-01-01-01.wav', '03-01-05-01-01-01-25.wav', 'notes.txt', '03-01-05-02-01-01-03.flac']) {
      expect(parseRavdessName(bad), bad).toBeNull();
    }
  });
});

describe('splits', () => {
  const labels = Array.from({ length: 200 }, (_, i) => i % 8);
  it('random split is stratified, disjoint, complete and seeded', () => {
    const s = randomSplit(labels, 0.2, 42);
    expect(s.test.length).toBe(40);
    expect(new Set([...s.train, ...s.test]).size).toBe(200);
    for (let c = 0; c < 8; c++) expect(s.test.filter((i) => labels[i] === c).length).toBe(5);
    expect(randomSplit(labels, 0.2, 42)).toEqual(s);
    expect(randomSplit(labels, 0.2, 7)).not.toEqual(s);
  });
  it('folds never put a test actor in training, and cover every actor once', () => {
    const actors = Array.from({ length: 24 * 10 }, (_, i) => 1 + (i % 24));
    const seen = new Set<number>();
    for (let k = 1; k <= 6; k++) {
      const s = foldSplit(actors, k);
      const test = new Set(s.test.map((i) => actors[i]));
      expect(test.size).toBe(4);
      for (const i of s.train) expect(test.has(actors[i]!)).toBe(false);
      test.forEach((a) => seen.add(a));
    }
    expect(seen.size).toBe(24);
    expect(() => foldSplit(actors, 7)).toThrow(/fold must be 1–6/);
    expect(() => actorSplit([1, 2], [3])).toThrow(/none of actors 3/);
  });
});

describe('metrics', () => {
  it('accuracy, UAR, per-class precision/recall/F1 and the confusion matrix', () => {
    const r = ser.evaluate([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 2], 3);
    expect(r.accuracy).toBeCloseTo(4 / 6);
    expect(r.confusion).toEqual([[2, 1, 0], [1, 1, 0], [0, 0, 1]]);
    expect(r.perClass[0]).toEqual({ precision: 2 / 3, recall: 2 / 3, f1: 2 / 3, support: 3 });
    expect(r.uar).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3);
    const text = ser.formatReport(r, ['a', 'b', 'c']);
    expect(text).toMatch(/precision\s+recall\s+f1-score\s+support/);
    expect(text).toMatch(/UAR\s+0\.722/);
  });
});

describe('features and prediction', () => {
  it('features are the librosa MFCC fixed to 40×174', () => {
    const f = ser.wavFeatures(stageWav);
    const m = audio.fixFrames(audio.mfcc(audio.load(stageWav)));
    expect(f).toEqual(m.toArray());
  });

  manualSeed(5);
  const recognizer = new EmotionRecognizer(new EmotionCNN());

  const short = audio.encodeWav([audio.load(stageWav).subarray(0, 80000)], 22050); // 3.6 s: one window

  it('a clip of up to 174 frames is scored exactly as the original project scored it', () => {
    const p = recognizer.predict(short);
    expect(p.windows).toEqual([]);
    const logits = noGrad(() => recognizer.model.forward(tensor(ser.wavFeatures(short), [1, 1, 40, 174]))).toArray();
    const z = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - z));
    const sum = e.reduce((a, b) => a + b, 0);
    EMOTIONS.forEach((name, i) => expect(p.probabilities![name]).toBeCloseTo(e[i]! / sum, 6));
  });

  it('predict returns a label and probabilities keyed by emotion that sum to 1', () => {
    const p = recognizer.predict(short);
    expect(EMOTIONS).toContain(p.label);
    expect(Object.keys(p.probabilities!).sort()).toEqual([...EMOTIONS]);
    expect(Object.values(p.probabilities!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(p.label).toBe(Object.entries(p.probabilities!).sort((a, b) => b[1] - a[1])[0]![0]);
    expect(p.seconds).toBeCloseTo(80000 / 22050, 3);
  });
  it('raw samples at another rate give the same answer as the WAV', () => {
    const y48 = audio.resample(audio.load(stageWav), 22050, 48000);
    expect(recognizer.predict(y48, { sampleRate: 48000 }).label).toBe(recognizer.predict(stageWav).label);
    expect(() => recognizer.predict(y48)).toThrow(/sampleRate/);
  });
  it('a long clip is scored in 4-second windows and the windows are reported', () => {
    const y = audio.load(stageWav);
    const long = new Float32Array(y.length * 3);
    for (let i = 0; i < 3; i++) long.set(y, i * y.length);
    const p = recognizer.predict(long, { sampleRate: 22050 });
    expect(p.windows.length).toBeGreaterThanOrEqual(5);
    expect(p.windows[0]!.start).toBe(0);
    // the last window ends at the centre of the clip's last frame, within one hop of its end
    expect(long.length / 22050 - p.windows.at(-1)!.end).toBeGreaterThanOrEqual(0);
    expect(long.length / 22050 - p.windows.at(-1)!.end).toBeLessThan(512 / 22050);
    for (const w of p.windows.slice(0, -1)) expect(w.end - w.start).toBeCloseTo((173 * 512) / 22050, 6);
    const mean = EMOTIONS.map((e) => p.windows.reduce((s, w) => s + w.probabilities![e], 0) / p.windows.length);
    EMOTIONS.forEach((e, i) => expect(p.probabilities![e]).toBeCloseTo(mean[i]!, 6));
  });
  it('silence, noise and a tone hold no speech: no emotion, and no error; empty and non-audio input are errors', () => {
    let g = 7;
    const noise = new Float32Array(22050).map(() => ((g = (Math.imul(g, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1) * 0.3);
    const tone = new Float32Array(44100).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 22050));
    for (const [what, y] of [['silence', new Float32Array(22050)], ['white noise', noise], ['a tone', tone]] as const) {
      const p = recognizer.predict(y, { sampleRate: 22050 });
      expect(p, what).toMatchObject({ label: null, speech: false, probabilities: null });
    }
    // a long clip of noise: every window is marked, none is scored
    const long = recognizer.predict(new Float32Array(22050 * 9).map((_, i) => noise[i % 22050]!), { sampleRate: 22050 });
    expect(long.speech).toBe(false);
    expect(long.windows.length).toBeGreaterThan(2);
    expect(long.windows.every((w) => !w.speech && w.label === null && w.probabilities === null)).toBe(true);
    // speech still is speech
    expect(recognizer.predict(stageWav)).toMatchObject({ speech: true });
    expect(() => recognizer.predict(audio.encodeWav([new Float32Array(100).fill(1e-6)], 22050, '32f'))).toThrow(audio.AudioError);
    expect(() => recognizer.predict(new TextEncoder().encode('not audio'))).toThrow(audio.WavError);
  });
  it('weights that do not match the model are a StateDictError naming the keys', () => {
    const wrong = saveSafetensors({ 'fc1.weight': new EmotionCNN().fc2.weight });
    expect(() => EmotionRecognizer.fromSafetensors(wrong)).toThrow(StateDictError);
    expect(() => EmotionRecognizer.fromSafetensors(wrong)).toThrow(/fc1\.weight: expected \[128, 6720\], got \[8, 128\]/);
  });
});

describe('ensembles', () => {
  manualSeed(11);
  const a = new EmotionRecognizer(new EmotionCNN());
  const b = new EmotionRecognizer(new EmotionCNN({ deltas: 2 }), ser.InputNorm.fit(ser.wavFeatures(stageWav)));
  const y = audio.load(stageWav);
  const long = new Float32Array(y.length * 2);
  long.set(y, 0);
  long.set(y, y.length);

  it('average their members\' probabilities, window by window, the MFCC computed once', () => {
    const both = new ser.EmotionEnsemble([a, b]);
    for (const input of [stageWav, long]) {
      const opts = input instanceof Float32Array ? { sampleRate: 22050 } : {};
      const p = both.predict(input, opts);
      const pa = a.predict(input, opts);
      const pb = b.predict(input, opts);
      expect(pa.probabilities).not.toEqual(pb.probabilities);
      EMOTIONS.forEach((e) => expect(p.probabilities![e]).toBeCloseTo((pa.probabilities![e] + pb.probabilities![e]) / 2, 6));
      expect(p.label).toBe(Object.entries(p.probabilities!).sort((u, v) => v[1] - u[1])[0]![0]);
      expect(p.windows.length).toBe(pa.windows.length);
      p.windows.forEach((w, i) => EMOTIONS.forEach((e) => expect(w.probabilities![e]).toBeCloseTo((pa.windows[i]!.probabilities![e] + pb.windows[i]!.probabilities![e]) / 2, 6)));
    }
    expect(long.length / 22050).toBeGreaterThan(4.1); // the long clip has several windows
    expect(both.predict(long, { sampleRate: 22050 }).windows.length).toBeGreaterThan(1);
    // one member is that member
    expect(new ser.EmotionEnsemble([b]).predict(stageWav).probabilities).toEqual(b.predict(stageWav).probabilities);
  });
  it('scoreClips is the softmax of each clip (through the member\'s normaliser), averaged over members', () => {
    const short = audio.encodeWav([y.subarray(0, 80000)], 22050); // one window: predict scores it as scoreClips does
    const clips = new Float32Array(2 * 40 * 174);
    clips.set(ser.wavFeatures(short), 0);
    clips.set(ser.wavFeatures(audio.encodeWav([y.subarray(0, 60000)], 22050)), 40 * 174);
    const pa = a.scoreClips(clips);
    const pb = b.scoreClips(clips, 1);
    const one = b.predict(short).probabilities;
    EMOTIONS.forEach((e, c) => expect(pb[c]).toBeCloseTo(one![e], 6));
    const both = new ser.EmotionEnsemble([a, b]).scoreClips(clips);
    both.forEach((v, i) => expect(v).toBeCloseTo((pa[i]! + pb[i]!) / 2, 6));
    expect(() => a.scoreClips(new Float32Array(100))).toThrow(/whole number of 40×174 clips/);
  });
  it('refuse no members, members that disagree on speaker normalisation, and different speaker priors', () => {
    expect(() => new ser.EmotionEnsemble([])).toThrow(/at least one member/);
    const spk = loadModel(BUNDLED_SPEAKER_NORM_WEIGHTS);
    expect(() => new ser.EmotionEnsemble([a, spk])).toThrow(/member 2 was trained with speaker normalisation and member 1 without/);
    const other = EmotionRecognizer.fromSafetensors(readFileSync(BUNDLED_SPEAKER_NORM_WEIGHTS));
    other.speakerPrior = ser.InputNorm.fit(ser.wavFeatures(stageWav));
    expect(() => new ser.EmotionEnsemble([spk, other])).toThrow(/member 2's training speakers' statistics/);
    const twice = new ser.EmotionEnsemble([spk, EmotionRecognizer.fromSafetensors(readFileSync(BUNDLED_SPEAKER_NORM_WEIGHTS))]);
    expect(twice.speakerNormalized).toBe(true);
    expect(() => twice.predict(stageWav)).toThrow(/enroll/);
    const speaker = twice.enroll([stageWav]);
    expect(twice.predict(stageWav, { speaker }).probabilities).toEqual(spk.predict(stageWav, { speaker }).probabilities);
    expect(() => loadModel([])).toThrow(/at least one weights file/);
    expect(loadModel([BUNDLED_SPEAKER_NORM_WEIGHTS, BUNDLED_SPEAKER_NORM_WEIGHTS]).members.length).toBe(2);
  });
});

/** A tiny synthetic dataset the model can learn quickly: class c has energy in rows 5c…5c+4. */
function toyData(n: number, seed: number) {
  const g = new Generator(seed);
  const clip = 40 * 174;
  const features = new Float32Array(n * clip);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 8;
    labels.push(c);
    for (let j = 0; j < clip; j++) features[i * clip + j] = g.normal() * 0.5 + (Math.floor(j / 174 / 5) === c ? 2 : 0);
  }
  return { features, labels };
}

describe('training', () => {
  it('learns a separable toy problem', () => {
    manualSeed(1);
    const model = new EmotionCNN();
    const data = toyData(48, 3);
    const history = ser.train(model, data, { epochs: 4, batchSize: 16, lr: 2e-3, seed: 1 });
    expect(history.length).toBe(4);
    expect(history[3]!.loss).toBeLessThan(history[0]!.loss);
    const test = toyData(24, 9);
    const acc = ser.predictLabels(model, test.features).filter((p, i) => p === test.labels[i]).length / 24;
    expect(acc).toBeGreaterThan(0.8);
  });
  it('resuming from a checkpoint gives exactly the weights of an uninterrupted run', () => {
    const data = toyData(20, 4);
    const run = (stopAfter: number | null) => {
      manualSeed(2);
      const model = new EmotionCNN();
      let ckpt: Uint8Array | null = null;
      ser.train(model, data, {
        epochs: stopAfter ?? 2, batchSize: 8, seed: 3,
        onEpoch: (_, save) => (ckpt = save()),
      });
      if (stopAfter === null) return model;
      manualSeed(99); // a fresh process would not share the generator's state
      const resumed = new EmotionCNN();
      ser.train(resumed, data, { epochs: 2, batchSize: 8, seed: 3, resume: ckpt! });
      return resumed;
    };
    const straight = run(null).stateDict();
    const resumed = run(1).stateDict();
    for (const [k, t] of Object.entries(straight)) expect(resumed[k]!.toArray(), k).toEqual(t.toArray());
  });
  it('rejects inconsistent data', () => {
    expect(() => ser.train(new EmotionCNN(), { features: new Float32Array(10), labels: [0] }, { epochs: 1 })).toThrow(/feature values for 1 clips/);
    expect(() => ser.train(new EmotionCNN(), { features: new Float32Array(6960), labels: [9] }, { epochs: 1 })).toThrow(/label 9/);
  });
});

describe('dataset folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'ser-data-'));
  mkdirSync(join(root, 'Actor_03'));
  mkdirSync(join(root, 'Actor_04'));
  writeFileSync(join(root, 'Actor_03', '03-01-05-02-01-01-03.wav'), stageWav);
  writeFileSync(join(root, 'Actor_04', '03-01-04-01-01-01-04.wav'), audio.encodeWav([audio.load(stageWav).subarray(0, 30000)], 22050));
  writeFileSync(join(root, 'Actor_04', '03-01-02-01-01-01-04.wav'), new TextEncoder().encode('broken'));
  writeFileSync(join(root, 'Actor_04', 'README.txt'), 'not a clip');

  it('scans the official layout and skips unreadable clips with a warning that names them', () => {
    const items = scanRavdess(root);
    expect(items.map((i) => i.emotion)).toEqual(['angry', 'calm', 'sad']);
    const warnings: string[] = [];
    const cache = new FeatureCache(join(root, '.cache'));
    const d = extractFeatures(items, { cache, warn: (m) => warnings.push(m) });
    expect(d.labels).toEqual([0, 6]);
    expect(d.actors).toEqual([3, 4]);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/03-01-02-01-01-01-04\.wav: not a WAV file/);
    // the second run reads the cache: same features
    expect(extractFeatures(items, { cache, warn: () => {} }).features).toEqual(d.features);
    expect(cache.get(stageWav)).toEqual(d.features.subarray(0, 6960));
  });
  it('a missing folder and a folder without RAVDESS files are DatasetErrors', () => {
    expect(() => scanRavdess(join(root, 'nope'))).toThrow(DatasetError);
    expect(() => scanRavdess(join(root, 'Actor_03', '..', '.cache'))).toThrow(/no RAVDESS speech files/);
  });
});

describe('report page', () => {
  it('holds the metrics table, a k×k confusion heatmap and the training curves, with names escaped', () => {
    const r = ser.evaluate([0, 1, 1, 2], [0, 1, 2, 2], 3);
    const history = [1, 2, 3].map((epoch) => ({ epoch, epochs: 3, loss: 2 / epoch, accuracy: epoch / 4, seconds: 1, samplesPerSecond: 10, lr: 1e-3 }));
    const html = ser.renderReportHtml({ title: 'a <test>', names: ['x', 'y<z', 'w'], report: r, history });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('a &lt;test&gt;');
    expect(html).toContain('y&lt;z');
    expect(html).not.toContain('y<z');
    expect(html.match(/<rect [^>]*><title>/g)!.length).toBe(9);
    expect(html).toMatch(/UAR 83\.3%/);
    expect(html.match(/<polyline/g)!.length).toBe(2);
    expect(html.match(/points="([^"]*)"/)![1]!.split(' ').length).toBe(3);
  });
});
