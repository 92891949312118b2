/**
 * Weights kept in WebAssembly memory between calls, for the one product where copying them in
 * costs more than the arithmetic: a linear layer on one sample (fc1: 1×6720 · 6720×128, a 3.4 MB
 * weight read once per call, so copying it first doubled the memory traffic). As onnxruntime-web
 * and TF.js's wasm backend do, the weight lives in the kernel's memory; unlike them, the tensor
 * stays a plain Float32Array, so the copy there is a cache:
 *
 * - keyed by the array object and the block of it (offset, rows, row length). CPU tensors are
 *   immutable once made (factories copy their input, kernels write only fresh outputs, and the
 *   backend does not recycle arrays), with one exception:
 * - the optimisers' steps update parameters in place; each one calls `markWritten()`, which
 *   invalidates every cached copy.
 *
 * A few entries (an ensemble's models take turns), each its own instance and memory; the least
 * recently used one is reused. Worker threads get fresh array objects with every call, so they
 * never hit and copy as before.
 */
import { relaxedSimdEnabled } from '../../../wasm/simd.js';
import { type SimdGemm, newSimdGemm } from './gemm.js';

/** Weights smaller than this many floats are copied per call: the copy is cheap next to dispatch. */
const MIN_FLOATS = 1 << 16;

/**
 * Whether a one-row-ish product C[m×n] = A·B[n×k]ᵀ would keep B resident here. Such a product
 * stays on the calling thread: a lane in a worker would copy all of B in on every call.
 */
export const staysResident = (m: number, k: number, n: number) => m < 4 && n * k >= MIN_FLOATS;
const MAX_ENTRIES = 4;

interface Entry {
  kernel: SimdGemm;
  /** Whether its kernel uses the relaxed multiply-add. */
  fma: boolean;
  array: WeakRef<Float32Array> | null;
  off: number;
  n: number;
  k: number;
  epoch: number;
  used: number;
}

let epoch = 0;
let clock = 0;
const entries: Entry[] = [];

/** Every resident copy is stale: some kernel has written into an existing array. */
export function markWritten(): void {
  epoch++;
}

/**
 * C[m×n] (+)= A[m×k]·B[n×k]ᵀ with B's n contiguous rows (from bOff) resident, or false when B is
 * too small to be worth it (the caller then copies as usual) or SIMD is unavailable.
 */
export function residentRowsTimesT(
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, ldc: number, m: number, k: number, n: number, accumulate: boolean,
): boolean {
  if (!staysResident(m, k, n)) return false;
  const fma = relaxedSimdEnabled();
  let hit = entries.find((e) => e.fma === fma && e.array?.deref() === B && e.off === bOff && e.n === n && e.k === k);
  const fresh = hit !== undefined && hit.epoch === epoch;
  if (!hit) {
    const spare = entries.filter((e) => e.fma === fma);
    if (spare.length < MAX_ENTRIES) {
      const kernel = newSimdGemm();
      if (!kernel) return false;
      hit = { kernel, fma, array: null, off: 0, n: 0, k: 0, epoch: -1, used: 0 };
      entries.push(hit);
    } else {
      hit = spare.reduce((a, b) => (a.used <= b.used ? a : b));
    }
    Object.assign(hit, { array: new WeakRef(B), off: bOff, n, k });
  }
  hit.used = ++clock;
  hit.epoch = epoch;
  hit.kernel.rowsTimesT(A, aOff, lda, B, bOff, k, C, cOff, ldc, m, k, n, accumulate, fresh);
  return true;
}
