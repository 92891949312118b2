/**
 * Real FFTs of two frames at a time, the unit of work of the STFT and of the resampler's
 * overlap-save filter. Where the engine has WebAssembly SIMD (and `setSimd` has not turned it off)
 * both frames go through one pass of the SIMD transform (simd.ts); elsewhere through two
 * scalar RealFft calls. Both give bit-identical results.
 *
 * Frames, spectra and outputs live in buffers the pair owns: callers copy frames in, call
 * `forward`, and read `spec` (or `power`), or go back with `inverse` and read the frames.
 */
import { simdEnabled } from '../tensor/cpu/wasm/gemm.js';
import { RealFft } from './fft.js';
import { type AudioExports, audioModule } from './simd.js';

export interface RealFftPair {
  /** Real FFT size and its bin count, n/2 + 1. */
  readonly n: number;
  readonly bins: number;
  /** The two frames (n float64 samples each): the input of `forward`, the output of `inverse`. */
  readonly frameA: Float64Array;
  readonly frameB: Float64Array;
  /** Both spectra, interleaved: bin k of frame s (0: A, 1: B) is spec[4k + s] + i·spec[4k + 2 + s]. */
  readonly spec: Float64Array;
  /** Samples are multiplied by this window as `forward` reads them (default: none). */
  setWindow(window: ArrayLike<number>): void;
  /** Spectra of both frames into `spec`. */
  forward(): void;
  /** |X|² (or |X| when not squared) of each bin, rounded as librosa rounds, into two float32 rows. */
  power(outA: Float32Array, offA: number, outB: Float32Array, offB: number, squared: boolean): void;
  /** Multiplies both spectra by one complex response per bin (set once with `setFilter`). */
  setFilter(re: ArrayLike<number>, im: ArrayLike<number>): void;
  applyFilter(): void;
  /** Real signals of both spectra (irfft, scaled by 1/n) into the frames. */
  inverse(): void;
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
  readonly frameA: Float64Array;
  readonly frameB: Float64Array;
  readonly spec: Float64Array;
  private readonly h: number;
  private readonly x: AudioExports;
  private readonly at: ReturnType<typeof layout>['at'];
  private readonly window: Float64Array;
  private readonly filt: Float64Array;
  private readonly powA: Float32Array;
  private readonly powB: Float32Array;

  constructor(module: WebAssembly.Module, readonly n: number) {
    this.h = n / 2;
    this.bins = this.h + 1;
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as AudioExports;
    const { at, bytes } = layout(n);
    this.at = at;
    const memory = this.x.memory;
    if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    // the memory never grows again, so these views stay valid
    const f64 = (offset: number, length: number) => new Float64Array(memory.buffer, offset, length);
    const real = new RealFft(n);
    const radix = real.halfRadix!;
    const tw = f64(at.tw, this.h * 2);
    const rt = f64(at.rt, this.h * 2);
    const rev = new Int32Array(memory.buffer, at.rev, this.h);
    for (let i = 0; i < this.h; i++) {
      tw[2 * i] = radix.wr[i]!;
      tw[2 * i + 1] = radix.wi[i]!;
      rt[2 * i] = real.cr[i]!;
      rt[2 * i + 1] = real.ci[i]!;
      rev[i] = 32 * radix.rev[i]!;
    }
    this.window = f64(at.win, n).fill(1);
    this.frameA = f64(at.a, n);
    this.frameB = f64(at.b, n);
    this.spec = f64(at.spec, 4 * this.bins);
    this.filt = f64(at.filt, 2 * this.bins);
    this.powA = new Float32Array(memory.buffer, at.powA, this.bins);
    this.powB = new Float32Array(memory.buffer, at.powB, this.bins);
  }

  setWindow(window: ArrayLike<number>): void {
    this.window.set(window);
  }

  forward(): void {
    const { at, x, h } = this;
    x.pack(at.data, at.rev, at.win, at.a, at.b, h);
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
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private filtRe: Float64Array;
  private filtIm: Float64Array;

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

  forward(): void {
    const { re, im, spec } = this;
    for (let s = 0; s < 2; s++) {
      this.fft.transform(s ? this.frameB : this.frameA, re, im, 0, this.window);
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
