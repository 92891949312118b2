/**
 * The GEMM micro-kernel again, in WebAssembly SIMD: the same packed panels as the JavaScript one
 * (gemm.ts), but each step multiplies four rows of A by eight columns of B as eight 4-wide vector
 * products, where JavaScript can only do one scalar multiply-add at a time. JavaScript engines do
 * not vectorise, so this is the one place the library leaves JavaScript for speed; the kernel is
 * written here instruction by instruction and assembled at start-up (./emit.ts).
 *
 * Numerics differ from the JavaScript kernel in one way: sums accumulate in float32 (as PyTorch's
 * do), where JavaScript accumulates in float64 and rounds once.
 */
import { simdKernel } from '../../../wasm/simd.js';
import { type Bytes, type WasmFunction, assemble, i32, mulAdd, op, v128 } from '../../../wasm/emit.js';

// parameters, then locals, by index
const A = 0, B = 1, C = 2, MP = 3, K = 4, NP = 5, LDC = 6; // LDC in bytes
const JP = 7, IP = 8, PA = 9, PB = 10, PB2 = 11, END = 12, CP = 13, KB = 14;
const V0 = 15, V1 = 16, S = 17, ACC = 18; // ACC … ACC + 7

/** `local[i] = local[i] + value` for i32 locals. */
const addTo = (i: number, value: number): Bytes[] => [op.get(i), op.i32(value), op.add(), op.set(i)];

/**
 * One sweep over every 4-row panel of A against the B panel(s) at jp: C[4×4] per panel, or C[4×8]
 * when `wide` (panels jp and jp + 1). acc[2r] holds row r against panel jp, acc[2r + 1] against jp + 1.
 */
function sweep(wide: boolean, fma: boolean): Bytes[] {
  const acc = (r: number, half: number) => ACC + 2 * r + half;
  const halves = wide ? [0, 1] : [0];
  const code: Bytes[] = [op.i32(0), op.set(IP), op.loop()];
  // pa = a + ip·kb; end = pa + kb; pb = b + jp·kb; pb2 = pb + kb
  code.push(op.get(A), op.get(IP), op.get(KB), op.mul(), op.add(), op.tee(PA), op.get(KB), op.add(), op.set(END));
  code.push(op.get(B), op.get(JP), op.get(KB), op.mul(), op.add());
  code.push(...(wide ? [op.tee(PB), op.get(KB), op.add(), op.set(PB2)] : [op.set(PB)]));
  for (let r = 0; r < 4; r++) for (const h of halves) code.push(op.zero(), op.set(acc(r, h)));
  // for p < k: one column of the A panel (4 values) times one row of each B panel (4 values)
  code.push(op.loop(), op.get(PB), op.load(), op.set(V0));
  if (wide) code.push(op.get(PB2), op.load(), op.set(V1));
  for (let r = 0; r < 4; r++) {
    code.push(op.get(PA), op.load32Splat(4 * r), op.set(S));
    for (const h of halves) {
      code.push(...mulAdd(acc(r, h), S, h ? V1 : V0, fma));
    }
  }
  code.push(...addTo(PA, 16), ...addTo(PB, 16), ...(wide ? addTo(PB2, 16) : []));
  code.push(op.get(PA), op.get(END), op.ltU(), op.brIf(0), op.end());
  // cp = c + 4·ip·ldc + 16·jp; four rows of the tile, ldc apart
  code.push(op.get(C), op.get(IP), op.get(LDC), op.mul(), op.i32(2), op.shl(), op.add());
  code.push(op.get(JP), op.i32(4), op.shl(), op.add(), op.set(CP));
  for (let r = 0; r < 4; r++) {
    for (const h of halves) code.push(op.get(CP), op.get(acc(r, h)), op.store(16 * h));
    if (r < 3) code.push(op.get(CP), op.get(LDC), op.add(), op.set(CP));
  }
  code.push(...addTo(IP, 1), op.get(IP), op.get(MP), op.ltU(), op.brIf(0), op.end());
  return code;
}

/**
 * gemm(a, b, c, mp, k, np, ldc): C = Ap·Bp for mp row panels of A and np column panels of B
 * (k ≥ 1), both packed as gemm.ts packs them; C is row-major with ldc bytes per row.
 */
const gemmFunction = (fma: boolean): WasmFunction => ({
  name: 'gemm',
  params: [i32, i32, i32, i32, i32, i32, i32],
  locals: [i32, i32, i32, i32, i32, i32, i32, i32, v128, v128, v128, ...new Array<typeof v128>(8).fill(v128)],
  body: [
    op.get(K), op.i32(4), op.shl(), op.set(KB),
    op.i32(0), op.set(JP),
    op.block(), op.loop(),
    op.get(JP), op.get(NP), op.geU(), op.brIf(1),
    // two panels while two remain, then the last one alone
    op.get(JP), op.i32(1), op.add(), op.get(NP), op.ltU(), op.if(),
    ...sweep(true, fma), ...addTo(JP, 2),
    op.else(),
    ...sweep(false, fma), ...addTo(JP, 1),
    op.end(),
    op.br(0), op.end(), op.end(),
  ],
});

