/**
 * Training's 2×2, stride-2 max-pool with its argmax in WebAssembly SIMD, four outputs a vector,
 * with the same choice as the JavaScript loop of ../pool.ts (`pick`): of a window's four values,
 * in the order (0, 0), (0, 1), (1, 0), (1, 1), a candidate wins if it is greater than the best so
 * far, or if it is NaN and the best is not; ties keep the first. The comparisons are masks and the
 * winners (value and index) are chosen with bitselect, so nothing branches. A row's even and odd
 * columns are separated with two shuffles of the eight values four windows cover.
 *
 * pool2(x, out, arg, planes, outH, planeBytes, rowBytes, nb, outRowBytes, base): for each plane
 * p < planes (planeBytes apart) and pooled row oh < outH, nb blocks of four windows from input rows
 * 2·oh and 2·oh + 1 (rowBytes apart); the maxima go to out and their indices (in the caller's
 * array: base + the float's index here) to arg, rows outRowBytes apart, planes outH rows apart.
 */
import { WasmHeap } from '../../../wasm/heap.js';
import { simdKernel } from '../../../wasm/simd.js';
import { type Bytes, type WasmFunction, assemble, i32, op, v128 } from '../../../wasm/emit.js';

const addTo = (i: number, value: number): Bytes[] => [op.get(i), op.i32(value), op.add(), op.set(i)];
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

const X = 0, OUT = 1, ARG = 2, PLANES = 3, OUTH = 4, PLANE = 5, ROW = 6, NB = 7, OROW = 8, BASE = 9;
const P = 10, OH = 11, Q = 12, R0 = 13, R1 = 14, O = 15, A = 16, IDX = 17;
const VA = 18, VB = 19, VC = 20, VD = 21, IA = 22, BEST = 23, WIN = 24, M = 25, T0 = 26, T1 = 27;

/** best, win = the candidate (value v, indices iv) where it wins, as `pick` decides */
const challenge = (v: Bytes[], iv: Bytes[]): Bytes[] => [
  ...v, op.set(T0),
  // m = (v > best) | (v ≠ v & best = best)
  op.get(T0), op.get(BEST), op.f32x4Gt(),
  op.get(T0), op.get(T0), op.f32x4Ne(), op.get(BEST), op.get(BEST), op.f32x4Eq(), op.v128And(), op.v128Or(), op.set(M),
  op.get(T0), op.get(BEST), op.get(M), op.v128Bitselect(), op.set(BEST),
  ...iv, op.get(WIN), op.get(M), op.v128Bitselect(), op.set(WIN),
];

