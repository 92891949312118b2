/** Windowing and the short-time Fourier transform, as librosa.stft with center=True. */
import { DEFAULT_HOP, DEFAULT_N_FFT } from './defaults.js';
import { ValueError } from '../tensor/errors.js';
import { AudioError } from './errors.js';
import { type RealFftPair, realFftPair } from './fft-pair.js';

/** Periodic Hann window (scipy.signal.get_window('hann', n, fftbins=True)). */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

export interface StftOptions {
  /** FFT size (default 2048). Powers of two are fastest; any size works. */
  nFft?: number;
  /** Samples between frames (default 512). */
  hopLength?: number;
  /** Window samples (default: periodic Hann of nFft). */
  window?: ArrayLike<number>;
  /** Pad nFft/2 zeros on both sides so frame t is centred on sample t·hop (default true). */
  center?: boolean;
  /** 2 for the power spectrogram (default), 1 for magnitude. */
  power?: 1 | 2;
}

/** Checks a waveform as librosa's valid_audio does: non-empty and finite everywhere. */
export function checkAudio(y: ArrayLike<number>, what = 'audio'): void {
  if (y.length === 0) throw new AudioError(`${what}: the signal has no samples`);
  // v·0 is NaN exactly when v is NaN or infinite: one cheap pass, and a second only to name the sample
  let probe = 0;
  for (let i = 0; i < y.length; i++) probe += y[i]! * 0;
  if (probe === 0) return;
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i]!)) throw new AudioError(`${what}: sample ${i} is ${y[i]}, not a finite number`);
  }
}

export interface Spectrogram {
  /** Row-major [bins, frames], float32 like librosa's. */
  data: Float32Array;
  bins: number;
  frames: number;
}

/** The framing of an STFT: sizes, window and frame count, checked. */
export interface StftGeometry {
  nFft: number;
  hop: number;
  window: ArrayLike<number>;
  /** Zeros in front of the signal (nFft/2 when centred). */
  pad: number;
  frames: number;
  bins: number;
}

export function stftGeometry(y: ArrayLike<number>, opts: StftOptions = {}): StftGeometry {
  const nFft = opts.nFft ?? DEFAULT_N_FFT;
  const hop = opts.hopLength ?? DEFAULT_HOP;
  const center = opts.center ?? true;
  if (!Number.isInteger(nFft) || nFft < 2) throw new ValueError(`stft: nFft must be an integer ≥ 2, got ${nFft}`);
  if (!Number.isInteger(hop) || hop < 1) throw new ValueError(`stft: hopLength must be a positive integer, got ${hop}`);
  const window = opts.window ?? hannWindow(nFft);
  if (window.length !== nFft) throw new ValueError(`stft: window has ${window.length} samples, nFft is ${nFft}`);
  checkAudio(y, 'stft');
  const pad = center ? Math.floor(nFft / 2) : 0;
  const padded = y.length + 2 * pad;
  if (padded < nFft) throw new AudioError(`stft: ${y.length} samples are too few for nFft ${nFft} without centring`);
  return { nFft, hop, window, pad, frames: 1 + Math.floor((padded - nFft) / hop), bins: Math.floor(nFft / 2) + 1 };
}

/**
 * Transforms the frames of y two at a time (the last one twice when their number is odd) and
 * calls visit(pair, t, u) with frames t and u in the pair's spectra.
 */
export function forEachFramePair(y: ArrayLike<number>, g: StftGeometry, pair: RealFftPair, visit: (t: number, u: number) => void): void {
  const { hop, nFft, frames } = g;
  pair.setWindow(g.window);
  // the padded signal a stretch of frames at a time (an even number of them), so a long clip
  // never makes the pair hold all of it
  const perStretch = Math.max(2, 2 * Math.floor((STRETCH - nFft) / hop / 2));
  for (let t0 = 0; t0 < frames; t0 += perStretch) {
    const t1 = Math.min(frames, t0 + perStretch);
    pair.setSignal(y, g.pad, t0 * hop, (t1 - 1 - t0) * hop + nFft);
    for (let t = t0; t < t1; t += 2) {
      const u = Math.min(t + 1, t1 - 1);
      pair.forwardAt((t - t0) * hop, (u - t0) * hop);
      visit(t, u);
    }
  }
}

/** Samples of signal loaded into a pair at once (1 MiB of float64). */
const STRETCH = 1 << 17;

/**
 * |STFT|^power frame by frame: row-major [frames, bins], each frame's bins contiguous. The FFT
 * runs in float64 (as numpy's) and each bin is rounded to complex64 before the magnitude, as
 * librosa does, so values agree to float32 rounding.
 */
export function spectrogramFrames(y: ArrayLike<number>, opts: StftOptions = {}): Spectrogram {
  const power = opts.power ?? 2;
  const g = stftGeometry(y, opts);
  const { bins, frames } = g;
  const data = new Float32Array(bins * frames);
  const pair = realFftPair(g.nFft);
  forEachFramePair(y, g, pair, (t, u) => pair.power(data, t * bins, data, u * bins, power === 2));
  return { data, bins, frames };
}

/** |STFT|^power as librosa returns it: row-major [1 + nFft/2, frames]. */
export function spectrogram(y: ArrayLike<number>, opts: StftOptions = {}): Spectrogram {
  const s = spectrogramFrames(y, opts);
  return { data: transpose(s.data, s.frames, s.bins), bins: s.bins, frames: s.frames };
}

/** Row-major rows×cols → cols×rows, in cache-sized tiles. */
export function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(rows, r0 + B);
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c]!;
    }
  }
  return out;
}
