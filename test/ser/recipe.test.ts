/** The improved recipe's parts: normalisation, augmentation, noise, validation, schedule, ablations. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Generator, ValueError, audio, manualSeed, nn, noGrad, ops, optim, saveSafetensors, ser, tensor } from '../../src/index.js';
import { pickValidationActors, validationSplit } from '../../src/node.js';
import { expectClose, fixturePath } from '../helpers/fixtures.js';

const { EmotionCNN, InputNorm, contentFrames } = ser;
const CLIP = 40 * 174;
const stage = audio.load(readFileSync(fixturePath('audio/stage.wav')));

/** n clips of `frames` content frames each (the rest zero padding), row r around 10·r. */
function paddedClips(n: number, frames: number, seed = 1): Float32Array {
  const g = new Generator(seed);
  const x = new Float32Array(n * CLIP);
  for (let i = 0; i < n; i++) for (let r = 0; r < 40; r++) for (let t = 0; t < frames; t++) x[i * CLIP + r * 174 + t] = 10 * r + (r + 1) * g.normal();
  return x;
}

describe('input normalisation', () => {
  it('fits each coefficient on content frames only and leaves the padding at zero', () => {
    const x = paddedClips(6, 100);
    expect(contentFrames(x, 0)).toBe(100);
    expect(contentFrames(new Float32Array(CLIP), 0)).toBe(0);
    const norm = InputNorm.fit(x);
    expect(norm.mean[3]).toBeCloseTo(30, 0);
    expect(norm.std[3]).toBeCloseTo(4, 0);
    const y = norm.apply(x);
    for (const r of [0, 3, 39]) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < 6; i++) for (let t = 0; t < 100; t++) {
        const v = y[i * CLIP + r * 174 + t]!;
        s += v;
        s2 += v * v;
      }
      expect(s / 600).toBeCloseTo(0, 4);
      expect(s2 / 600).toBeCloseTo(1, 3);
      expect(y.subarray(r * 174 + 100, r * 174 + 174).every((v) => v === 0)).toBe(true);
    }
  });
  it('travels in the weights file metadata and is applied by the recognizer', () => {
    const norm = InputNorm.fit(paddedClips(3, 120));
    const back = InputNorm.fromMetadata(norm.toMetadata())!;
    expect(back.mean).toEqual(norm.mean);
    expect(back.std).toEqual(norm.std);
    expect(InputNorm.fromMetadata({})).toBeNull();
    expect(() => InputNorm.fromMetadata({ input_mean: '[1,2]', input_std: '[1,2]' })).toThrow(/40 values/);
    expect(() => InputNorm.fromMetadata({ input_mean: 'nope', input_std: '[]' })).toThrow(/not JSON/);
    expect(() => new InputNorm(new Float32Array(40), new Float32Array(40))).toThrow(/std must be finite and positive/);

    manualSeed(4);
    const model = new EmotionCNN();
    const bytes = saveSafetensors(model.stateDict(), { metadata: norm.toMetadata() });
    const withNorm = ser.EmotionRecognizer.fromSafetensors(bytes);
    const plain = new ser.EmotionRecognizer(model);
    const clip = stage.subarray(0, 70000);
    const expected = ser.predictLabels(model, norm.apply(ser.clipFeatures(clip)));
    const p = withNorm.predict(clip, { sampleRate: 22050 });
    expect(ser.EMOTIONS.indexOf(p.label!)).toBe(expected[0]);
    expect(p.probabilities).not.toEqual(plain.predict(clip, { sampleRate: 22050 }).probabilities);
  });
});

