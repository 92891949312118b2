/**
 * FFTs, written out: an iterative radix-2 complex FFT with precomputed twiddles and bit-reversal
 * table; a real-input FFT of size n computed with one complex FFT of size n/2; and Bluestein's
 * chirp-z algorithm for sizes that are not powers of two. All arithmetic is float64, as numpy's.
 */
import { ValueError } from '../tensor/errors.js';

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * In-place complex FFT of a power-of-two size: bit-reversal permutation, one fused pass for the
 * first two stages (their twiddles are 1 and −i), then the remaining radix-2 stages two per pass,
 * with twiddles stored per stage so the inner loop reads them in order.
 */
export class Radix2 {
  /** Twiddles of stage `size` live at [size/2 − 1 + k] … for k < size/2 (cos and −sin). */
  readonly wr: Float64Array;
  readonly wi: Float64Array;
  readonly rev: Uint32Array;

  constructor(readonly n: number) {
    this.wr = new Float64Array(Math.max(1, n));
    this.wi = new Float64Array(Math.max(1, n));
    for (let size = 2; size <= n; size <<= 1) {
      const half = size >> 1;
      for (let k = 0; k < half; k++) {
        this.wr[half - 1 + k] = Math.cos((2 * Math.PI * k) / size);
        this.wi[half - 1 + k] = -Math.sin((2 * Math.PI * k) / size);
      }
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
    const { n, rev, wr, wi } = this;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        let t = re[i]!; re[i] = re[j]!; re[j] = t;
        t = im[i]!; im[i] = im[j]!; im[j] = t;
      }
    }
    let size = 2;
    if (n >= 4) {
      // stages 2 and 4 together: a radix-4 butterfly with twiddles 1 and −i
      for (let a = 0; a < n; a += 4) {
        const r0 = re[a]!, i0 = im[a]!, r1 = re[a + 1]!, i1 = im[a + 1]!;
        const r2 = re[a + 2]!, i2 = im[a + 2]!, r3 = re[a + 3]!, i3 = im[a + 3]!;
        const s0r = r0 + r1, s0i = i0 + i1, d0r = r0 - r1, d0i = i0 - i1;
        const s1r = r2 + r3, s1i = i2 + i3, d1r = r2 - r3, d1i = i2 - i3;
        re[a] = s0r + s1r; im[a] = s0i + s1i;
        re[a + 2] = s0r - s1r; im[a + 2] = s0i - s1i;
        // (d1r + i·d1i)·(−i) = d1i − i·d1r
        re[a + 1] = d0r + d1i; im[a + 1] = d0i - d1r;
        re[a + 3] = d0r - d1i; im[a + 3] = d0i + d1r;
      }
      size = 8;
    }
    // then two radix-2 stages per pass (half-sizes h and 2h over blocks of 4h): half the loads and
    // stores of one stage at a time, with the same four twiddle products per four points
    for (; 2 * size <= n; size <<= 2) {
      const h = size >> 1;
      const t1 = h - 1; // stage h's twiddles w_{2h}^k
      const t2 = size - 1; // stage 2h's twiddles w_{4h}^k
      for (let start = 0; start < n; start += 2 * size) {
        for (let k = 0; k < h; k++) {
          const a0 = start + k;
          const a1 = a0 + h;
          const a2 = a1 + h;
          const a3 = a2 + h;
          const w1r = wr[t1 + k]!, w1i = wi[t1 + k]!;
          const w2r = wr[t2 + k]!, w2i = wi[t2 + k]!;
          // stage h: (a0, a1) and (a2, a3)
          const x1r = re[a1]!, x1i = im[a1]!, x3r = re[a3]!, x3i = im[a3]!;
          const p1r = x1r * w1r - x1i * w1i, p1i = x1r * w1i + x1i * w1r;
          const p3r = x3r * w1r - x3i * w1i, p3i = x3r * w1i + x3i * w1r;
          const x0r = re[a0]!, x0i = im[a0]!, x2r = re[a2]!, x2i = im[a2]!;
          const y0r = x0r + p1r, y0i = x0i + p1i, y1r = x0r - p1r, y1i = x0i - p1i;
          const y2r = x2r + p3r, y2i = x2i + p3i, y3r = x2r - p3r, y3i = x2i - p3i;
          // stage 2h: (a0, a2) with w_{4h}^k, (a1, a3) with w_{4h}^{k+h} = −i·w_{4h}^k
          const u2r = y2r * w2r - y2i * w2i, u2i = y2r * w2i + y2i * w2r;
          const v3r = y3r * w2r - y3i * w2i, v3i = y3r * w2i + y3i * w2r;
          re[a0] = y0r + u2r; im[a0] = y0i + u2i;
          re[a2] = y0r - u2r; im[a2] = y0i - u2i;
          // (v3r + i·v3i)·(−i) = v3i − i·v3r
          re[a1] = y1r + v3i; im[a1] = y1i - v3r;
          re[a3] = y1r - v3i; im[a3] = y1i + v3r;
        }
      }
    }
    // an odd number of stages leaves one radix-2 stage
    for (; size <= n; size <<= 1) {
      const half = size >> 1;
      const tw = half - 1;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const a = start + k;
          const b = a + half;
          const cr = wr[tw + k]!;
          const ci = wi[tw + k]!;
          const br = re[b]!;
          const bi = im[b]!;
          const xr = br * cr - bi * ci;
          const xi = br * ci + bi * cr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - xr;
          im[b] = ai - xi;
          re[a] = ar + xr;
          im[a] = ai + xi;
        }
      }
    }
  }
}

