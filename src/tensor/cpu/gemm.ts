/**
 * Single-precision GEMM on packed panels. Both operands are copied into panels of four rows (of
 * op(A)) or four columns (of op(B)), interleaved so the micro-kernel streams through them
 * contiguously and keeps a 4×4 block of C in sixteen locals. Packing is O(m·k + k·n) against the
 * O(m·k·n) product, and it absorbs transposition, so one micro-kernel serves C = op(A)·op(B) for
 * every combination of transposes.
 */
import { alloc, lanesFor, runLanes } from './parallel.js';
import { scratch } from './scratch.js';
import { simdGemm } from './wasm/gemm.js';
import { residentRowsTimesT, staysResident } from './wasm/resident.js';

/**
 * One product C = A·B whose operands the caller packs in place: A as row panels (m×k), B as column
 * panels (k×n). With the SIMD kernel the panels live in WebAssembly memory, so packing is the only
 * copy; otherwise in scratch arrays for the JavaScript kernel.
 */
export interface PackedProduct {
  readonly A: Float32Array;
  readonly B: Float32Array;
  /** C[m×n] (+)= A·B at cOff, row stride ldc; adds rowBias[i] to row i when given (not accumulating). */
  multiply(C: Float32Array, cOff: number, ldc: number, m: number, k: number, n: number, accumulate: boolean, rowBias?: Float32Array | null): void;
}

/** Room to pack an m×k by k×n product (valid until the next packedProduct on this thread). */
export function packedProduct(m: number, k: number, n: number): PackedProduct {
  const wasm = simdGemm();
  if (wasm) {
    const { A, B } = wasm.reserve(m, k, n);
    return { A, B, multiply: (C, cOff, ldc, mm, kk, nn, acc, bias = null) => wasm.multiply(C, cOff, ldc, mm, kk, nn, acc, bias) };
  }
  const A = scratch('product.A', packedSize(m, k));
  const B = scratch('product.B', packedSize(n, k));
  return {
    A,
    B,
    multiply(C, cOff, ldc, mm, kk, nn, acc, bias = null) {
      jsMicroKernel(A, B, C, cOff, ldc, mm, kk, nn, acc);
      if (!bias || acc) return;
      for (let i = 0; i < mm; i++) {
        const b = bias[i]!;
        const row = cOff + i * ldc;
        for (let j = 0; j < nn; j++) C[row + j] += b;
      }
    },
  };
}

/**
 * Packs the 4-row panels of a row-major rows×cols matrix X (at off, row stride ld):
 * out[(panel·cols + j)·4 + r] = X[panel·4 + r][j], zero past the last row.
 */
export function packRowPanels(X: Float32Array, off: number, rows: number, cols: number, out: Float32Array, ld = cols): void {
  const panels = (rows + 3) >> 2;
  for (let pn = 0; pn < panels; pn++) {
    const base = pn * cols * 4;
    for (let r = 0; r < 4; r++) {
      const i = pn * 4 + r;
      if (i < rows) {
        const src = off + i * ld;
        for (let j = 0; j < cols; j++) out[base + j * 4 + r] = X[src + j]!;
      } else {
        for (let j = 0; j < cols; j++) out[base + j * 4 + r] = 0;
      }
    }
  }
}

/**
 * Packs the 4-column panels of a row-major rows×cols matrix X (at off, row stride ld):
 * out[(panel·rows + i)·4 + c] = X[i][panel·4 + c], zero past the last column.
 */
export function packColPanels(X: Float32Array, off: number, rows: number, cols: number, out: Float32Array, ld = cols): void {
  const panels = (cols + 3) >> 2;
  const full = cols >> 2;
  for (let i = 0; i < rows; i++) {
    const src = off + i * ld;
    for (let pn = 0; pn < full; pn++) {
      const d = (pn * rows + i) * 4;
      const s = src + pn * 4;
      out[d] = X[s]!;
      out[d + 1] = X[s + 1]!;
      out[d + 2] = X[s + 2]!;
      out[d + 3] = X[s + 3]!;
    }
    for (let pn = full; pn < panels; pn++) {
      const d = (pn * rows + i) * 4;
      for (let c = 0; c < 4; c++) out[d + c] = pn * 4 + c < cols ? X[src + pn * 4 + c]! : 0;
    }
  }
}