describe('speaker normalisation', () => {
  it('standardises each speaker with their own statistics', () => {
    // speaker 7 sits around 10·r, speaker 9 around 10·r + 50 with twice the spread
    const a = paddedClips(3, 100, 1);
    const b = paddedClips(2, 80, 2).map((v) => (v === 0 ? 0 : 2 * v + 50));
    const x = new Float32Array(5 * CLIP);
    x.set(a, 0);
    x.set(b, 3 * CLIP);
    const speakers = [7, 7, 7, 9, 9];
    const norms = ser.speakerNorms(x, speakers);
    expect([...norms.keys()].sort()).toEqual([7, 9]);
    expect(norms.get(9)!.mean[3]! - norms.get(7)!.mean[3]!).toBeCloseTo(2 * 30 + 50 - 30, -1);
    const y = ser.applySpeakerNorms(x, speakers, norms);
    for (const [from, n, frames] of [[0, 3, 100], [3, 2, 80]] as const) {
      let s = 0;
      let s2 = 0;
      for (let i = from; i < from + n; i++) for (let t = 0; t < frames; t++) {
        const v = y[i * CLIP + 5 * 174 + t]!;
        s += v;
        s2 += v * v;
      }
      expect(s / (n * frames)).toBeCloseTo(0, 4);
      expect(s2 / (n * frames)).toBeCloseTo(1, 3);
    }
    expect(y[3 * CLIP + 5 * 174 + 90]).toBe(0); // padding stays zero
    expect(() => ser.applySpeakerNorms(x, [7, 7, 7, 9, 8], norms)).toThrow(/no statistics for speaker 8/);

    // enrolment: K random clips of each speaker; K at least a speaker's count is all of them
    const all = ser.enrolmentNorms(x, speakers, 3, 5);
    for (const s of [7, 9]) {
      expect(all.get(s)!.mean).toEqual(norms.get(s)!.mean);
      expect(all.get(s)!.std).toEqual(norms.get(s)!.std);
    }
    const one = ser.enrolmentNorms(x, speakers, 1, 5).get(7)!;
    const single = [0, 1, 2].map((i) => InputNorm.fit(x.slice(i * CLIP, (i + 1) * CLIP)));
    expect(single.some((n) => n.mean.every((v, r) => v === one.mean[r]) && n.std.every((v, r) => v === one.std[r]))).toBe(true);
    expect(single.some((n) => n.mean[5] !== one.mean[5])).toBe(true); // it did pick one clip, not all
    expect(() => ser.enrolmentNorms(x, speakers, 0)).toThrow(/positive integer/);
  });

  it('shrinking toward a prior fitted on other frames is fitting on both pooled', () => {
    const a = paddedClips(2, 60, 3);
    const b = paddedClips(3, 100, 4).map((v) => (v === 0 ? 0 : 1.5 * v - 20));
    const both = new Float32Array(5 * CLIP);
    both.set(a, 0);
    both.set(b, 2 * CLIP);
    const own = InputNorm.fit(a);
    const prior = InputNorm.fit(b);
    expect(own.frames).toBe(120);
    expect(prior.frames).toBe(300);
    const pooled = InputNorm.fit(both);
    const shrunk = own.shrinkToward(prior, prior.frames);
    expect(shrunk.frames).toBe(420);
    for (let r = 0; r < 40; r++) {
      expect(shrunk.mean[r]).toBeCloseTo(pooled.mean[r]!, 3);
      expect(shrunk.std[r]).toBeCloseTo(pooled.std[r]!, 3);
    }
    // no weight on the prior: unchanged; all the weight: the prior
    expect(own.shrinkToward(prior, 0).mean).toEqual(own.mean);
    const far = own.shrinkToward(prior, 1e12);
    for (const r of [0, 7]) expect(far.mean[r]).toBeCloseTo(prior.mean[r]!, 3);
    expect(() => own.shrinkToward(prior, -1)).toThrow(/priorFrames/);
    expect(() => new InputNorm(own.mean, own.std).shrinkToward(prior, 0)).toThrow(/neither/);
    // enrolmentNorms with a prior shrinks each speaker's statistics the same way
    const speakers = [1, 1, 2, 2, 2];
    const shrunkAll = ser.enrolmentNorms(both, speakers, 5, 0, { norm: prior, frames: 50 }).get(1)!;
    const expected = InputNorm.fit(a).shrinkToward(prior, 50);
    expect(shrunkAll.mean).toEqual(expected.mean);
    expect(shrunkAll.std).toEqual(expected.std);
    // metadata under a prefix
    const meta = prior.toMetadata('speaker_prior');
    expect(Object.keys(meta).sort()).toEqual(['speaker_prior_mean', 'speaker_prior_std']);
    expect(InputNorm.fromMetadata(meta, 'speaker_prior')!.mean).toEqual(prior.mean);
    expect(InputNorm.fromMetadata(meta)).toBeNull();
  });

  it('weights trained with it predict only for an enrolled speaker, normalised as in training', () => {
    manualSeed(1);
    const model = new EmotionCNN();
    const bytes = saveSafetensors(model.stateDict(), { metadata: { speaker_norm: 'true' } });
    const r = ser.EmotionRecognizer.fromSafetensors(bytes);
    expect(r.speakerNormalized).toBe(true);
    const a = stage.subarray(0, 30000);
    const b = stage.subarray(30000, 70000);
    expect(() => r.predict(a, { sampleRate: 22050 })).toThrow(/speaker-normalised features.*enroll/);

    // the profile is InputNorm.fit over the enrolment clips' features
    const speaker = r.enroll([a, b], { sampleRate: 22050 });
    const both = new Float32Array(2 * CLIP);
    both.set(ser.clipFeatures(a), 0);
    both.set(ser.clipFeatures(b), CLIP);
    const expected = InputNorm.fit(both);
    for (let c = 0; c < 40; c++) {
      expect(speaker.mean[c]).toBeCloseTo(expected.mean[c]!, 4);
      expect(speaker.std[c]).toBeCloseTo(expected.std[c]!, 4);
    }
    // predict normalises the clip with it before the model
    const p = r.predict(a, { sampleRate: 22050, speaker });
    const x = ser.clipFeatures(a);
    speaker.applyClip(x, 0);
    model.eval();
    const logits = noGrad(() => model.forward(tensor(x, [1, 1, 40, 174]))).toArray();
    const e = Array.from(logits, (v) => Math.exp(v - Math.max(...logits)));
    ser.EMOTIONS.forEach((emotion, i) => expect(p.probabilities![emotion]).toBeCloseTo(e[i]! / e.reduce((s, v) => s + v, 0), 5));

    // with a prior in the weights, enrolment is shrunk toward it by priorSeconds of frames
    const prior = InputNorm.fit(paddedClips(2, 150, 9));
    const withPrior = ser.EmotionRecognizer.fromSafetensors(saveSafetensors(model.stateDict(), { metadata: { speaker_norm: 'true', ...prior.toMetadata('speaker_prior') } }));
    expect(withPrior.speakerPrior!.mean).toEqual(prior.mean);
    const shrunk = withPrior.enroll([a, b], { sampleRate: 22050 });
    const wanted = speaker.shrinkToward(prior, (ser.DEFAULT_PRIOR_SECONDS * 22050) / 512);
    for (const c of [0, 1, 20]) expect(shrunk.mean[c]).toBeCloseTo(wanted.mean[c]!, 3);
    expect(withPrior.enroll([a, b], { sampleRate: 22050, priorSeconds: 0 }).mean).toEqual(speaker.mean);
    expect(() => withPrior.enroll([a], { sampleRate: 22050, priorSeconds: -2 })).toThrow(/priorSeconds/);

    expect(() => r.enroll([])).toThrow(/at least one clip/);
    expect(() => r.enroll([a, new Float32Array(22050)], { sampleRate: 22050 })).toThrow(/clip 2: .*silent/);
    expect(() => r.enroll([a])).toThrow(/clip 1: .*sampleRate/);
    const plain = new ser.EmotionRecognizer(model);
    expect(() => plain.predict(a, { sampleRate: 22050, speaker })).toThrow(/not trained with speaker normalisation/);
  });
});

