/** Mel scales and the triangular mel filterbank, as librosa.filters.mel. */
import { DEFAULT_N_FFT, LIBROSA_SAMPLE_RATE } from './defaults.js';
import { ValueError } from '../tensor/errors.js';

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOGSTEP = Math.log(6.4) / 27;

/** Hz → mel: Slaney's scale (linear below 1 kHz, logarithmic above) by default, or HTK's. */
export function hzToMel(f: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + f / 700);
  return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP : f / F_SP;
}

export function melToHz(m: number, htk = false): number {
  if (htk) return 700 * (Math.pow(10, m / 2595) - 1);
  return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

/** numpy.linspace(start, stop, num): start + i·step, with the last point exactly stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  if (num > 1) out[num - 1] = stop;
  return out;
}

export interface MelOptions {
  sampleRate?: number;
  nFft?: number;
  nMels?: number;
  fMin?: number;
  /** Defaults to sampleRate / 2. */
  fMax?: number;
  /** HTK's mel formula instead of Slaney's (default false). */
  htk?: boolean;
  /** 'slaney' divides each triangle by its width in Hz (constant energy per band); null leaves peaks at 1. */
  norm?: 'slaney' | null;
}

export interface MelFilterbank {
  /** Row-major [nMels, 1 + nFft/2], float32 like librosa's. */
  weights: Float32Array;
  nMels: number;
  bins: number;
  /** First and one-past-last nonzero bin of each band, so applying it skips the zeros. */
  ranges: Int32Array;
}

export function melFilterbank(opts: MelOptions = {}): MelFilterbank {
  const sr = opts.sampleRate ?? LIBROSA_SAMPLE_RATE;
  const nFft = opts.nFft ?? DEFAULT_N_FFT;
  const nMels = opts.nMels ?? 128;
  const fMin = opts.fMin ?? 0;
  const fMax = opts.fMax ?? sr / 2;
  const htk = opts.htk ?? false;
  const norm = opts.norm === undefined ? 'slaney' : opts.norm;
  if (!(sr > 0)) throw new ValueError(`melFilterbank: sampleRate must be positive, got ${sr}`);
  if (!Number.isInteger(nMels) || nMels < 1) throw new ValueError(`melFilterbank: nMels must be a positive integer, got ${nMels}`);
  if (!(fMin >= 0 && fMax > fMin && fMax <= sr / 2)) {
    throw new ValueError(`melFilterbank: need 0 ≤ fMin < fMax ≤ sampleRate/2, got fMin ${fMin}, fMax ${fMax}, sampleRate ${sr}`);
  }
  const bins = Math.floor(nFft / 2) + 1;
  const binHz = 1 / (nFft * (1 / sr)); // numpy.fft.rfftfreq's spacing, computed the same way
  const melPts = linspace(hzToMel(fMin, htk), hzToMel(fMax, htk), nMels + 2).map((m) => melToHz(m, htk));
  const weights = new Float32Array(nMels * bins);
  const ranges = new Int32Array(2 * nMels);
  for (let i = 0; i < nMels; i++) {
    const lowerW = melPts[i + 1]! - melPts[i]!;
    const upperW = melPts[i + 2]! - melPts[i + 1]!;
    const enorm = norm === 'slaney' ? 2 / (melPts[i + 2]! - melPts[i]!) : 1;
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const f = k * binHz;
      const lower = -(melPts[i]! - f) / lowerW;
      const upper = (melPts[i + 2]! - f) / upperW;
      // librosa stores the triangle in float32, then scales it by the float64 norm into float32
      const tri = Math.fround(Math.max(0, Math.min(lower, upper)));
      const w = norm === 'slaney' ? Math.fround(tri * enorm) : tri;
      weights[i * bins + k] = w;
      if (w !== 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    ranges[2 * i] = first < 0 ? 0 : first;
    ranges[2 * i + 1] = first < 0 ? 0 : last + 1;
  }
  return { weights, nMels, bins, ranges };
}

/** mel[m, t] = Σ_k W[m, k] · S[k, t] for a [bins, frames] spectrogram, as librosa. */
export function applyMel(fb: MelFilterbank, spec: Float32Array, frames: number): Float32Array {
  const out = new Float32Array(fb.nMels * frames);
  const acc = new Float64Array(frames);
  for (let m = 0; m < fb.nMels; m++) {
    acc.fill(0);
    const k0 = fb.ranges[2 * m]!;
    const k1 = fb.ranges[2 * m + 1]!;
    for (let k = k0; k < k1; k++) {
      const w = fb.weights[m * fb.bins + k]!;
      const row = k * frames;
      for (let t = 0; t < frames; t++) acc[t] += w * spec[row + t]!;
    }
    for (let t = 0; t < frames; t++) out[m * frames + t] = acc[t]!;
  }
  return out;
}

/** The same product on a frame-major [frames, bins] spectrogram, giving [frames, nMels]: every inner loop contiguous. */
export function applyMelFrames(fb: MelFilterbank, spec: Float32Array, frames: number): Float32Array {
  const { nMels, bins, weights, ranges } = fb;
  const out = new Float32Array(frames * nMels);
  for (let t = 0; t < frames; t++) {
    const row = t * bins;
    for (let m = 0; m < nMels; m++) {
      const w = m * bins;
      let acc = 0;
      for (let k = ranges[2 * m]!, k1 = ranges[2 * m + 1]!; k < k1; k++) acc += weights[w + k]! * spec[row + k]!;
      out[t * nMels + m] = acc;
    }
  }
  return out;
}
