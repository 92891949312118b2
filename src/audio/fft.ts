/**
 * FFTs, written out: an iterative radix-2 complex FFT with precomputed twiddles and bit-reversal
 * table; a real-input FFT of size n computed with one complex FFT of size n/2; and Bluestein's
 * chirp-z algorithm for sizes that are not powers of two. All arithmetic is float64, as numpy's.
 */
import { ValueError } from '../tensor/errors.js';

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** In-place complex FFT of a power-of-two size. */
class Radix2 {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;

  constructor(readonly n: number) {
    this.cos = new Float64Array(n / 2);
    this.sin = new Float64Array(n / 2);
    for (let i = 0; i < n / 2; i++) {
      this.cos[i] = Math.cos((2 * Math.PI * i) / n);
      this.sin[i] = -Math.sin((2 * Math.PI * i) / n);
    }
    this.rev = new Uint32Array(n);
    const bits = Math.log2(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.rev[i] = r;
    }
  }

  /** Forward transform (e^{-2πi kn/N}) of re + i·im, in place. */
  transform(re: Float64Array, im: Float64Array): void {
    const { n, rev, cos, sin } = this;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        let t = re[i]!; re[i] = re[j]!; re[j] = t;
        t = im[i]!; im[i] = im[j]!; im[j] = t;
      }
    }
    for (let size = 2; size <= n; size <<= 1) {
      const half = size >> 1;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0, t = 0; k < half; k++, t += step) {
          const a = start + k;
          const b = a + half;
          const wr = cos[t]!;
          const wi = sin[t]!;
          const xr = re[b]! * wr - im[b]! * wi;
          const xi = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - xr;
          im[b] = im[a]! - xi;
          re[a] = re[a]! + xr;
          im[a] = im[a]! + xi;
        }
      }
    }
  }
}

/** Complex FFT of any size: radix-2 when possible, Bluestein otherwise. */
export class ComplexFft {
  private readonly radix: Radix2 | null;
  private readonly blue: { m: number; fft: Radix2; wr: Float64Array; wi: Float64Array; br: Float64Array; bi: Float64Array } | null;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`FFT size must be a positive integer, got ${n}`);
    if (isPow2(n)) {
      this.radix = new Radix2(n);
      this.blue = null;
      return;
    }
    this.radix = null;
    // Bluestein: X_k = w*_k Σ (x_j w*_j) w_{k−j} with w_j = e^{iπ j²/n}, a convolution done by FFT
    let m = 1;
    while (m < 2 * n - 1) m <<= 1;
    const wr = new Float64Array(n);
    const wi = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const angle = (Math.PI * ((j * j) % (2 * n))) / n; // reduce j² mod 2n for accuracy
      wr[j] = Math.cos(angle);
      wi[j] = Math.sin(angle);
    }
    const br = new Float64Array(m);
    const bi = new Float64Array(m);
    br[0] = wr[0]!;
    bi[0] = wi[0]!;
    for (let j = 1; j < n; j++) {
      br[j] = br[m - j] = wr[j]!;
      bi[j] = bi[m - j] = wi[j]!;
    }
    const fft = new Radix2(m);
    fft.transform(br, bi);
    this.blue = { m, fft, wr, wi, br, bi };
  }

  /** Forward transform in place. */
  transform(re: Float64Array, im: Float64Array): void {
    if (this.radix) {
      this.radix.transform(re, im);
      return;
    }
    const { m, fft, wr, wi, br, bi } = this.blue!;
    const n = this.n;
    const ar = new Float64Array(m);
    const ai = new Float64Array(m);
    for (let j = 0; j < n; j++) {
      // a_j = x_j · conj(w_j)
      ar[j] = re[j]! * wr[j]! + im[j]! * wi[j]!;
      ai[j] = im[j]! * wr[j]! - re[j]! * wi[j]!;
    }
    fft.transform(ar, ai);
    for (let k = 0; k < m; k++) {
      const r = ar[k]! * br[k]! - ai[k]! * bi[k]!;
      const i = ar[k]! * bi[k]! + ai[k]! * br[k]!;
      // inverse via conjugation: ifft(z) = conj(fft(conj(z)))/m
      ar[k] = r;
      ai[k] = -i;
    }
    fft.transform(ar, ai);
    for (let k = 0; k < n; k++) {
      const r = ar[k]! / m;
      const i = -ai[k]! / m;
      re[k] = r * wr[k]! + i * wi[k]!;
      im[k] = i * wr[k]! - r * wi[k]!;
    }
  }
}

/**
 * Real-input FFT: n real samples → n/2 + 1 complex bins (numpy.fft.rfft). For even n it packs the
 * input as n/2 complex values, transforms once and untangles the even/odd halves.
 */
export class RealFft {
  readonly bins: number;
  private readonly half: ComplexFft | null;
  private readonly full: ComplexFft | null;
  private readonly cr: Float64Array;
  private readonly ci: Float64Array;
  private readonly zr: Float64Array;
  private readonly zi: Float64Array;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`FFT size must be a positive integer, got ${n}`);
    this.bins = Math.floor(n / 2) + 1;
    const even = n % 2 === 0 && n >= 2;
    this.half = even ? new ComplexFft(n / 2) : null;
    this.full = even ? null : new ComplexFft(n);
    const h = even ? n / 2 : n;
    this.zr = new Float64Array(h);
    this.zi = new Float64Array(h);
    this.cr = new Float64Array(h);
    this.ci = new Float64Array(h);
    for (let k = 0; k < h; k++) {
      this.cr[k] = Math.cos((2 * Math.PI * k) / n);
      this.ci[k] = -Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** Transforms x (length n) into outRe/outIm (length n/2 + 1). */
  transform(x: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array): void {
    const { n, zr, zi } = this;
    if (this.full) {
      for (let i = 0; i < n; i++) {
        zr[i] = x[i]!;
        zi[i] = 0;
      }
      this.full.transform(zr, zi);
      for (let k = 0; k < this.bins; k++) {
        outRe[k] = zr[k]!;
        outIm[k] = zi[k]!;
      }
      return;
    }
    const h = n / 2;
    for (let i = 0; i < h; i++) {
      zr[i] = x[2 * i]!;
      zi[i] = x[2 * i + 1]!;
    }
    this.half!.transform(zr, zi);
    // X_k = (Z_k + conj Z_{h−k})/2 + e^{−2πik/n} (Z_k − conj Z_{h−k})/(2i)
    for (let k = 0; k <= h; k++) {
      const a = k % h;
      const b = (h - k) % h;
      const er = (zr[a]! + zr[b]!) / 2;
      const ei = (zi[a]! - zi[b]!) / 2;
      const or = (zi[a]! + zi[b]!) / 2;
      const oi = -(zr[a]! - zr[b]!) / 2;
      const wr = k === h ? -1 : this.cr[k]!;
      const wi = k === h ? 0 : this.ci[k]!;
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }
}