/**
 * gemv(x, w, y, k, n, ldw): y[j] = Σ_{p<k} x[p]·W[j][p] for j < n, W's rows ldw bytes apart, k a
 * positive multiple of 4. One row of the product with a transposed weight (a linear layer on one
 * sample), where packing the weight into panels would cost more than the product. Rows go four at a
 * time: each row's sum is one chain of vector additions, which waits on the adder's latency, so
 * four independent chains (sharing each load of x) keep the loads streaming; the last n mod 4 rows
 * go one at a time. Every row is summed in the same order either way.
 */
const GX = 0, GW = 1, GY = 2, GK = 3, GN = 4, GLDW = 5, GJ = 6, GPX = 7, GPW = 8, GEND = 9, GACC = 10;
const GPW1 = 11, GXV = 14, GACC1 = 15; // GPW1 … GPW1 + 2: rows j + 1 … j + 3; GACC1 … GACC1 + 2 their sums
/** y[j + i] = the four lanes of `acc` added, lane 0 first */
const storeSum = (acc: number, i: number): Bytes[] => [
  op.get(GY), op.get(GJ), op.i32(2), op.shl(), op.add(),
  op.get(acc), op.f32x4ExtractLane(0), op.get(acc), op.f32x4ExtractLane(1), op.f32Add(),
  op.get(acc), op.f32x4ExtractLane(2), op.f32Add(), op.get(acc), op.f32x4ExtractLane(3), op.f32Add(),
  op.f32Store(4 * i),
];
const gemvFunction = (fma: boolean): WasmFunction => {
  const rows = [GACC, GACC1, GACC1 + 1, GACC1 + 2];
  const pointers = [GPW, GPW1, GPW1 + 1, GPW1 + 2];
  const madd = (acc: number, w: Bytes[]): Bytes[] => (fma
    ? [op.get(GXV), ...w, op.get(acc), op.f32x4RelaxedMadd(), op.set(acc)]
    : [op.get(GXV), ...w, op.f32x4Mul(), op.get(acc), op.f32x4Add(), op.set(acc)]);
  return {
    name: 'gemv',
    params: [i32, i32, i32, i32, i32, i32],
    locals: [i32, i32, i32, i32, v128, i32, i32, i32, v128, v128, v128, v128],
    body: [
      op.i32(0), op.set(GJ),
      // four rows at a time while j + 4 ≤ n
      op.block(), op.loop(),
      op.get(GN), op.get(GJ), op.i32(4), op.add(), op.ltU(), op.brIf(1),
      ...rows.flatMap((acc) => [op.zero(), op.set(acc)]),
      op.get(GX), op.tee(GPX), op.get(GK), op.i32(2), op.shl(), op.add(), op.set(GEND),
      op.get(GW), op.get(GJ), op.get(GLDW), op.mul(), op.add(), op.set(GPW),
      ...[1, 2, 3].flatMap((i) => [op.get(pointers[i - 1]!), op.get(GLDW), op.add(), op.set(pointers[i]!)]),
      op.loop(),
      op.get(GPX), op.load(), op.set(GXV),
      ...rows.flatMap((acc, i) => madd(acc, [op.get(pointers[i]!), op.load()])),
      ...addTo(GPX, 16), ...pointers.flatMap((p) => addTo(p, 16)),
      op.get(GPX), op.get(GEND), op.ltU(), op.brIf(0), op.end(),
      ...rows.flatMap((acc, i) => storeSum(acc, i)),
      ...addTo(GJ, 4), op.br(0), op.end(), op.end(),
      // the rest one at a time
      op.block(), op.loop(),
      op.get(GJ), op.get(GN), op.geU(), op.brIf(1),
      op.zero(), op.set(GACC),
      op.get(GX), op.tee(GPX), op.get(GK), op.i32(2), op.shl(), op.add(), op.set(GEND),
      op.get(GW), op.get(GJ), op.get(GLDW), op.mul(), op.add(), op.set(GPW),
      op.loop(),
      op.get(GPX), op.load(), op.set(GXV),
      ...madd(GACC, [op.get(GPW), op.load()]),
      ...addTo(GPX, 16), ...addTo(GPW, 16),
      op.get(GPX), op.get(GEND), op.ltU(), op.brIf(0), op.end(),
      ...storeSum(GACC, 0),
      ...addTo(GJ, 1), op.br(0), op.end(), op.end(),
    ],
  };
};

type GemvExport = (x: number, w: number, y: number, k: number, n: number, ldw: number) => void;
type GemmExport = (a: number, b: number, c: number, mp: number, k: number, np: number, ldc: number) => void;

const PAGE_FLOATS = 65536 / 4;