describe('augmentation', () => {
  const opts = ser.checkAugment({});
  const none = ser.checkAugment({ maxShift: 0, maxGainDb: 0, timeMasks: 0, coefMasks: 0 });

  it('a gain in the MFCC domain is exactly a gain of the waveform', () => {
    const clip = stage.subarray(0, 60000);
    const loud = clip.map((v) => v * 10 ** (4 / 20)); // +4 dB
    const a = ser.clipFeatures(clip);
    const b = ser.clipFeatures(loud);
    const frames = contentFrames(a, 0);
    // drive augmentClip with a generator whose first uniform() gives +4 dB: solve for it
    const fixed = { uniform: () => (4 / opts.maxGainDb + 1) / 2, int: () => 0 } as unknown as Generator;
    const shifted = a.slice();
    ser.augmentClip(shifted, 0, frames, fixed, { ...none, maxGainDb: opts.maxGainDb });
    let worst = 0;
    for (let i = 0; i < CLIP; i++) worst = Math.max(worst, Math.abs(shifted[i]! - b[i]!));
    expect(worst).toBeLessThan(2e-3); // float32 MFCC of two different waveforms, values up to ~500
    expect(Math.abs(a[0]! - b[0]!)).toBeGreaterThan(40); // and the gain did move c0
  });
  it('shift moves the content and pads with zeros; masks zero whole bands; all seeded', () => {
    const x = paddedClips(1, 150);
    const y = x.slice();
    const g = { uniform: () => 0.5, int: (n: number) => n - 1 } as unknown as Generator; // shift = +maxShift
    ser.augmentClip(y, 0, 150, g, { ...none, maxShift: 5 });
    expect(y.subarray(0, 5).every((v) => v === 0)).toBe(true);
    expect(y.subarray(5, 155)).toEqual(x.subarray(0, 150));
    expect(y.subarray(155, 174).every((v) => v === 0)).toBe(true);

    const m = x.slice();
    ser.augmentClip(m, 0, 150, new Generator(3), { ...none, timeMasks: 1, maxTimeMask: 174, coefMasks: 1, maxCoefMask: 40 });
    const zeroCols = [...Array(150).keys()].filter((t) => [...Array(40).keys()].every((r) => m[r * 174 + t] === 0));
    const zeroRows = [...Array(40).keys()].filter((r) => m.subarray(r * 174, r * 174 + 150).every((v) => v === 0));
    expect(zeroCols.length + zeroRows.length).toBeGreaterThan(0);
    const again = x.slice();
    ser.augmentClip(again, 0, 150, new Generator(3), { ...none, timeMasks: 1, maxTimeMask: 174, coefMasks: 1, maxCoefMask: 40 });
    expect(again).toEqual(m);
  });
  it('bad settings are errors that name them', () => {
    expect(() => ser.checkAugment({ maxShift: -1 })).toThrow(/maxShift/);
    expect(() => ser.checkAugment({ timeMasks: 1.5 })).toThrow(/timeMasks must be an integer/);
    expect(() => ser.checkAugment({ maxCoefMask: 41 })).toThrow(/wider than/);
  });
  it('noisy copies have the requested SNR', () => {
    const y = stage.subarray(0, 44100);
    const n = ser.noisyWaveform(y, 20, new Generator(1));
    let ps = 0;
    let pn = 0;
    for (let i = 0; i < y.length; i++) {
      ps += y[i]! ** 2;
      pn += (n[i]! - y[i]!) ** 2;
    }
    expect(10 * Math.log10(ps / pn)).toBeCloseTo(20, 0);
    expect(() => ser.noisyWaveform(y, Number.NaN, new Generator(1))).toThrow(ValueError);
  });
});

