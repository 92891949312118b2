/**
 * Training-mode batch norm's passes over a channel in WebAssembly SIMD, bit-identical to the
 * JavaScript loops of ../batchnorm.ts: the same float64 operations in the same order, two floats
 * of a vector promoted to one f64x2 at a time. JavaScript sums four running float64 sums (elements
 * i mod 4) and adds them at the end; here they are the lanes of two f64x2 sums, returned for the
 * caller to add (with the tail of a plane whose length is not a multiple of 4) as JavaScript does.
 * What is faster: two float64 operations an instruction instead of one, on data that JavaScript
 * reads one bounds-checked element at a time.
 *
 * The channel's planes (one per sample) are copied into this instance's memory, contiguous, then
 * each pass runs over a plane at a time:
 *   sums(x, n4, out):               out[0 … 3] = the four running sums of x
 *   deviations(x, n4, mu, out):     the four running sums of (x − mu)²
 *   normalise(x, y, n4, a, b):      y = x·a + b (float64, rounded to float32)
 *   gradSums(gy, x, n4, mu, out):   out[0 … 3] = the running sums of dy, out[4 … 5] those of dy·(x − mu),
 *                                   even and odd elements
 *   gradInput(gy, x, gx, n4, a, b, s, mu): gx = a·dy + b + s·(x − mu)
 * (n4 groups of four floats; addresses in bytes; out holds float64s).
 */
import { WasmHeap } from '../../../wasm/heap.js';
import { simdKernel } from '../../../wasm/simd.js';
import { type Bytes, type WasmFunction, assemble, f64, i32, op, v128 } from '../../../wasm/emit.js';

const addTo = (i: number, value: number): Bytes[] => [op.get(i), op.i32(value), op.add(), op.set(i)];
/** two floats at local `p` + offset, promoted: an f64x2 */
const pair = (p: number, offset: number): Bytes[] => [op.get(p), op.load64Zero(offset), op.f64x2PromoteLowF32x4()];
const accumulate = (acc: number, value: Bytes[]): Bytes[] => [op.get(acc), ...value, op.f64x2Add(), op.set(acc)];
/** a loop over n4 groups: body, then each pointer advanced 16 bytes */
const groups = (n4: number, k: number, pointers: number[], body: Bytes[]): Bytes[] => [
  op.i32(0), op.set(k),
  op.block(), op.get(n4), op.eqz(), op.brIf(0),
  op.loop(),
  ...body,
  ...pointers.flatMap((p) => addTo(p, 16)), ...addTo(k, 1),
  op.get(k), op.get(n4), op.ltU(), op.brIf(0), op.end(),
  op.end(),
];
const LOW_PAIRS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
/** a·v + b for an f64x2 v, as in JavaScript: the product rounded, then the sum */
const affine = (v: Bytes[], a: number, b: number): Bytes[] => [...v, op.get(a), op.f64x2Mul(), op.get(b), op.f64x2Add()];

// sums(x, n4, out)
const sums: WasmFunction = {
  name: 'sums',
  params: [i32, i32, i32],
  locals: [i32, v128, v128],
  body: [
    op.zero(), op.set(4), op.zero(), op.set(5),
    ...groups(1, 3, [0], [...accumulate(4, pair(0, 0)), ...accumulate(5, pair(0, 8))]),
    op.get(2), op.get(4), op.store(), op.get(2), op.get(5), op.store(16),
  ],
};

// deviations(x, n4, mu, out)
const deviations: WasmFunction = {
  name: 'deviations',
  params: [i32, i32, f64, i32],
  locals: [i32, v128, v128, v128, v128],
  body: [
    op.get(2), op.f64x2Splat(), op.set(7),
    op.zero(), op.set(5), op.zero(), op.set(6),
    ...groups(1, 4, [0], [
      ...pair(0, 0), op.get(7), op.f64x2Sub(), op.set(8), ...accumulate(5, [op.get(8), op.get(8), op.f64x2Mul()]),
      ...pair(0, 8), op.get(7), op.f64x2Sub(), op.set(8), ...accumulate(6, [op.get(8), op.get(8), op.f64x2Mul()]),
    ]),
    op.get(3), op.get(5), op.store(), op.get(3), op.get(6), op.store(16),
  ],
};

// normalise(x, y, n4, a, b)
const normalise: WasmFunction = {
  name: 'normalise',
  params: [i32, i32, i32, f64, f64],
  locals: [i32, v128, v128],
  body: [
    op.get(3), op.f64x2Splat(), op.set(6), op.get(4), op.f64x2Splat(), op.set(7),
    ...groups(2, 5, [0, 1], [
      op.get(1),
      ...affine(pair(0, 0), 6, 7), op.f32x4DemoteF64x2Zero(),
      ...affine(pair(0, 8), 6, 7), op.f32x4DemoteF64x2Zero(),
      op.shuffle(LOW_PAIRS), op.store(),
    ]),
  ],
};

