/**
 * Row-major single-precision GEMM kernels. Two shapes of loop cover every case:
 * - gemmNN: C = A·B, four rows of C at a time so each row of B is loaded once per four rows, with
 *   C blocked along columns to stay in L1;
 * - gemmNT: C = A·Bᵀ, 4×4 register-blocked dot products over contiguous rows of A and B.
 * Transposed-A cases pack Aᵀ into scratch first (O(m·k), small next to the O(m·k·n) product).
 */

const COL_BLOCK = 512;

/** C[m×n] (+)= A[m×k]·B[k×n]. Offsets let callers address one matrix of a batch without copying. */
export function gemmNN(
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, cOff, cOff + m * n);
  for (let j0 = 0; j0 < n; j0 += COL_BLOCK) {
    const j1 = Math.min(n, j0 + COL_BLOCK);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const c0 = cOff + i * n;
      const c1 = c0 + n;
      const c2 = c1 + n;
      const c3 = c2 + n;
      const a0 = aOff + i * k;
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p]!;
        const x1 = A[a0 + k + p]!;
        const x2 = A[a0 + 2 * k + p]!;
        const x3 = A[a0 + 3 * k + p]!;
        const b = bOff + p * n;
        for (let j = j0; j < j1; j++) {
          const y = B[b + j]!;
          C[c0 + j] += x0 * y;
          C[c1 + j] += x1 * y;
          C[c2 + j] += x2 * y;
          C[c3 + j] += x3 * y;
        }
      }
    }
    for (; i < m; i++) {
      const c0 = cOff + i * n;
      const a0 = aOff + i * k;
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p]!;
        if (x0 === 0) continue;
        const b = bOff + p * n;
        for (let j = j0; j < j1; j++) C[c0 + j] += x0 * B[b + j]!;
      }
    }
  }
}

/** C[m×n] (+)= A[m×k]·B[n×k]ᵀ. */
export function gemmNT(
  A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number,
  m: number, k: number, n: number, accumulate: boolean,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = aOff + i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = bOff + j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p]!, x1 = A[a1 + p]!, x2 = A[a2 + p]!, x3 = A[a3 + p]!;
        const y0 = B[b0 + p]!, y1 = B[b1 + p]!, y2 = B[b2 + p]!, y3 = B[b3 + p]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const c = cOff + i * n + j;
      if (accumulate) {
        C[c] += s00; C[c + 1] += s01; C[c + 2] += s02; C[c + 3] += s03;
        C[c + n] += s10; C[c + n + 1] += s11; C[c + n + 2] += s12; C[c + n + 3] += s13;
        C[c + 2 * n] += s20; C[c + 2 * n + 1] += s21; C[c + 2 * n + 2] += s22; C[c + 2 * n + 3] += s23;
        C[c + 3 * n] += s30; C[c + 3 * n + 1] += s31; C[c + 3 * n + 2] += s32; C[c + 3 * n + 3] += s33;
      } else {
        C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03;
        C[c + n] = s10; C[c + n + 1] = s11; C[c + n + 2] = s12; C[c + n + 3] = s13;
        C[c + 2 * n] = s20; C[c + 2 * n + 1] = s21; C[c + 2 * n + 2] = s22; C[c + 2 * n + 3] = s23;
        C[c + 3 * n] = s30; C[c + 3 * n + 1] = s31; C[c + 3 * n + 2] = s32; C[c + 3 * n + 3] = s33;
      }
    }
    for (; j < n; j++) dotRows(A, [a0, a1, a2, a3], B, bOff + j * k, k, C, cOff + i * n + j, n, accumulate);
  }
  for (; i < m; i++) {
    const a0 = aOff + i * k;
    for (let j = 0; j < n; j++) dotRows(A, [a0], B, bOff + j * k, k, C, cOff + i * n + j, n, accumulate);
  }
}

function dotRows(
  A: Float32Array, rows: number[], B: Float32Array, b: number, k: number,
  C: Float32Array, c: number, ldc: number, accumulate: boolean,
): void {
  for (let r = 0; r < rows.length; r++) {
    const a = rows[r]!;
    let s = 0;
    for (let p = 0; p < k; p++) s += A[a + p]! * B[b + p]!;
    const t = c + r * ldc;
    C[t] = accumulate ? C[t]! + s : s;
  }
}

/** Writes Xᵀ (cols×rows) of the rows×cols matrix at X[off] into out[0..]. */
export function transposeInto(X: Float32Array, off: number, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const src = off + r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = X[src + c]!;
  }
}

/** Batched matmul over the four transpose combinations. */
export function matmul(
  a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean,
): Float32Array {
  const out = new Float32Array(batch * m * n);
  const scratch = transA ? new Float32Array(m * k) : null;
  for (let t = 0; t < batch; t++) {
    let A = a;
    let aOff = t * m * k;
    if (scratch) {
      transposeInto(a, aOff, k, m, scratch);
      A = scratch;
      aOff = 0;
    }
    if (transB) gemmNT(A, aOff, b, t * k * n, out, t * m * n, m, k, n, false);
    else gemmNN(A, aOff, b, t * k * n, out, t * m * n, m, k, n, false);
  }
  return out;
}