describe('validation split', () => {
  const actors = [...Array(24 * 3).keys()].map((i) => 1 + (i % 24));
  const labels = actors.map((_, i) => i % 8);
  it('takes one male and one female actor from the training side, never a test actor', () => {
    const split = ser.EMOBOX_FOLDS[0]!;
    const trainIdx = actors.map((a, i) => (split.includes(a) ? -1 : i)).filter((i) => i >= 0);
    const v = validationSplit(trainIdx, labels, actors, { byActor: true, seed: 0 });
    expect(v.valActors.length).toBe(2);
    expect(v.valActors.filter((a) => a % 2 === 1).length).toBe(1);
    expect(v.valActors.some((a) => split.includes(a))).toBe(false);
    expect(v.validation.every((i) => v.valActors.includes(actors[i]!))).toBe(true);
    expect(v.train.some((i) => v.valActors.includes(actors[i]!))).toBe(false);
    expect(v.train.length + v.validation.length).toBe(trainIdx.length);
    expect(pickValidationActors([1, 2, 3, 4], 0)).toEqual(pickValidationActors([4, 3, 2, 1], 0));
    expect(() => pickValidationActors([1, 2], 0)).toThrow(/none would be left/);
    expect(validationSplit(trainIdx, labels, actors, { byActor: true, valActors: [5] }).valActors).toEqual([5]);
  });
  it('with the random protocol, a stratified tenth of the training clips', () => {
    const idx = [...Array(160).keys()];
    const v = validationSplit(idx, idx.map((i) => i % 8), idx.map(() => 1), { byActor: false });
    expect(v.validation.length).toBe(16);
    expect(new Set(v.validation.map((i) => i % 8)).size).toBe(8);
  });
});