const pool2: WasmFunction = {
  name: 'pool2',
  params: new Array<typeof i32>(10).fill(i32),
  locals: [...new Array<typeof i32>(8).fill(i32), ...new Array<typeof v128>(10).fill(v128)],
  body: [
    op.i32(0), op.set(P),
    op.block(), op.get(PLANES), op.eqz(), op.brIf(0),
    op.loop(),
    op.i32(0), op.set(OH),
    op.loop(),
    // r0 = x + p·plane + 2·oh·row, r1 = r0 + row; o, a = out, arg + (p·outH + oh)·orow
    op.get(X), op.get(P), op.get(PLANE), op.mul(), op.add(), op.get(OH), op.i32(1), op.shl(), op.get(ROW), op.mul(), op.add(), op.tee(R0),
    op.get(ROW), op.add(), op.set(R1),
    op.get(P), op.get(OUTH), op.mul(), op.get(OH), op.add(), op.get(OROW), op.mul(), op.tee(O),
    op.get(ARG), op.add(), op.set(A), op.get(O), op.get(OUT), op.add(), op.set(O),
    // the index of row 2·oh's first float in the caller's array
    op.get(BASE), op.get(R0), op.get(X), op.sub(), op.i32(2), op.shrU(), op.add(), op.set(IDX),
    op.i32(0), op.set(Q),
    op.block(), op.get(NB), op.eqz(), op.brIf(0),
    op.loop(),
    op.get(R0), op.load(), op.get(R0), op.load(16), op.shuffle(EVEN), op.set(VA),
    op.get(R0), op.load(), op.get(R0), op.load(16), op.shuffle(ODD), op.set(VB),
    op.get(R1), op.load(), op.get(R1), op.load(16), op.shuffle(EVEN), op.set(VC),
    op.get(R1), op.load(), op.get(R1), op.load(16), op.shuffle(ODD), op.set(VD),
    // the four windows' first indices: idx + 0, 2, 4, 6
    op.get(IDX), op.i32x4Splat(), op.i32x4Const([0, 2, 4, 6]), op.i32x4Add(), op.set(IA),
    op.get(VA), op.set(BEST), op.get(IA), op.set(WIN),
    ...challenge([op.get(VB)], [op.get(IA), op.i32x4Const([1, 1, 1, 1]), op.i32x4Add()]),
    // row 2·oh + 1: row/4 floats further
    op.get(ROW), op.i32(2), op.shrU(), op.i32x4Splat(), op.get(IA), op.i32x4Add(), op.set(T1),
    ...challenge([op.get(VC)], [op.get(T1)]),
    ...challenge([op.get(VD)], [op.get(T1), op.i32x4Const([1, 1, 1, 1]), op.i32x4Add()]),
    op.get(O), op.get(BEST), op.store(),
    op.get(A), op.get(WIN), op.store(),
    ...addTo(R0, 32), ...addTo(R1, 32), ...addTo(O, 16), ...addTo(A, 16), ...addTo(IDX, 8), ...addTo(Q, 1),
    op.get(Q), op.get(NB), op.ltU(), op.brIf(0), op.end(),
    op.end(),
    ...addTo(OH, 1), op.get(OH), op.get(OUTH), op.ltU(), op.brIf(0), op.end(),
    ...addTo(P, 1), op.get(P), op.get(PLANES), op.ltU(), op.brIf(0), op.end(),
    op.end(),
  ],
};

type Pool2Export = (
  x: number, out: number, arg: number, planes: number, outH: number, planeBytes: number, rowBytes: number, nb: number,
  outRowBytes: number, base: number,
) => void;

/** One instance per thread, its memory holding a lane's input planes and their pooled output and argmax. */
export class SimdPool {
  private readonly mem: WasmHeap;
  private readonly pool2: Pool2Export;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    this.mem = new WasmHeap(instance.exports.memory as WebAssembly.Memory);
    this.pool2 = instance.exports.pool2 as Pool2Export;
  }

  /**
   * Planes [p0, p1) of x ([planes, inH, inW]) pooled 2×2 at stride 2 into out and argmax
   * ([planes, outH, outW], argmax indexing x), the first ⌊outW/4⌋·4 columns of each row; the
   * caller does the rest of each row.
   */
  run(x: Float32Array, out: Float32Array, argmax: Int32Array, inH: number, inW: number, outH: number, outW: number, p0: number, p1: number): void {
    const planes = p1 - p0;
    const plane = inH * inW;
    const pooled = outH * outW;
    const xAt = 0;
    const outAt = xAt + planes * plane;
    const argAt = outAt + planes * pooled;
    this.mem.ensure(argAt + planes * pooled);
    this.mem.f32.set(x.subarray(p0 * plane, p1 * plane), xAt);
    this.pool2(4 * xAt, 4 * outAt, 4 * argAt, planes, outH, 4 * plane, 4 * inW, outW >> 2, 4 * outW, p0 * plane);
    out.set(this.mem.f32.subarray(outAt, outAt + planes * pooled), p0 * pooled);
    argmax.set(this.mem.i32.subarray(argAt, argAt + planes * pooled), p0 * pooled);
  }
}

const kernels = simdKernel(() => assemble([pool2], 1), (m) => new SimdPool(m));

/** This thread's instance, or null when SIMD is off or unavailable. */
export function simdPool(): SimdPool | null {
  return kernels.current();
}