// gradSums(gy, x, n4, mu, out)
const gradSums: WasmFunction = {
  name: 'gradSums',
  params: [i32, i32, i32, f64, i32],
  locals: [i32, v128, v128, v128, v128],
  body: [
    op.get(3), op.f64x2Splat(), op.set(9),
    op.zero(), op.set(6), op.zero(), op.set(7), op.zero(), op.set(8),
    ...groups(2, 5, [0, 1], [
      ...accumulate(6, pair(0, 0)), ...accumulate(7, pair(0, 8)),
      // dy·(x − mu), elements (0, 1) then (2, 3): lane 0 the even elements, lane 1 the odd
      ...accumulate(8, [...pair(0, 0), ...pair(1, 0), op.get(9), op.f64x2Sub(), op.f64x2Mul()]),
      ...accumulate(8, [...pair(0, 8), ...pair(1, 8), op.get(9), op.f64x2Sub(), op.f64x2Mul()]),
    ]),
    op.get(4), op.get(6), op.store(), op.get(4), op.get(7), op.store(16), op.get(4), op.get(8), op.store(32),
  ],
};

// gradInput(gy, x, gx, n4, a, b, s, mu)
const gradInput: WasmFunction = {
  name: 'gradInput',
  params: [i32, i32, i32, i32, f64, f64, f64, f64],
  locals: [i32, v128, v128, v128, v128],
  body: [
    op.get(4), op.f64x2Splat(), op.set(9), op.get(5), op.f64x2Splat(), op.set(10),
    op.get(6), op.f64x2Splat(), op.set(11), op.get(7), op.f64x2Splat(), op.set(12),
    ...groups(3, 8, [0, 1, 2], [
      op.get(2),
      // (a·dy + b) + s·(x − mu), as JavaScript evaluates a * dy + b + s * (x - mu)
      ...affine(pair(0, 0), 9, 10), op.get(11), ...pair(1, 0), op.get(12), op.f64x2Sub(), op.f64x2Mul(), op.f64x2Add(), op.f32x4DemoteF64x2Zero(),
      ...affine(pair(0, 8), 9, 10), op.get(11), ...pair(1, 8), op.get(12), op.f64x2Sub(), op.f64x2Mul(), op.f64x2Add(), op.f32x4DemoteF64x2Zero(),
      op.shuffle(LOW_PAIRS), op.store(),
    ]),
  ],
};

type SumsExport = (x: number, n4: number, out: number) => void;
type DeviationsExport = (x: number, n4: number, mu: number, out: number) => void;
type NormaliseExport = (x: number, y: number, n4: number, a: number, b: number) => void;
type GradSumsExport = (gy: number, x: number, n4: number, mu: number, out: number) => void;
type GradInputExport = (gy: number, x: number, gx: number, n4: number, a: number, b: number, s: number, mu: number) => void;

/** One instance per thread: its memory holds a channel's planes (x, and dy for the backward pass) and the results. */
export class SimdBatchNorm {
  private readonly mem: WasmHeap;
  readonly sums: SumsExport;
  readonly deviations: DeviationsExport;
  readonly normalise: NormaliseExport;
  readonly gradSums: GradSumsExport;
  readonly gradInput: GradInputExport;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    this.mem = new WasmHeap(instance.exports.memory as WebAssembly.Memory);
    this.sums = instance.exports.sums as SumsExport;
    this.deviations = instance.exports.deviations as DeviationsExport;
    this.normalise = instance.exports.normalise as NormaliseExport;
    this.gradSums = instance.exports.gradSums as GradSumsExport;
    this.gradInput = instance.exports.gradInput as GradInputExport;
  }

  /** The memory as float32 (the planes, from float index 12 on). */
  get heap(): Float32Array {
    return this.mem.f32;
  }

  /** The float64 results, at float64 index 0 … 5 (byte 0). */
  get results(): Float64Array {
    return this.mem.f64;
  }

  /** Room for `floats` floats after the results (float index 12 on). */
  ensure(floats: number): void {
    this.mem.ensure(floats + 12);
  }

  /** Copies channel ch's n planes of hw floats ([n, c, hw] at src) to heap[at + b·hw]. */
  load(src: Float32Array, n: number, c: number, hw: number, ch: number, at: number): void {
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      this.mem.f32.set(src.subarray(off, off + hw), at + b * hw);
    }
  }

  /** Copies heap[at + b·hw] back to channel ch's planes of dst. */
  store(dst: Float32Array, n: number, c: number, hw: number, ch: number, at: number): void {
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      dst.set(this.mem.f32.subarray(at + b * hw, at + (b + 1) * hw), off);
    }
  }
}

const kernels = simdKernel(() => assemble([sums, deviations, normalise, gradSums, gradInput], 1), (m) => new SimdBatchNorm(m));

/** This thread's instance, or null when SIMD is off or unavailable. */
export function simdBatchNorm(): SimdBatchNorm | null {
  return kernels.current();
}