describe('recipes', () => {
  it('the original recipe is the original project; ablations switch single parts off', () => {
    expect(ser.RECIPES.original).toMatchObject({ epochs: 40, batchSize: 32, lr: 5e-4, normalize: false, sources: [], augment: [], loss: { labelSmoothing: 0, balance: false }, validation: false });
    const r = ser.withoutComponents(ser.recipeByName('improved'), ['masks', 'smoothing']);
    expect(r.name).toBe('improved without masks, smoothing');
    expect(r.loss.labelSmoothing).toBe(0);
    expect(ser.augmentOptions(r.augment)).toMatchObject({ timeMasks: 0, coefMasks: 0, maxShift: 10, maxGainDb: 6 });
    expect(ser.augmentOptions(ser.withoutComponents(ser.recipeByName('improved'), ['shift', 'gain', 'masks']).augment)).toBeNull();
    expect(ser.withoutComponents(ser.recipeByName('improved'), ['noise']).sources).toEqual([]);
    expect(() => ser.withoutComponents(r, ['dropout'])).toThrow(/unknown recipe component 'dropout'/);
    expect(() => ser.recipeByName('heavy')).toThrow(/one of original, improved/);
    expect(ser.RECIPES.improved.normalize).toBe(true); // recipeByName hands out copies
  });
  it('the improved recipe augments as it always did', () => {
    expect(ser.augmentOptions(ser.RECIPES.improved.augment)).toEqual({ maxShift: 10, maxGainDb: 6, timeMasks: 1, maxTimeMask: 10, coefMasks: 1, maxCoefMask: 3 });
    expect(ser.RECIPES.improved.sources).toEqual([{ kind: 'noisy', prob: 0.3, snrDb: [15, 35] }]);
  });
  it('checkRecipe is where a recipe is validated, and its errors name the recipe and the field', () => {
    const r = () => ser.recipeByName('improved');
    expect(ser.checkRecipe(r())).toBeTruthy();
    const bad: [(x: ser.Recipe) => void, RegExp][] = [
      [(x) => (x.epochs = 0), /recipe 'improved': epochs must be a positive integer/],
      [(x) => (x.lr = -1), /lr must be a positive number/],
      [(x) => (x.deltas = 3 as 2), /deltas must be 0, 1 or 2/],
      [(x) => (x.loss.labelSmoothing = 1), /labelSmoothing must be in \[0, 1\)/],
      [(x) => (x.sources[0]!.prob = 2), /source 'noisy': prob must be in \[0, 1\]/],
      [(x) => x.sources.push({ kind: 'enrolled', prob: 0.5, copies: 2 }), /needs speaker normalisation/],
      [(x) => x.sources.push({ kind: 'noisy', prob: 0.5, snrDb: [10, 20] }), /each kind of source may appear once/],
      [(x) => x.sources.push({ kind: 'degraded', prob: 0.5, copies: 0 }), /source 'degraded': copies must be an integer from 1 to 16/],
      [(x) => x.sources.push({ kind: 'degraded', prob: 1.5, copies: 2 }), /source 'degraded': prob must be in \[0, 1\]/],
      [(x) => x.augment.push({ kind: 'shift', frames: 3 }), /each kind of augmentation may appear once/],
      [(x) => (x.augment[0] = { kind: 'shift', frames: 1.5 }), /augmentation 'shift'/],
      [(x) => (x.schedule = 'step' as 'cosine'), /schedule/],
    ];
    for (const [change, message] of bad) {
      const x = r();
      change(x);
      expect(() => ser.checkRecipe(x)).toThrow(message);
    }
  });
});

