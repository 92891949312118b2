/** MFCCs as librosa.feature.mfcc(y, sr, n_mfcc), and the fixed-width framing the model eats. */
import { ShapeError, ValueError, fmtShape } from '../tensor/errors.js';
import { Tensor, tensor } from '../tensor/tensor.js';
import { type DbOptions, powerToDbArray } from './db.js';
import { dctFrames } from './dct.js';
import { DEFAULT_N_FFT } from './defaults.js';
import { realFftPair } from './fft-pair.js';
import { type MelFilterbank, type MelOptions, melFilterbank } from './mel.js';
import { type StftOptions, forEachFramePair, hannWindow, stftGeometry } from './spectrum.js';

export interface MfccOptions extends Omit<StftOptions, 'power'>, Omit<MelOptions, 'nFft'>, DbOptions {
  /** Coefficients kept (default 40, as the original project). */
  nMfcc?: number;
}

// Filterbanks and windows depend only on the settings: build each once.
const filterbanks = new Map<string, MelFilterbank>();
const windows = new Map<number, Float64Array>();

function cachedFilterbank(o: MelOptions & { nFft: number }): MelFilterbank {
  const key = JSON.stringify([o.sampleRate, o.nFft, o.nMels, o.fMin, o.fMax, o.htk, o.norm]);
  let fb = filterbanks.get(key);
  if (!fb) {
    fb = melFilterbank(o);
    filterbanks.set(key, fb);
  }
  return fb;
}

/** The MFCC matrix as a row-major float32 array [nMfcc, frames]. */
export function mfccArray(y: ArrayLike<number>, opts: MfccOptions = {}): { data: Float32Array; nMfcc: number; frames: number } {
  const nFft = opts.nFft ?? DEFAULT_N_FFT;
  const nMfcc = opts.nMfcc ?? 40;
  const nMels = opts.nMels ?? 128;
  if (!Number.isInteger(nMfcc) || nMfcc < 1 || nMfcc > nMels) throw new ValueError(`mfcc: nMfcc must be in [1, nMels = ${nMels}], got ${nMfcc}`);
  let window = opts.window;
  if (!window) {
    window = windows.get(nFft);
    if (!window) windows.set(nFft, (window = hannWindow(nFft)));
  }
  // frame-major throughout, so every inner loop runs over contiguous memory; each pair of frames
  // goes from samples to mel bands in one step, without a spectrogram in between
  const g = stftGeometry(y, { nFft, hopLength: opts.hopLength, center: opts.center, window });
  const fb = cachedFilterbank({ sampleRate: opts.sampleRate, nFft, nMels, fMin: opts.fMin, fMax: opts.fMax, htk: opts.htk, norm: opts.norm });
  const mel = new Float32Array(g.frames * nMels);
  const pair = realFftPair(nFft);
  pair.setMel(fb);
  forEachFramePair(y, g, pair, (t, u) => pair.mel(mel, t * nMels, mel, u * nMels, true));
  const db = powerToDbArray(mel, opts); // elementwise, and topDb uses the global maximum: layout-free
  return { data: dctFrames(db, g.frames, nMels, nMfcc), nMfcc, frames: g.frames };
}

/**
 * Mel-frequency cepstral coefficients of a mono waveform, [nMfcc, frames], with librosa's
 * defaults: 22050 Hz, nFft 2048, hop 512, periodic Hann, centred frames with zero padding,
 * power 2, 128 Slaney mel bands with Slaney normalisation, powerToDb(ref 1, amin 1e-10,
 * topDb 80), orthonormal DCT-II, 40 coefficients.
 */
export function mfcc(y: ArrayLike<number>, opts: MfccOptions = {}): Tensor {
  const { data, nMfcc, frames } = mfccArray(y, opts);
  return tensor(data, [nMfcc, frames]);
}

/**
 * Columns [start, start + width) of a row-major [rows, frames] matrix, zero-padded on the right
 * past its last column: how a clip's MFCC is fitted to the model's 174 frames, and how a long
 * clip's windows are cut. Written into `out` at `at` when given (say, one window of a batch).
 */
export function frameWindow(
  m: { data: Float32Array; frames: number }, rows: number, start: number, width: number, out = new Float32Array(rows * width), at = 0,
): Float32Array {
  const keep = Math.max(0, Math.min(width, m.frames - start));
  for (let r = 0; r < rows; r++) out.set(m.data.subarray(r * m.frames + start, r * m.frames + start + keep), at + r * width);
  return out;
}

/** Zero-pads on the right or trims a [coefficients, frames] matrix to `frames` columns (default 174). */
export function fixFrames(m: Tensor, frames = 174): Tensor {
  if (m.ndim !== 2) throw new ShapeError(`fixFrames: expects [coefficients, frames], got ${fmtShape(m.shape)}`);
  if (!Number.isInteger(frames) || frames < 1) throw new ValueError(`fixFrames: frames must be a positive integer, got ${frames}`);
  const [rows, cols] = m.shape as [number, number];
  if (cols === frames) return m;
  return tensor(frameWindow({ data: m.toArray(), frames: cols }, rows, 0, frames), [rows, frames]);
}