/** Complex FFT of any size: radix-2 when possible, Bluestein otherwise. */
export class ComplexFft {
  /** The radix-2 transform, for power-of-two sizes. */
  readonly radix: Radix2 | null;
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
  /** e^{−2πik/n} for k < n/2: the untangling twiddles. */
  readonly cr: Float64Array;
  readonly ci: Float64Array;
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

  /** The half-size complex transform's radix-2 tables, when n/2 is a power of two. */
  get halfRadix(): Radix2 | null {
    return this.half?.radix ?? null;
  }

  /**
   * Transforms x[offset … offset + n) into outRe/outIm (length n/2 + 1), each sample multiplied by
   * window[i] when a window is given (so a frame is windowed as it is read, not copied first).
   */
  transform(x: ArrayLike<number>, outRe: Float64Array, outIm: Float64Array, offset = 0, window?: ArrayLike<number>): void {
    const { n, zr, zi } = this;
    if (this.full) {
      for (let i = 0; i < n; i++) {
        zr[i] = x[offset + i]! * (window ? window[i]! : 1);
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
    if (window) {
      for (let i = 0, j = offset; i < h; i++, j += 2) {
        zr[i] = x[j]! * window[2 * i]!;
        zi[i] = x[j + 1]! * window[2 * i + 1]!;
      }
    } else {
      for (let i = 0, j = offset; i < h; i++, j += 2) {
        zr[i] = x[j]!;
        zi[i] = x[j + 1]!;
      }
    }
    this.half!.transform(zr, zi);
    // X_k = E_k + e^{−2πik/n} O_k with E_k = (Z_k + conj Z_{h−k})/2, O_k = (Z_k − conj Z_{h−k})/(2i)
    outRe[0] = zr[0]! + zi[0]!;
    outIm[0] = 0;
    outRe[h] = zr[0]! - zi[0]!;
    outIm[h] = 0;
    const { cr, ci } = this;
    for (let k = 1; k < h; k++) {
      const b = h - k;
      const er = (zr[k]! + zr[b]!) * 0.5;
      const ei = (zi[k]! - zi[b]!) * 0.5;
      const or = (zi[k]! + zi[b]!) * 0.5;
      const oi = (zr[b]! - zr[k]!) * 0.5;
      const wr = cr[k]!;
      const wi = ci[k]!;
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }

  /**
   * Inverse of `transform` (numpy.fft.irfft for even n): n/2 + 1 bins → n real samples, scaled by
   * 1/n. Undoes the even/odd untangling, then one inverse complex FFT of size n/2.
   */
  inverse(re: ArrayLike<number>, im: ArrayLike<number>, out: Float64Array): void {
    const { n, zr, zi, cr, ci } = this;
    if (this.full) throw new ValueError('RealFft.inverse needs an even size');
    const h = n / 2;
    for (let k = 0; k < h; k++) {
      const b = h - k;
      // E_k = (X_k + conj X_{h−k})/2 and O_k = (X_k − conj X_{h−k})·e^{+2πik/n}/2; Z_k = E_k + i·O_k
      const er = (re[k]! + re[b]!) * 0.5;
      const ei = (im[k]! - im[b]!) * 0.5;
      const dr = (re[k]! - re[b]!) * 0.5;
      const di = (im[k]! + im[b]!) * 0.5;
      const wr = cr[k]!;
      const wi = -ci[k]!;
      const or = dr * wr - di * wi;
      const oi = dr * wi + di * wr;
      // inverse FFT via conjugation: store conj(Z)
      zr[k] = er - oi;
      zi[k] = -(ei + or);
    }
    this.half!.transform(zr, zi);
    const scale = 1 / h;
    for (let j = 0; j < h; j++) {
      out[2 * j] = zr[j]! * scale;
      out[2 * j + 1] = -zi[j]! * scale;
    }
  }
}