function toyData(n: number, seed: number) {
  const g = new Generator(seed);
  const features = new Float32Array(n * CLIP);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 8;
    labels.push(c);
    for (let j = 0; j < CLIP - 20; j++) if (j % 174 < 150) features[i * CLIP + j] = g.normal() * 0.5 + (Math.floor(j / 174 / 5) === c ? 2 : 0) + 30;
  }
  return { features, labels };
}

/**
 * Trains once straight through and once killed after epoch `stopAfter` (its checkpoint written)
 * then resumed into a fresh model, and expects the same weights bit for bit.
 */
function expectExactResume(data: ser.TrainData, opts: () => ser.TrainOptions, stopAfter: number): void {
  const run = (stop: number | null) => {
    manualSeed(2);
    const model = new EmotionCNN();
    let ckpt: Uint8Array | null = null;
    const killed = new Error('killed');
    try {
      ser.train(model, data, { ...opts(), onEpoch: (s, save) => {
        ckpt = save();
        if (s.epoch === stop) throw killed; // the process dies after writing its checkpoint
      } });
    } catch (e) {
      if (e !== killed) throw e;
    }
    if (stop === null) return model;
    manualSeed(99);
    const resumed = new EmotionCNN();
    ser.train(resumed, data, { ...opts(), resume: ckpt! });
    return resumed;
  };
  const straight = run(null).stateDict();
  const resumed = run(stopAfter).stateDict();
  for (const [k, t] of Object.entries(straight)) expect(resumed[k]!.toArray(), k).toEqual(t.toArray());
}

