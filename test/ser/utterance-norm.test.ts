/**
 * Per-utterance normalisation (utteranceNormalize) and the recipe, weights-file and recognizer
 * plumbing that carries it: statistics over the clip's speech frames, invariance to a level change
 * and to a channel's fixed colouring, padding left alone, and the combinations refused.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, ser } from '../../src/index.js';
import { Generator } from '../../src/tensor/random.js';

const T = 174;
const CLIP = 40 * T;

/** A clip of `frames` content frames: 20 quiet frames (c0 60 dB below), then "speech". */
function clip(frames = 150, seed = 1): Float32Array {
  const rng = new Generator(seed);
  const x = new Float32Array(CLIP);
  for (let r = 0; r < 40; r++) {
    for (let t = 0; t < frames; t++) {
      const quiet = t < 20;
      x[r * T + t] = r === 0 ? (quiet ? -900 : -300 + 20 * rng.normal()) : (quiet ? 0.5 : 5 + 3 * rng.normal());
    }
  }
  return x;
}

describe('utteranceNormalize', () => {
  it('standardises every coefficient over the speech frames; padding stays zero', () => {
    const x = clip();
    ser.utteranceNormalize(x);
    for (const r of [0, 7, 39]) {
      const speech = Array.from(x.subarray(r * T + 20, r * T + 150));
      const mean = speech.reduce((a, b) => a + b, 0) / speech.length;
      const sd = Math.sqrt(speech.reduce((a, b) => a + (b - mean) ** 2, 0) / speech.length);
      expect(mean).toBeCloseTo(0, 4);
      expect(sd).toBeCloseTo(1, 4);
      expect(Array.from(x.subarray(r * T + 150, (r + 1) * T)).every((v) => v === 0)).toBe(true);
    }
    // the quiet frames were left out of the statistics: far below the speech in c0
    expect(x[0]).toBeLessThan(-20);
  });
  it('a level change (c0 shifted) and a fixed channel colouring (each coefficient shifted) cancel', () => {
    const x = clip();
    const coloured = x.slice();
    for (let r = 0; r < 40; r++) for (let t = 0; t < 150; t++) coloured[r * T + t]! += r === 0 ? -30 * Math.sqrt(128) : 0.7 * Math.cos(r);
    const a = ser.utteranceNormalized(x);
    const b = ser.utteranceNormalized(coloured);
    for (let i = 0; i < CLIP; i++) expect(b[i]).toBeCloseTo(a[i]!, 3);
  });
  it('with too few loud frames every content frame counts; a silent clip stays zero', () => {
    const x = new Float32Array(CLIP);
    for (let r = 0; r < 40; r++) for (let t = 0; t < 30; t++) x[r * T + t] = r === 0 ? (t < 5 ? -200 : -900) : t;
    const y = ser.utteranceNormalized(x);
    const c0 = Array.from(y.subarray(0, 30));
    expect(c0.reduce((a, b) => a + b, 0) / 30).toBeCloseTo(0, 4);
    expect(ser.utteranceNormalized(new Float32Array(CLIP)).every((v) => v === 0)).toBe(true);
    expect(() => ser.utteranceNormalized(new Float32Array(10))).toThrow(/not a whole number of 40×174 clips/);
  });
});

describe('utterance normalisation in recipes, weights and recognizers', () => {
  const improved = () => ser.recipeByName('improved');
  it('recipes refuse it with speaker normalisation and with the gain augmentation', () => {
    const r = improved();
    r.utteranceNorm = true;
    expect(() => ser.checkRecipe(r)).toThrow(/'gain' shifts c0 after utterance normalisation.*--without gain/);
    const ok = ser.withoutComponents(improved(), ['gain']);
    ok.utteranceNorm = true;
    expect(ser.checkRecipe(ok).utteranceNorm).toBe(true);
    ok.speakerNorm = true;
    expect(() => ser.checkRecipe(ok)).toThrow(/utterance and speaker normalisation exclude each other/);
    const degraded = improved();
    degraded.sources.push({ kind: 'degraded', prob: 0.5, copies: 0 });
    expect(() => ser.checkRecipe(degraded)).toThrow(/source 'degraded': copies must be an integer from 1 to 16/);
  });
  it('the weights file records it; the recognizer applies it before the input normaliser', () => {
    manualSeed(4);
    const model = new ser.EmotionCNN();
    const bytes = ser.encodeWeights(model, { normalizer: null, utteranceNorm: true, speakerNorm: false, speakerPrior: null });
    const r = ser.EmotionRecognizer.fromBytes(bytes);
    expect(r.utteranceNorm).toBe(true);
    expect(ser.EmotionRecognizer.fromBytes(ser.encodeWeights(model, { normalizer: null, speakerNorm: false, speakerPrior: null })).utteranceNorm).toBe(false);
    // scoring a clip equals scoring its utterance-normalised copy with a recognizer that does not normalise
    const x = clip();
    const plain = new ser.EmotionRecognizer(model);
    expect(Array.from(r.scoreClips(x))).toEqual(Array.from(plain.scoreClips(ser.utteranceNormalized(x))));
    // so a level change does not move the answer
    const quieter = x.slice();
    for (let t = 0; t < 150; t++) quieter[t]! -= 20 * Math.sqrt(128);
    const p = r.scoreClips(x);
    r.scoreClips(quieter).forEach((v, i) => expect(v).toBeCloseTo(p[i]!, 4));
  });
});
