/** The orthonormal DCT-II, as scipy.fft.dct(x, type=2, norm='ortho'). */
import { ValueError } from '../tensor/errors.js';
import { scratchKernels } from './simd.js';

const cache = new Map<string, Float64Array>();

/** Rows k < nOut of the n-point orthonormal DCT-II matrix: √(2/n)·cos(πk(2j+1)/2n), row 0 scaled by 1/√2. */
export function dctMatrix(n: number, nOut = n): Float64Array {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(nOut) || nOut < 1 || nOut > n) {
    throw new ValueError(`dct: need 1 ≤ nOut ≤ n, got n ${n}, nOut ${nOut}`);
  }
  const key = `${n}:${nOut}`;
  let m = cache.get(key);
  if (!m) {
    m = new Float64Array(nOut * n);
    for (let k = 0; k < nOut; k++) {
      const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
      for (let j = 0; j < n; j++) m[k * n + j] = scale * Math.cos((Math.PI * k * (2 * j + 1)) / (2 * n));
    }
    cache.set(key, m);
  }
  return m;
}

/** DCT-II along the first axis of a row-major [n, cols] array, keeping the first nOut coefficients. */
export function dctRows(x: ArrayLike<number>, n: number, cols: number, nOut: number): Float32Array {
  const m = dctMatrix(n, nOut);
  const out = new Float32Array(nOut * cols);
  const acc = new Float64Array(cols);
  for (let k = 0; k < nOut; k++) {
    acc.fill(0);
    for (let j = 0; j < n; j++) {
      const c = m[k * n + j]!;
      const row = j * cols;
      for (let t = 0; t < cols; t++) acc[t] += c * x[row + t]!;
    }
    for (let t = 0; t < cols; t++) out[k * cols + t] = acc[t]!;
  }
  return out;
}

/**
 * DCT-II of each row of a frame-major [frames, n] array, keeping nOut coefficients and writing
 * them coefficient-major: the result is [nOut, frames], the layout librosa returns.
 */
export function dctFrames(x: ArrayLike<number>, frames: number, n: number, nOut: number): Float32Array {
  const m = dctMatrix(n, nOut);
  // the SIMD kernel reads float32 rows in pairs: the layout powerToDb hands over
  const simd = n % 2 === 0 && x instanceof Float32Array ? scratchKernels() : null;
  if (simd) {
    // memory: [matrix (float64) | x (float32) | out (float32)], frames a stretch at a time
    const out = new Float32Array(nOut * frames);
    const per = Math.max(1, Math.floor((1 << 19) / n));
    const mBytes = m.length * 8;
    for (let t0 = 0; t0 < frames; t0 += per) {
      const f = Math.min(per, frames - t0);
      const heap = simd.heap(mBytes + f * n * 4 + nOut * f * 4);
      new Float64Array(heap, 0, m.length).set(m);
      new Float32Array(heap, mBytes, f * n).set((x as Float32Array).subarray(t0 * n, (t0 + f) * n));
      simd.x.dct(mBytes, 0, f, n, nOut, mBytes + f * n * 4);
      const part = new Float32Array(heap, mBytes + f * n * 4, nOut * f);
      for (let k = 0; k < nOut; k++) out.set(part.subarray(k * f, (k + 1) * f), k * frames + t0);
    }
    return out;
  }
  const out = new Float32Array(nOut * frames);
  for (let t = 0; t < frames; t++) {
    const row = t * n;
    for (let k = 0; k < nOut; k++) {
      const c = k * n;
      let a0 = 0, a1 = 0;
      let j = 0;
      for (; j + 2 <= n; j += 2) {
        a0 += m[c + j]! * x[row + j]!;
        a1 += m[c + j + 1]! * x[row + j + 1]!;
      }
      if (j < n) a0 += m[c + j]! * x[row + j]!;
      out[k * frames + t] = a0 + a1;
    }
  }
  return out;
}