/**
 * The JavaScript micro-kernel: C[m×n] (+)= Ap·Bp over the packed panels, a 4×4 block of C in
 * sixteen locals (float64 sums, rounded once). ldc is C's row stride.
 */
function jsMicroKernel(
  Ap: Float32Array, Bp: Float32Array, C: Float32Array, cOff: number, ldc: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  const mp = (m + 3) >> 2;
  const np = (n + 3) >> 2;
  for (let jp = 0; jp < np; jp++) {
    const bo = jp * k * 4;
    const j = jp * 4;
    for (let ip = 0; ip < mp; ip++) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0, a = ip * k * 4, b = bo; p < k; p++, a += 4, b += 4) {
        const a0 = Ap[a]!, a1 = Ap[a + 1]!, a2 = Ap[a + 2]!, a3 = Ap[a + 3]!;
        const b0 = Bp[b]!, b1 = Bp[b + 1]!, b2 = Bp[b + 2]!, b3 = Bp[b + 3]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      const i = ip * 4;
      if (i + 4 <= m && j + 4 <= n) {
        let c = cOff + i * ldc + j;
        if (accumulate) {
          C[c] += s00; C[c + 1] += s01; C[c + 2] += s02; C[c + 3] += s03; c += ldc;
          C[c] += s10; C[c + 1] += s11; C[c + 2] += s12; C[c + 3] += s13; c += ldc;
          C[c] += s20; C[c + 1] += s21; C[c + 2] += s22; C[c + 3] += s23; c += ldc;
          C[c] += s30; C[c + 1] += s31; C[c + 2] += s32; C[c + 3] += s33;
        } else {
          C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03; c += ldc;
          C[c] = s10; C[c + 1] = s11; C[c + 2] = s12; C[c + 3] = s13; c += ldc;
          C[c] = s20; C[c + 1] = s21; C[c + 2] = s22; C[c + 3] = s23; c += ldc;
          C[c] = s30; C[c + 1] = s31; C[c + 2] = s32; C[c + 3] = s33;
        }
      } else {
        const s = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
        for (let r = 0; r < 4 && i + r < m; r++) {
          for (let q = 0; q < 4 && j + q < n; q++) {
            const c = cOff + (i + r) * ldc + j + q;
            C[c] = accumulate ? C[c]! + s[r * 4 + q]! : s[r * 4 + q]!;
          }
        }
      }
    }
  }
}

/**
 * C[m×n] (+)= A[m×k]·B[n×k]ᵀ reading the rows of A and B in place. When k is long (the weight
 * gradient of a convolution sums over every output position) both operands stream contiguously
 * already, and packing them would cost more than it saves.
 */
