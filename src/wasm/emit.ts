/**
 * Just enough of the WebAssembly binary format to write a few numeric kernels by hand: value types,
 * the instructions those kernels use (i32 arithmetic, structured control flow, f32 and 128-bit
 * SIMD loads, stores and f32x4/f64x2 arithmetic), and a module holding functions and one exported memory.
 * The kernels stay readable TypeScript that assembles to bytes at start-up: no toolchain, no
 * binary blobs in the repository. Encoding reference: the WebAssembly core spec, §5 (binary
 * format) and the SIMD proposal's BinarySIMD.md.
 */

export type Bytes = number[];

export const i32 = 0x7f;
export const f32 = 0x7d;
export const f64 = 0x7c;
export const v128 = 0x7b;
export type ValType = typeof i32 | typeof f32 | typeof f64 | typeof v128;

/** Unsigned LEB128. */
export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (op: number, ...imm: number[]): Bytes => [0xfd, ...uleb(op), ...imm];
/** memarg: log2 of the alignment hint, then a constant byte offset added to the address. */
const memarg = (align: number, offset: number): Bytes => [...uleb(align), ...uleb(offset)];

/** The instructions the kernels use; each returns its encoding. Locals are addressed by index. */
export const op = {
  // control: every block here has no result (0x40)
  block: (): Bytes => [0x02, 0x40],
  loop: (): Bytes => [0x03, 0x40],
  if: (): Bytes => [0x04, 0x40],
  else: (): Bytes => [0x05],
  end: (): Bytes => [0x0b],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  // locals
  get: (i: number): Bytes => [0x20, ...uleb(i)],
  set: (i: number): Bytes => [0x21, ...uleb(i)],
  tee: (i: number): Bytes => [0x22, ...uleb(i)],
  // i32
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  eqz: (): Bytes => [0x45],
  ltU: (): Bytes => [0x49],
  geU: (): Bytes => [0x4f],
  add: (): Bytes => [0x6a],
  sub: (): Bytes => [0x6b],
  mul: (): Bytes => [0x6c],
  shl: (): Bytes => [0x74],
  shrU: (): Bytes => [0x76],
  i32Load: (offset = 0): Bytes => [0x28, ...memarg(2, offset)],
  // f32
  f32Load: (offset = 0): Bytes => [0x2a, ...memarg(2, offset)],
  f32Store: (offset = 0): Bytes => [0x38, ...memarg(2, offset)],
  f32Add: (): Bytes => [0x92],
  // f64
  f64Add: (): Bytes => [0xa0],
  f32DemoteF64: (): Bytes => [0xb6],
  // v128 (addresses need only 4-byte alignment; the hint says so)
  load: (offset = 0): Bytes => simd(0x00, ...memarg(2, offset)),
  load32Splat: (offset = 0): Bytes => simd(0x09, ...memarg(2, offset)),
  load64Splat: (offset = 0): Bytes => simd(0x0a, ...memarg(3, offset)),
  load64Zero: (offset = 0): Bytes => simd(0x5d, ...memarg(3, offset)),
  store: (offset = 0): Bytes => simd(0x0b, ...memarg(2, offset)),
  zero: (): Bytes => simd(0x0c, ...new Array<number>(16).fill(0)),
  /** v128.const of the same float64 in both lanes. */
  f64x2Const: (v: number): Bytes => {
    const b = new Uint8Array(new Float64Array([v, v]).buffer);
    return simd(0x0c, ...b);
  },
  /** v128.const of the same float32 in all four lanes. */
  f32x4Const: (v: number): Bytes => {
    const b = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    return simd(0x0c, ...b);
  },
  /** v128.const of four int32 lanes. */
  i32x4Const: (lanes: readonly [number, number, number, number]): Bytes => {
    const b = new Uint8Array(new Int32Array(lanes).buffer);
    return simd(0x0c, ...b);
  },
  i32x4Splat: (): Bytes => simd(0x11),
  i32x4Add: (): Bytes => simd(0xae),
  f32x4Eq: (): Bytes => simd(0x41),
  f32x4Ne: (): Bytes => simd(0x42),
  f32x4Gt: (): Bytes => simd(0x44),
  v128And: (): Bytes => simd(0x4e),
  v128Or: (): Bytes => simd(0x50),
  /** v128.bitselect(a, b, mask): a where mask bits are 1, b elsewhere. */
  v128Bitselect: (): Bytes => simd(0x52),
  /** i8x16.shuffle: byte i of the result is byte lanes[i] of a‖b (0-15 from a, 16-31 from b). */
  shuffle: (lanes: readonly number[]): Bytes => simd(0x0d, ...lanes),
  store32Lane: (lane: number, offset = 0): Bytes => simd(0x5a, ...memarg(2, offset), lane),
  f32x4DemoteF64x2Zero: (): Bytes => simd(0x5e),
  f64x2PromoteLowF32x4: (): Bytes => simd(0x5f),
  f64x2Splat: (): Bytes => simd(0x14),
  f64x2ExtractLane: (lane: number): Bytes => simd(0x21, lane),
  f64x2Neg: (): Bytes => simd(0xed),
  f64x2Sqrt: (): Bytes => simd(0xef),
  f32x4ExtractLane: (lane: number): Bytes => simd(0x1f, lane),
  f32x4Splat: (): Bytes => simd(0x13),
  f32x4ReplaceLane: (lane: number): Bytes => simd(0x20, lane),
  f32x4Add: (): Bytes => simd(0xe4),
  f32x4Sub: (): Bytes => simd(0xe5),
  f32x4Neg: (): Bytes => simd(0xe1),
  f32x4Mul: (): Bytes => simd(0xe6),
  /**
   * Relaxed SIMD's f32x4.relaxed_madd(a, b, c) = a·b + c, fused (one rounding) where the CPU has
   * FMA; engines without relaxed SIMD reject the module.
   */
  f32x4RelaxedMadd: (): Bytes => simd(0x105),
  /** Lane-wise maximum; NaN in either operand gives NaN (as Math.max). */
  f32x4Max: (): Bytes => simd(0xe9),
  /** Pseudo-maximum pmax(a, b) = a < b ? b : a: pmax(0, x) is x > 0 ? x : 0, NaN included (the CPU ReLU). */
  f32x4Pmax: (): Bytes => simd(0xeb),
  f64x2Add: (): Bytes => simd(0xf0),
  f64x2Sub: (): Bytes => simd(0xf1),
  f64x2Mul: (): Bytes => simd(0xf2),
};

