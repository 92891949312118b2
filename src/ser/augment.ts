/**
 * Training-time augmentation, applied only to training clips after the split.
 *
 * Shift, gain and masks act on the (normalised) MFCC image, on the fly, each time a clip is drawn:
 * they are cheap there and, for gain, exact. Noise has to be added to the waveform, so noisy copies
 * of the training clips are computed once (`noisyWaveform`, then the usual features) and drawn in
 * place of the clean clip with some probability.
 */
import { ValueError } from '../tensor/errors.js';
import type { Generator } from '../tensor/random.js';
import { N_FRAMES, N_MFCC } from './model.js';

/** Mel bands under the MFCC's DCT: a gain of d dB adds d·√128 to c0 and nothing to the rest. */
const N_MELS = 128;

export interface AugmentOptions {
  /** Largest time shift in frames, either way; frames shifted in are padding (0). Default 20 (~0.46 s). */
  maxShift?: number;
  /** Largest gain change in dB, either way. Default 6. */
  maxGainDb?: number;
  /** SpecAugment-style time masks per clip, each up to `maxTimeMask` frames, set to 0 (the mean). Default 2 × 16. */
  timeMasks?: number;
  maxTimeMask?: number;
  /** Masks over up to `maxCoefMask` adjacent MFCC coefficients. Default 2 × 4. */
  coefMasks?: number;
  maxCoefMask?: number;
}

export const DEFAULT_AUGMENT: Required<AugmentOptions> = {
  maxShift: 20, maxGainDb: 6, timeMasks: 2, maxTimeMask: 16, coefMasks: 2, maxCoefMask: 4,
};

export function checkAugment(opts: AugmentOptions): Required<AugmentOptions> {
  const o = { ...DEFAULT_AUGMENT, ...opts };
  for (const [k, v] of Object.entries(o)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new ValueError(`augment: ${k} must be a non-negative number, got ${v}`);
  }
  for (const k of ['maxShift', 'timeMasks', 'maxTimeMask', 'coefMasks', 'maxCoefMask'] as const) {
    if (!Number.isInteger(o[k])) throw new ValueError(`augment: ${k} must be an integer, got ${o[k]}`);
  }
  if (o.maxTimeMask > N_FRAMES || o.maxCoefMask > N_MFCC) throw new ValueError(`augment: masks cannot be wider than the ${N_MFCC}×${N_FRAMES} image`);
  return o;
}

/**
 * Augments one [40 × 174] clip, in place, whose first `frames` frames are content (the rest padding).
 * `c0PerDb` converts a gain in dB into the change of coefficient 0 in the clip's units: √128 for raw
 * MFCC, √128 / std₀ after normalisation.
 */
export function augmentClip(
  x: Float32Array, offset: number, frames: number, rng: Generator, opts: Required<AugmentOptions>, c0PerDb = Math.sqrt(N_MELS),
): void {
  const shift = opts.maxShift ? rng.int(2 * opts.maxShift + 1) - opts.maxShift : 0;
  const gain = opts.maxGainDb ? (2 * rng.uniform() - 1) * opts.maxGainDb * c0PerDb : 0;
  if (shift !== 0 || gain !== 0) {
    const row = new Float32Array(N_FRAMES);
    for (let r = 0; r < N_MFCC; r++) {
      const o = offset + r * N_FRAMES;
      const add = r === 0 ? gain : 0;
      row.fill(0);
      for (let t = Math.max(0, shift); t < Math.min(N_FRAMES, frames + shift); t++) row[t] = x[o + t - shift]! + add;
      x.set(row, o);
    }
  }
  for (let m = 0; m < opts.timeMasks; m++) {
    const w = rng.int(opts.maxTimeMask + 1);
    const t0 = rng.int(N_FRAMES - w + 1);
    for (let r = 0; r < N_MFCC; r++) x.fill(0, offset + r * N_FRAMES + t0, offset + r * N_FRAMES + t0 + w);
  }
  for (let m = 0; m < opts.coefMasks; m++) {
    const w = rng.int(opts.maxCoefMask + 1);
    const r0 = rng.int(N_MFCC - w + 1);
    x.fill(0, offset + r0 * N_FRAMES, offset + (r0 + w) * N_FRAMES);
  }
}

/** c0 change per dB of gain for features normalised with coefficient-0 deviation `std0` (1: raw). */
export const c0PerDb = (std0 = 1) => Math.sqrt(N_MELS) / std0;

/**
 * `y` plus white Gaussian noise at `snrDb` below the clip's mean power (a new array). A silent clip
 * stays silent: there is no level to set the noise against.
 */
export function noisyWaveform(y: Float32Array, snrDb: number, rng: Generator): Float32Array {
  if (!Number.isFinite(snrDb)) throw new ValueError(`noisyWaveform: snrDb must be finite, got ${snrDb}`);
  let power = 0;
  for (let i = 0; i < y.length; i++) power += y[i]! * y[i]!;
  power /= Math.max(1, y.length);
  const sigma = Math.sqrt(power / 10 ** (snrDb / 10));
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i]! + sigma * rng.normal();
  return out;
}