export function gemmNT(
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, m: number, k: number, n: number, accumulate: boolean, ldc = n,
): void {
  const wasm = simdGemm();
  if (wasm && m < 4) {
    if (ldb === k && residentRowsTimesT(A, aOff, lda, B, bOff, C, cOff, ldc, m, k, n, accumulate)) return;
    wasm.rowsTimesT(A, aOff, lda, B, bOff, ldb, C, cOff, ldc, m, k, n, accumulate);
    return;
  }
  if (wasm) {
    // the SIMD kernel outruns reading in place by more than packing costs, once A has a full panel
    const p = packedProduct(m, k, n);
    packRowPanels(A, aOff, m, k, p.A, lda);
    packRowPanels(B, bOff, n, k, p.B, ldb); // B's rows are the columns of Bᵀ: column panels
    p.multiply(C, cOff, ldc, m, k, n, accumulate);
    return;
  }
  const full = m & ~3;
  for (let i = 0; i < full; i += 4) {
    const rows = 4;
    const a0 = aOff + i * lda;
    const a1 = rows > 1 ? a0 + lda : a0;
    const a2 = rows > 2 ? a0 + 2 * lda : a0;
    const a3 = rows > 3 ? a0 + 3 * lda : a0;
    for (let j = 0; j < n; j += 4) {
      const cols = Math.min(4, n - j);
      const b0 = bOff + j * ldb;
      const b1 = cols > 1 ? b0 + ldb : b0;
      const b2 = cols > 2 ? b0 + 2 * ldb : b0;
      const b3 = cols > 3 ? b0 + 3 * ldb : b0;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p]!, x1 = A[a1 + p]!, x2 = A[a2 + p]!, x3 = A[a3 + p]!;
        const y0 = B[b0 + p]!, y1 = B[b1 + p]!, y2 = B[b2 + p]!, y3 = B[b3 + p]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const s = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) {
          const c = cOff + (i + r) * ldc + j + q;
          C[c] = accumulate ? C[c]! + s[r * 4 + q]! : s[r * 4 + q]!;
        }
      }
    }
  }
  // leftover rows (all of them for a single input row): one row against four of B at a time
  for (let i = full; i < m; i++) {
    const a = aOff + i * lda;
    for (let j = 0; j < n; j += 4) {
      const cols = Math.min(4, n - j);
      const b0 = bOff + j * ldb;
      const b1 = cols > 1 ? b0 + ldb : b0;
      const b2 = cols > 2 ? b0 + 2 * ldb : b0;
      const b3 = cols > 3 ? b0 + 3 * ldb : b0;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = A[a + p]!;
        s0 += x * B[b0 + p]!; s1 += x * B[b1 + p]!; s2 += x * B[b2 + p]!; s3 += x * B[b3 + p]!;
      }
      const s = [s0, s1, s2, s3];
      for (let q = 0; q < cols; q++) {
        const c = cOff + i * ldc + j + q;
        C[c] = accumulate ? C[c]! + s[q]! : s[q]!;
      }
    }
  }
}

export const packedSize = (rows: number, cols: number) => ((rows + 3) >> 2) * 4 * cols;

/** Packs op(A) (m×k) into row panels: A is stored m×k, or k×m when transposed. */
export function packA(A: Float32Array, off: number, m: number, k: number, trans: boolean, out: Float32Array): void {
  if (trans) packColPanels(A, off, k, m, out);
  else packRowPanels(A, off, m, k, out);
}

/**
 * One lane's share of a batched C = op(A)·op(B): output columns [j0, j1) of every batch item,
 * j0 and j1 multiples of 4 (whole panels). A·Bᵀ reads rows of both operands in place (gemmNT):
 * packing a 128×6720 weight for one input row would cost more than the product.
 */
export function matmulLane(
  lane: number, lanes: number, a: Float32Array, b: Float32Array, out: Float32Array,
  batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
): void {
  const step = Math.ceil(n / lanes / 4) * 4;
  const j0 = Math.min(n, lane * step);
  const j1 = Math.min(n, j0 + step);
  if (j0 >= j1) return;
  const len = j1 - j0;
  for (let t = 0; t < batch; t++) {
    const aOff = t * m * k;
    const bOff = t * k * n;
    const cOff = t * m * n + j0;
    if (transB && !transA) {
      gemmNT(a, aOff, k, b, bOff + j0 * k, k, out, cOff, m, k, len, false, n);
      continue;
    }
    const p = packedProduct(m, k, len);
    packA(a, aOff, m, k, transA, p.A);
    if (transB) packRowPanels(b, bOff + j0 * k, len, k, p.B);
    else packColPanels(b, bOff + j0, k, len, p.B, n);
    p.multiply(out, cOff, n, m, k, len, false);
  }
}

/** Batched matmul over the four transpose combinations, split across lanes by output columns. */
export function matmul(
  a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
): Float32Array {
  const out = alloc(batch * m * n);
  const resident = batch === 1 && transB && !transA && simdGemm() !== null && staysResident(m, k, n);
  runLanes('matmul', matmulLane, [a, b, out, batch, m, k, n, transA, transB], resident ? 1 : lanesFor(batch * m * k * n));
  return out;
}