/**
 * acc = acc + a·b on f32x4 locals: a multiply and an add, or with `fma` one relaxed multiply-add
 * (half the instructions; the kernels' inner loops are made of these).
 */
export function mulAdd(acc: number, a: number, b: number, fma: boolean): Bytes[] {
  if (fma) return [op.get(a), op.get(b), op.get(acc), op.f32x4RelaxedMadd(), op.set(acc)];
  return [op.get(acc), op.get(a), op.get(b), op.f32x4Mul(), op.f32x4Add(), op.set(acc)];
}

export interface WasmFunction {
  name: string;
  params: ValType[];
  /** Locals beyond the parameters, in index order after them. */
  locals: ValType[];
  /** Instructions, without the final `end`. */
  body: Bytes[];
}

const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: Bytes): Bytes => [id, ...uleb(content.length), ...content];
const name = (s: string): Bytes => vec([...s].map((c) => [c.charCodeAt(0)]));

/** A module of void functions (exported by name) and one memory exported as "memory". */
export function assemble(funcs: WasmFunction[], memoryPages: number): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const bodies = funcs.map((f) => {
    // locals compress into runs of one type
    const runs: Bytes[] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb(j - i), f.locals[i]!]);
      i = j;
    }
    const code = [...vec(runs), ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(memoryPages)]])),
    ...section(7, vec([...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]), [...name('memory'), 0x02, 0]])),
    ...section(10, vec(bodies)),
  ];
  return new Uint8Array(bytes);
}