/**
 * One instance per thread: its own memory, grown as operands need, never shrunk. A product is laid
 * out as [A panels | B panels | C tile] from address 0; callers pack straight into the A and B views
 * (no copy), then `multiply` runs the kernel and moves the tile into their array.
 */
export class SimdGemm {
  private readonly memory: WebAssembly.Memory;
  private readonly gemm: GemmExport;
  private readonly gemv: GemvExport;
  private heap: Float32Array;
  private aLen = 0;
  private bLen = 0;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.gemm = instance.exports.gemm as GemmExport;
    this.gemv = instance.exports.gemv as GemvExport;
    this.heap = new Float32Array(this.memory.buffer);
  }

  /** Grows the memory to hold `floats` values (growing detaches every earlier view). */
  private ensure(floats: number): void {
    if (this.heap.length >= floats) return;
    this.memory.grow(Math.ceil((floats - this.heap.length) / PAGE_FLOATS));
    this.heap = new Float32Array(this.memory.buffer);
  }

  /**
   * Room for A (m×k, row panels) and B (k×n, column panels) and their product; returns views to
   * pack into. They stay valid until the next `reserve` (growing the memory detaches old views).
   */
  reserve(m: number, k: number, n: number): { A: Float32Array; B: Float32Array } {
    const mp = (m + 3) >> 2;
    const np = (n + 3) >> 2;
    this.aLen = mp * 4 * k;
    this.bLen = np * 4 * k;
    this.ensure(this.aLen + this.bLen + mp * 4 * np * 4);
    return { A: this.heap.subarray(0, this.aLen), B: this.heap.subarray(this.aLen, this.aLen + this.bLen) };
  }

  /**
   * C[m×n] (+)= A·B from the views of the last `reserve` (m, n no larger than reserved, k equal);
   * adds rowBias[i] to row i when given (not when accumulating).
   */
  multiply(
    C: Float32Array, cOff: number, ldc: number, m: number, k: number, n: number, accumulate: boolean,
    rowBias: Float32Array | null = null,
  ): void {
    const mp = (m + 3) >> 2;
    const np = (n + 3) >> 2;
    if (np === 0 || mp === 0) return;
    const heap = this.heap;
    const cw = np * 4;
    const cBase = this.aLen + this.bLen;
    if (k === 0) heap.fill(0, cBase, cBase + mp * 4 * cw);
    else this.gemm(0, this.aLen * 4, cBase * 4, mp, k, np, cw * 4);
    for (let i = 0; i < m; i++) {
      const src = cBase + i * cw;
      const dst = cOff + i * ldc;
      if (accumulate) {
        for (let j = 0; j < n; j++) C[dst + j] += heap[src + j]!;
      } else if (rowBias) {
        const b = rowBias[i]!;
        for (let j = 0; j < n; j++) C[dst + j] = heap[src + j]! + b;
      } else {
        C.set(heap.subarray(src, src + n), dst);
      }
    }
  }

  /**
   * C[m×n] (+)= A[m×k]·B[n×k]ᵀ for a few rows of A, one gemv each: B's rows are copied in once,
   * contiguous, and the k mod 4 leftover terms are added here.
   */
  rowsTimesT(
    A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
    C: Float32Array, cOff: number, ldc: number, m: number, k: number, n: number, accumulate: boolean,
    bInPlace = false,
  ): void {
    const kv = k & ~3;
    this.ensure(k + n * k + n);
    const heap = this.heap;
    const wAt = k;
    const yAt = k + n * k;
    // bInPlace: this instance already holds these rows of B from the last call (see resident.ts)
    if (bInPlace) {
      // nothing to copy
    } else if (ldb === k) heap.set(B.subarray(bOff, bOff + n * k), wAt);
    else for (let j = 0; j < n; j++) heap.set(B.subarray(bOff + j * ldb, bOff + j * ldb + k), wAt + j * k);
    for (let i = 0; i < m; i++) {
      const a = aOff + i * lda;
      heap.set(A.subarray(a, a + k), 0);
      if (kv > 0) this.gemv(0, wAt * 4, yAt * 4, kv, n, k * 4);
      else heap.fill(0, yAt, yAt + n);
      for (let j = 0; j < n; j++) {
        let s = heap[yAt + j]!;
        for (let p = kv; p < k; p++) s += heap[p]! * heap[wAt + j * k + p]!;
        const c = cOff + i * ldc + j;
        C[c] = accumulate ? C[c]! + s : s;
      }
    }
  }
}

const kernels = simdKernel((fma) => assemble([gemmFunction(fma), gemvFunction(fma)], 16), (m) => new SimdGemm(m));

/** A fresh instance with its own memory (for weights kept resident between calls: resident.ts). */
export function newSimdGemm(): SimdGemm | null {
  return kernels.fresh();
}

/** The SIMD micro-kernel (this thread's instance), or null when it is off or unavailable. */
export function simdGemm(): SimdGemm | null {
  return kernels.current();
}
