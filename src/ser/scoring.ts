/**
 * Scoring helpers shared by training, evaluation and prediction: the model's logits for many clips
 * in batches, softmax rows, and argmax.
 */
import { noGrad } from '../tensor/autograd.js';
import { ValueError } from '../tensor/errors.js';
import { tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/memory.js';
import { EMOTIONS } from './labels.js';
import { type EmotionCNN, N_FRAMES, N_MFCC } from './model.js';
import type { InputNorm } from './normalize.js';

export const CLIP = N_MFCC * N_FRAMES;
export const CLASSES = EMOTIONS.length;

/** Index of the largest of `k` values from `offset` (the first on ties). */
export function argmax(values: ArrayLike<number>, offset = 0, k = values.length - offset): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

/** argmax of each row of a row-major [n × k] array. */
export const argmaxRows = (values: ArrayLike<number>, k = CLASSES): number[] => Array.from({ length: values.length / k }, (_, i) => argmax(values, i * k, k));

/** Softmax of each row of [n × k] logits, in float64 (max-subtracted), as a new array. */
export function softmaxRows(logits: ArrayLike<number>, k = CLASSES): Float64Array {
  const out = new Float64Array(logits.length);
  for (let o = 0; o < logits.length; o += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += out[o + c] = Math.exp(logits[o + c]! - max);
    for (let c = 0; c < k; c++) out[o + c]! /= sum;
  }
  return out;
}

/**
 * Logits [n × classes] of n clips of [40 × 174] features, in eval mode without gradients, `batchSize`
 * at a time, each clip normalised by `normalizer` first (a copy; the input is untouched).
 */
export function clipLogits(model: EmotionCNN, features: Float32Array, batchSize = 64, normalizer: InputNorm | null = null): Float32Array {
  const x = normalizer ? normalizer.apply(features) : features;
  const n = x.length / CLIP;
  model.eval();
  const out = new Float32Array(n * CLASSES);
  for (let b = 0; b < n; b += batchSize) {
    const m = Math.min(batchSize, n - b);
    // a scope per batch: its activations (textures, on the GPU) are released as soon as the logits are read
    out.set(tidy(() => noGrad(() => model.forward(tensor(x.subarray(b * CLIP, (b + m) * CLIP), [m, 1, N_MFCC, N_FRAMES]))).toArray()), b * CLASSES);
  }
  // no answer is made of NaN: finite input and finite weights give finite logits, so say which is not
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const inputOk = x.every(Number.isFinite);
    throw new ValueError(`the model's output for clip ${Math.floor(bad / CLASSES) + 1} is ${out[bad]}: ${inputOk ? 'its weights hold values that are not finite' : 'its input is not finite'}`);
  }
  return out;
}