describe('training with the improved recipe', () => {
  const data = toyData(24, 4);
  const validation = toyData(16, 5);
  const normalizer = InputNorm.fit(data.features);
  const opts = (): ser.TrainOptions => ({
    epochs: 3, batchSize: 8, seed: 3, lr: 1e-3, normalizer, augment: {}, sources: [{ copies: [toyData(24, 6).features], prob: 0.5 }], labelSmoothing: 0.1,
    schedule: 'cosine', validation,
  });

  it('keeps the best validation epoch, follows the cosine schedule and reports validation metrics', () => {
    manualSeed(2);
    const model = new EmotionCNN();
    const h = ser.train(model, data, opts());
    expect(h.map((s) => s.lr)).toEqual([1e-3, 1e-3 * 0.75, 1e-3 * 0.25].map((v) => expect.closeTo(v, 12)));
    const kept = ser.keptEpoch(h)!;
    expect(h.every((s) => s.valUar! <= kept.valUar!)).toBe(true);
    const pred = ser.predictLabels(model, validation.features, 64, normalizer);
    expect(ser.evaluate(validation.labels, pred, 8).uar).toBe(kept.valUar);
  });
  it('stops after `patience` epochs without a better validation UAR', () => {
    manualSeed(2);
    const h = ser.train(new EmotionCNN(), data, { ...opts(), epochs: 12, patience: 1, lr: 0 });
    expect(h.length).toBe(2); // lr 0: nothing improves after the first epoch
  });
  it('resumes exactly, augmentation, noise and the best epoch included', () => {
    expectExactResume(data, opts, 2);
  });
  it('rejects mismatched copies and bad settings', () => {
    const m = new EmotionCNN();
    expect(() => ser.train(m, data, { epochs: 1, sources: [{ copies: [new Float32Array(10)], prob: 0.5 }] })).toThrow(/every copy of source 1 needs/);
    expect(() => ser.train(m, data, { epochs: 1, sources: [{ copies: [data.features], prob: 2 }] })).toThrow(/source 1's prob must be in \[0, 1\]/);
    expect(() => ser.train(m, data, { epochs: 1, sources: [{ copies: [], prob: 0.5 }] })).toThrow(/source 1 has no copies/);
    expect(() => ser.train(m, data, { epochs: 1, schedule: 'step' as 'cosine' })).toThrow(/schedule/);
    expect(() => ser.train(m, data, { epochs: 1, patience: 0 })).toThrow(/patience/);
  });
});

describe('class-balanced loss', () => {
  it('weights n / (classes · n_c): each class weighs the same in total', () => {
    expect(ser.balancedClassWeights([0, 0, 1, 2, 2, 2], 3)).toEqual([1, 2, 6 / 9]);
    expect(ser.balancedClassWeights([0, 0, 2], 3)).toEqual([0.5, 0, 1]);
    expect(() => ser.balancedClassWeights([0, 3], 3)).toThrow(/label 3 is not a class index/);
  });
  it('train uses them: equal weights are the unweighted run, unequal ones change it', () => {
    const data = toyData(16, 4);
    const run = (classWeights: number[] | null) => {
      manualSeed(2);
      const model = new EmotionCNN();
      ser.train(model, data, { epochs: 1, batchSize: 8, seed: 1, classWeights });
      return model.stateDict()['conv1.weight']!.toArray();
    };
    const plain = run(null);
    const equal = run(new Array(8).fill(2.5));
    for (let i = 0; i < plain.length; i++) expect(equal[i]).toBeCloseTo(plain[i]!, 5);
    expect(Math.max(...run([4, 1, 1, 1, 1, 1, 1, 1]).map((v, i) => Math.abs(v - plain[i]!)))).toBeGreaterThan(1e-5);
    expect(() => run([1, 1])).toThrow(/2 class weights for 8 classes/);
  });
});

describe('gain augmentation on rescaled features', () => {
  it('c0Scale shrinks the gain per clip: ±6 dB at scale 1/2 is ±3 dB at scale 1', () => {
    const data = toyData(16, 4);
    const gainOnly = (db: number) => ({ maxShift: 0, timeMasks: 0, coefMasks: 0, maxGainDb: db });
    const run = (opts: Partial<ser.TrainOptions>) => {
      manualSeed(2);
      const model = new EmotionCNN();
      ser.train(model, data, { epochs: 1, batchSize: 8, seed: 1, ...opts });
      return model.stateDict()['conv1.weight']!.toArray();
    };
    const half = run({ augment: gainOnly(6), c0Scale: new Array(16).fill(0.5) });
    expect(half).toEqual(run({ augment: gainOnly(3) }));
    expect(half).not.toEqual(run({ augment: gainOnly(6) }));
    expect(() => run({ c0Scale: [1] })).toThrow(/1 c0 scales for 16 clips/);
  });
});

describe('other sources of training clips', () => {
  it('a source is drawn with its prob: at 1 training sees only its copies, at 0 it is the clean run', () => {
    const data = toyData(16, 4);
    const other = toyData(16, 9).features; // stands in for clips normalised from a few enrolment clips
    const run = (d: ser.TrainData, opts: Partial<ser.TrainOptions>) => {
      manualSeed(2);
      const model = new EmotionCNN();
      ser.train(model, d, { epochs: 1, batchSize: 8, seed: 1, ...opts });
      return model.stateDict()['conv1.weight']!.toArray();
    };
    const clean = run(data, {});
    expect(run(data, { sources: [{ copies: [other], prob: 0 }] })).toEqual(clean);
    expect(run(data, { sources: [{ copies: [other], prob: 1 }] })).toEqual(run({ features: other, labels: data.labels }, {}));
    // in order: a first source at probability 1 leaves nothing to the second
    expect(run(data, { sources: [{ copies: [other], prob: 1 }, { copies: [data.features], prob: 1 }] })).toEqual(run({ features: other, labels: data.labels }, {}));
  });
});

