/**
 * Real FFTs of two frames at a time, the unit of work of the STFT and of the resampler's
 * overlap-save filter. Where the engine has WebAssembly SIMD (and `setSimd` has not turned it off)
 * both frames go through one pass of the SIMD transform (simd.ts); elsewhere through two
 * scalar RealFft calls. Both give bit-identical results.
 *
 * The signal, spectra and outputs live in buffers the pair owns: callers load a signal once, call
 * `forwardAt` for each two frames of it and read `spec` (or `power`, `mel`), or go back with
 * `inverse` and read the two output frames.
 */
import { ValueError } from '../tensor/errors.js';
import { simdEnabled } from '../wasm/simd.js';
import { RealFft } from './fft.js';
import { type MelFilterbank, applyMelFrames } from './mel.js';
import { type AudioExports, audioModule } from './simd.js';

export interface RealFftPair {
  /** Real FFT size and its bin count, n/2 + 1. */
  readonly n: number;
  readonly bins: number;
  /** The two outputs of `inverse`, n float64 samples each. */
  readonly frameA: Float64Array;
  readonly frameB: Float64Array;
  /** Both spectra, interleaved: bin k of frame s (0: A, 1: B) is spec[4k + s] + i·spec[4k + 2 + s]. */
  readonly spec: Float64Array;
  /** Samples are multiplied by this window as `forwardAt` reads them (default: none). */
  setWindow(window: ArrayLike<number>): void;
  /**
   * Loads the stretch of signal `forwardAt` frames, in float64: samples [from, from + length) of
   * `front` zeros, then y, then zeros. Callers load long signals a stretch at a time (memory held
   * by a pair stays small). Call after `setMel`, which may reuse the signal's memory.
   */
  setSignal(y: ArrayLike<number>, front: number, from: number, length: number): void;
  /** Spectra of the frames starting at samples a and b of the loaded stretch into `spec`. */
  forwardAt(a: number, b: number): void;
  /** |X|² (or |X| when not squared) of each bin, rounded as librosa rounds, into two float32 rows. */
  power(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void;
  /** Multiplies both spectra by one complex response per bin (set once with `setFilter`). */
  setFilter(re: ArrayLike<number>, im: ArrayLike<number>): void;
  applyFilter(): void;
  /** Real signals of both spectra (irfft, scaled by 1/n) into the frames. */
  inverse(): void;
  /** The mel filterbank `mel` applies (its bins must be this pair's); unloads the signal. */
  setMel(fb: MelFilterbank): void;
  /** The mel power of both spectra (as `power`, then the filterbank, as applyMelFrames) into two float32 rows. */
  mel(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void;
}

function checkMel(fb: MelFilterbank, bins: number): void {
  if (fb.bins !== bins) throw new ValueError(`mel filterbank has ${fb.bins} bins, the FFT gives ${bins}`);
}

/** dst ← samples [from, from + dst.length) of `front` zeros, then y, then zeros. */
function fillStretch(dst: Float64Array, y: ArrayLike<number>, front: number, from: number): void {
  dst.fill(0);
  const j0 = Math.max(from, front);
  const j1 = Math.min(from + dst.length, front + y.length);
  if (j1 <= j0) return;
  const part = 'subarray' in y ? (y as Float32Array).subarray(j0 - front, j1 - front) : Array.prototype.slice.call(y, j0 - front, j1 - front);
  dst.set(part, j0 - from);
}

function checkFrames(a: number, b: number, n: number, length: number): void {
  if (!(a >= 0 && b >= 0 && Math.max(a, b) + n <= length)) throw new ValueError(`forwardAt(${a}, ${b}): frames of ${n} samples outside the ${length}-sample signal`);
}

/** 16-byte aligned regions of the SIMD pair's memory, in bytes. */
function layout(n: number) {
  const h = n / 2;
  const bins = h + 1;
  const sizes = { data: h * 32, tw: h * 16, rt: h * 16, rev: h * 4, win: n * 8, a: n * 8, b: n * 8, spec: bins * 32, filt: bins * 16, powA: bins * 4, powB: bins * 4 };
  const at = {} as Record<keyof typeof sizes, number>;
  let end = 0;
  for (const [k, size] of Object.entries(sizes)) {
    at[k as keyof typeof sizes] = end;
    end += Math.ceil(size / 16) * 16;
  }
  return { at, bytes: end };
}

class SimdPair implements RealFftPair {
  readonly bins: number;
  frameA!: Float64Array;
  frameB!: Float64Array;
  spec!: Float64Array;
  private readonly h: number;
  private readonly x: AudioExports;
  private readonly at: ReturnType<typeof layout>['at'];
  /** Where the mel filterbank's regions start: after everything else, so growing moves nothing. */
  private readonly melAt: number;
  /** The signal's place (after the mel regions) and length in samples. */
  private signalAt = 0;
  private signalLength = 0;
  private window!: Float64Array;
  private filt!: Float64Array;
  private powA!: Float32Array;
  private powB!: Float32Array;
  private melFb: MelFilterbank | null = null;
  private melRows!: Float32Array;

  constructor(module: WebAssembly.Module, readonly n: number) {
    this.h = n / 2;
    this.bins = this.h + 1;
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as AudioExports;
    const { at, bytes } = layout(n);
    this.at = at;
    this.melAt = bytes;
    this.grow(bytes);
    const real = new RealFft(n);
    const radix = real.halfRadix!;
    const tw = new Float64Array(this.x.memory.buffer, at.tw, this.h * 2);
    const rt = new Float64Array(this.x.memory.buffer, at.rt, this.h * 2);
    const rev = new Int32Array(this.x.memory.buffer, at.rev, this.h);
    for (let i = 0; i < this.h; i++) {
      tw[2 * i] = radix.wr[i]!;
      tw[2 * i + 1] = radix.wi[i]!;
      rt[2 * i] = real.cr[i]!;
      rt[2 * i + 1] = real.ci[i]!;
      rev[i] = 32 * radix.rev[i]!;
    }
    this.window.fill(1);
  }

  /** Grows the memory to `bytes` and re-creates the views (growing detaches the old ones). */
  private grow(bytes: number): void {
    const memory = this.x.memory;
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    const { at, n, bins } = this;
    const f64 = (offset: number, length: number) => new Float64Array(memory.buffer, offset, length);
    this.window = f64(at.win, n);
    this.frameA = f64(at.a, n);
    this.frameB = f64(at.b, n);
    this.spec = f64(at.spec, 4 * bins);
    this.filt = f64(at.filt, 2 * bins);
    this.powA = new Float32Array(memory.buffer, at.powA, bins);
    this.powB = new Float32Array(memory.buffer, at.powB, bins);
    if (this.melFb) this.melRows = new Float32Array(memory.buffer, this.melRegions(this.melFb).rows, 2 * this.melFb.nMels);
  }

  /** Mel regions: [weights (float32) | ranges (int32) | powers (float64 pairs) | two rows (float32)]. */
  private melRegions(fb: MelFilterbank) {
    const align = (b: number) => Math.ceil(b / 16) * 16;
    const weights = this.melAt;
    const ranges = weights + align(fb.weights.length * 4);
    const pow = ranges + align(fb.ranges.length * 4);
    const rows = pow + this.bins * 16;
    return { weights, ranges, pow, rows, end: rows + align(2 * fb.nMels * 4) };
  }

  setMel(fb: MelFilterbank): void {
    checkMel(fb, this.bins);
    this.signalLength = 0;
    if (this.melFb === fb) return;
    const r = this.melRegions(fb);
    this.melFb = fb;
    this.grow(r.end);
    const buffer = this.x.memory.buffer;
    new Float32Array(buffer, r.weights, fb.weights.length).set(fb.weights);
    new Int32Array(buffer, r.ranges, fb.ranges.length).set(fb.ranges);
  }

  mel(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void {
    const fb = this.melFb;
    if (!fb) throw new ValueError('SimdPair.mel: call setMel first');
    const r = this.melRegions(fb);
    this.x.mel(this.at.spec, this.bins, r.weights, r.ranges, fb.nMels, r.rows, r.rows + 4 * fb.nMels, r.pow, squared ? 1 : 0);
    outA.set(this.melRows.subarray(0, fb.nMels), offA);
    outB.set(this.melRows.subarray(fb.nMels), offB);
  }

  setWindow(window: ArrayLike<number>): void {
    this.window.set(window);
  }

  setSignal(y: ArrayLike<number>, front: number, from: number, length: number): void {
    this.signalAt = this.melFb ? this.melRegions(this.melFb).end : this.melAt;
    this.grow(this.signalAt + length * 8);
    fillStretch(new Float64Array(this.x.memory.buffer, this.signalAt, length), y, front, from);
    this.signalLength = length;
  }

  forwardAt(a: number, b: number): void {
    checkFrames(a, b, this.n, this.signalLength);
    const { at, x, h } = this;
    x.pack(at.data, at.rev, at.win, this.signalAt + 8 * a, this.signalAt + 8 * b, h);
    x.fft(at.data, h, at.tw);
    x.untangle(at.data, at.rt, at.spec, h);
  }

  power(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void {
    this.x.power(this.at.spec, this.bins, this.at.powA, this.at.powB, squared ? 1 : 0);
    outA.set(this.powA, offA);
    outB.set(this.powB, offB);
  }

  setFilter(re: ArrayLike<number>, im: ArrayLike<number>): void {
    for (let k = 0; k < this.bins; k++) {
      this.filt[2 * k] = re[k]!;
      this.filt[2 * k + 1] = im[k]!;
    }
  }

  applyFilter(): void {
    this.x.multiply(this.at.spec, this.at.filt, this.bins);
  }

  inverse(): void {
    const { at, x, h } = this;
    x.retangle(at.spec, at.rt, at.data, at.rev, h);
    x.fft(at.data, h, at.tw);
    x.unpack(at.data, at.a, at.b, h, 1 / h);
  }
}

/** Two RealFft calls per pair, for engines without SIMD and sizes whose half is not a power of two. */
class ScalarPair implements RealFftPair {
  readonly bins: number;
  readonly frameA: Float64Array;
  readonly frameB: Float64Array;
  readonly spec: Float64Array;
  private readonly fft: RealFft;
  private window: Float64Array | undefined;
  private signal = new Float64Array(0);
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private filtRe: Float64Array;
  private filtIm: Float64Array;
  private melFb: MelFilterbank | null = null;
  private powRows: Float32Array | undefined;

  constructor(readonly n: number) {
    this.fft = new RealFft(n);
    this.bins = this.fft.bins;
    this.frameA = new Float64Array(n);
    this.frameB = new Float64Array(n);
    this.spec = new Float64Array(4 * this.bins);
    this.re = new Float64Array(this.bins);
    this.im = new Float64Array(this.bins);
    this.filtRe = new Float64Array(this.bins);
    this.filtIm = new Float64Array(this.bins);
  }

  setWindow(window: ArrayLike<number>): void {
    this.window = Float64Array.from(window);
  }

  setSignal(y: ArrayLike<number>, front: number, from: number, length: number): void {
    this.signal = new Float64Array(length);
    fillStretch(this.signal, y, front, from);
  }

  forwardAt(a: number, b: number): void {
    checkFrames(a, b, this.n, this.signal.length);
    const { re, im, spec } = this;
    for (let s = 0; s < 2; s++) {
      this.fft.transform(this.signal, re, im, s ? b : a, this.window);
      for (let k = 0; k < this.bins; k++) {
        spec[4 * k + s] = re[k]!;
        spec[4 * k + 2 + s] = im[k]!;
      }
    }
  }

  power(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void {
    const { spec } = this;
    for (let s = 0; s < 2; s++) {
      const out = s ? outB : outA;
      const off = s ? offB : offA;
      for (let k = 0; k < this.bins; k++) {
        const r = Math.fround(spec[4 * k + s]!);
        const q = Math.fround(spec[4 * k + 2 + s]!);
        const mag = Math.fround(Math.sqrt(r * r + q * q));
        out[off + k] = squared ? mag * mag : mag;
      }
    }
  }

  setFilter(re: ArrayLike<number>, im: ArrayLike<number>): void {
    this.filtRe = Float64Array.from(re);
    this.filtIm = Float64Array.from(im);
  }

  applyFilter(): void {
    const { spec, filtRe, filtIm } = this;
    for (let k = 0; k < this.bins; k++) {
      for (let s = 0; s < 2; s++) {
        const xr = spec[4 * k + s]!;
        const xi = spec[4 * k + 2 + s]!;
        spec[4 * k + s] = xr * filtRe[k]! - xi * filtIm[k]!;
        spec[4 * k + 2 + s] = xr * filtIm[k]! + xi * filtRe[k]!;
      }
    }
  }

  setMel(fb: MelFilterbank): void {
    checkMel(fb, this.bins);
    this.melFb = fb;
    this.signal = new Float64Array(0);
  }

  mel(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void {
    const fb = this.melFb;
    if (!fb) throw new ValueError('ScalarPair.mel: call setMel first');
    const pow = (this.powRows ??= new Float32Array(2 * this.bins));
    this.power(pow, 0, pow, this.bins, squared);
    const mel = applyMelFrames(fb, pow, 2);
    outA.set(mel.subarray(0, fb.nMels), offA);
    outB.set(mel.subarray(fb.nMels), offB);
  }

  inverse(): void {
    const { re, im, spec } = this;
    for (let s = 0; s < 2; s++) {
      for (let k = 0; k < this.bins; k++) {
        re[k] = spec[4 * k + s]!;
        im[k] = spec[4 * k + 2 + s]!;
      }
      this.fft.inverse(re, im, s ? this.frameB : this.frameA);
    }
  }
}

const simdPairs = new Map<number, SimdPair>();

/**
 * A pair transform of real size n (even): the SIMD one when it is on and n/2 is a power of two,
 * else the scalar one. SIMD pairs are cached per size (one wasm instance each), so a caller owns
 * the pair only until its function returns: never hold one across calls that may also use it.
 */
export function realFftPair(n: number): RealFftPair {
  const h = n / 2;
  const module = simdEnabled() && Number.isInteger(h) && h >= 1 && (h & (h - 1)) === 0 ? audioModule() : null;
  if (!module) return new ScalarPair(n);
  let pair = simdPairs.get(n);
  if (!pair) simdPairs.set(n, (pair = new SimdPair(module, n)));
  pair.setWindow(new Float64Array(n).fill(1));
  return pair;
}
