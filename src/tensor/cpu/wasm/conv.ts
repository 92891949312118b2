/**
 * Stride-1 convolution read straight from the image, in WebAssembly SIMD: no im2col.
 *
 * The GEMM path (../conv.ts) first writes the unfolded input, C·kH·kW values per output position,
 * and then multiplies. At stride 1 the column that the micro-kernel wants for tap (c, ki, kj) and
 * four neighbouring positions of one output row is four neighbouring floats of the (zero-padded)
 * input row ih = oh + ki, starting at column ow + kj: one unaligned vector load. So this kernel runs
 * the GEMM micro-kernel's loop (4 output channels × 8 positions, eight f32x4 sums, one splat weight
 * per channel and tap) with its B operand loaded from the padded image through a table of K
 * offsets (an "indirection" table, as XNNPACK calls it), and never writes the unfolded matrix.
 * The same float32 products, summed in the same tap order r = 0 … K − 1 as the GEMM path, except
 * that the sums start at the bias instead of adding it last; what is gone is im2col's pass over
 * memory and the GEMM's copy of each tile.
 *
 * Memory of one instance (one per thread), from address 0:
 *   [packed weight: row panels of 4 output channels, K × 4 | K byte offsets (i32) | bias, 4·mp |
 *    padded input slab: C × rows × wp | output tile: 4·mp channels × rows × wo4 (+ 8 spare) |
 *    pooled tile: 4·mp channels × rows/2 × pw4, when pooling]
 * where wo4 = outW rounded up to 4 (positions past outW are computed and dropped) and
 * wp = wo4 + kW − 1, so every load stays inside its row.
 *
 * Inference can also max-pool (2×2, stride 2) and apply ReLU to the tile before it leaves the
 * kernel's memory (`pool`), so the full-resolution activations are never copied out only to be read
 * back by the next op: for a block, the pooled quarter is all that leaves.
 */
import { WasmHeap } from '../../../wasm/heap.js';
import { simdKernel } from '../../../wasm/simd.js';
import { type Bytes, type WasmFunction, assemble, i32, mulAdd, op, v128 } from '../../../wasm/emit.js';
import {
  type WinogradDyExport, type WinogradInputExport, type WinogradOutputExport, type WinogradSplitExport, type WinogradWeightsExport,
  addWeightTransform, winogradDy, winogradInput, winogradOutput, winogradSplit, winogradWeights,
} from './winograd.js';

// parameters
const W = 0, OFFS = 1, X = 2, Y = 3, BIAS = 4, MP = 5, K = 6, ROWS = 7, NB8 = 8, TAIL = 9, XROW = 10, YROW = 11, YCHAN = 12;
// locals
const IP = 13, OH = 14, OB = 15, XB = 16, YB = 17, PA = 18, PO = 19, END = 20, ADDR = 21, KB = 22;
const V0 = 23, V1 = 24, S = 25, ACC = 26; // ACC … ACC + 7

const addTo = (i: number, value: number): Bytes[] => [op.get(i), op.i32(value), op.add(), op.set(i)];
const addLocal = (i: number, j: number): Bytes[] => [op.get(i), op.get(j), op.add(), op.set(i)];

/**
 * One tile: output channels 4·ip … 4·ip + 3 at the 8 (wide) or 4 positions from XB/YB. acc[2r + h]
 * holds channel r, positions 4h … 4h + 3.
 */
function tile(wide: boolean, fma: boolean): Bytes[] {
  const acc = (r: number, h: number) => ACC + 2 * r + h;
  const halves = wide ? [0, 1] : [0];
  const code: Bytes[] = [];
  // sums start at the bias: bias + 16·ip holds the four channels' values
  code.push(op.get(BIAS), op.get(IP), op.i32(4), op.shl(), op.add(), op.set(ADDR));
  for (let r = 0; r < 4; r++) {
    code.push(op.get(ADDR), op.load32Splat(4 * r), op.set(S));
    for (const h of halves) code.push(op.get(S), op.set(acc(r, h)));
  }
  // pa = w + ip·kb; po = offs; end = offs + 4k
  code.push(op.get(W), op.get(IP), op.get(KB), op.mul(), op.add(), op.set(PA));
  code.push(op.get(OFFS), op.tee(PO), op.get(K), op.i32(2), op.shl(), op.add(), op.set(END));
  // for each tap: the input vector(s) at xb + offs[r], times each channel's weight for that tap
  code.push(op.loop());
  code.push(op.get(XB), op.get(PO), op.i32Load(), op.add(), op.tee(ADDR), op.load(), op.set(V0));
  if (wide) code.push(op.get(ADDR), op.load(16), op.set(V1));
  for (let r = 0; r < 4; r++) {
    code.push(op.get(PA), op.load32Splat(4 * r), op.set(S));
    for (const h of halves) {
      code.push(...mulAdd(acc(r, h), S, h ? V1 : V0, fma));
    }
  }
  code.push(...addTo(PA, 16), ...addTo(PO, 4));
  code.push(op.get(PO), op.get(END), op.ltU(), op.brIf(0), op.end());
  // four channel planes, YCHAN bytes apart
  code.push(op.get(YB), op.set(ADDR));
  for (let r = 0; r < 4; r++) {
    for (const h of halves) code.push(op.get(ADDR), op.get(acc(r, h)), op.store(16 * h));
    if (r < 3) code.push(...addLocal(ADDR, YCHAN));
  }
  return code;
}

/**
 * conv(w, offs, x, y, bias, mp, k, rows, nb8, tail, xrow, yrow, ychan): for every panel ip < mp
 * and output row oh < rows, nb8 tiles of 8 positions, then one of 4 when tail ≠ 0. Row oh reads
 * from x + oh·xrow and writes y + 4·ip·ychan + oh·yrow (byte strides). mp, k, rows ≥ 1.
 */
const convFunction = (fma: boolean): WasmFunction => ({
  name: 'conv',
  params: new Array<typeof i32>(13).fill(i32),
  locals: [...new Array<typeof i32>(10).fill(i32), v128, v128, v128, ...new Array<typeof v128>(8).fill(v128)],
  body: [
    op.get(K), op.i32(4), op.shl(), op.set(KB),
    op.i32(0), op.set(IP),
    op.loop(),
    op.i32(0), op.set(OH),
    op.loop(),
    // xb = x + oh·xrow; yb = y + 4·ip·ychan + oh·yrow
    op.get(X), op.get(OH), op.get(XROW), op.mul(), op.add(), op.set(XB),
    op.get(Y), op.get(IP), op.i32(2), op.shl(), op.get(YCHAN), op.mul(), op.add(), op.get(OH), op.get(YROW), op.mul(), op.add(), op.set(YB),
    op.i32(0), op.set(OB),
    op.block(), op.loop(),
    op.get(OB), op.get(NB8), op.geU(), op.brIf(1),
    ...tile(true, fma),
    ...addTo(XB, 32), ...addTo(YB, 32), ...addTo(OB, 1),
    op.br(0), op.end(), op.end(),
    op.get(TAIL), op.if(), ...tile(false, fma), op.end(),
    ...addTo(OH, 1), op.get(OH), op.get(ROWS), op.ltU(), op.brIf(0), op.end(),
    ...addTo(IP, 1), op.get(IP), op.get(MP), op.ltU(), op.brIf(0), op.end(),
  ],
});

// pool(src, dst, rows, nb, srow, drow, relu): for pooled row t < rows (each from tile rows 2t and
// 2t + 1, srow bytes apart), nb blocks of 4 outputs, dst + t·drow; max(·, 0) after when relu ≠ 0
const PS = 0, PD = 1, PROWS = 2, PNB = 3, PSROW = 4, PDROW = 5, PRELU = 6;
const PT = 7, PB = 8, PA0 = 9, PA1 = 10, PDST = 11, PV = 12, PU = 13, PR = 14;
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
const poolFunction: WasmFunction = {
  name: 'pool',
  params: new Array<typeof i32>(7).fill(i32),
  locals: [i32, i32, i32, i32, i32, v128, v128, v128],
  body: [
    op.i32(0), op.set(PT),
    op.loop(),
    // a0 = src + 2t·srow (row 2t), a1 = a0 + srow (row 2t + 1), dst = dst + t·drow
    op.get(PS), op.get(PT), op.i32(1), op.shl(), op.get(PSROW), op.mul(), op.add(), op.tee(PA0),
    op.get(PSROW), op.add(), op.set(PA1),
    op.get(PD), op.get(PT), op.get(PDROW), op.mul(), op.add(), op.set(PDST),
    op.i32(0), op.set(PB),
    op.loop(),
    // the vertical maxima of 8 columns, then the larger of each neighbouring pair
    op.get(PA0), op.load(), op.get(PA1), op.load(), op.f32x4Max(), op.set(PV),
    op.get(PA0), op.load(16), op.get(PA1), op.load(16), op.f32x4Max(), op.set(PU),
    op.get(PV), op.get(PU), op.shuffle(EVEN), op.get(PV), op.get(PU), op.shuffle(ODD), op.f32x4Max(), op.set(PR),
    // ReLU as the CPU backend's: x > 0 ? x : 0 (so NaN gives 0), which pmax(0, x) is exactly
    op.get(PRELU), op.if(), op.zero(), op.get(PR), op.f32x4Pmax(), op.set(PR), op.end(),
    op.get(PDST), op.get(PR), op.store(),
    ...addTo(PA0, 32), ...addTo(PA1, 32), ...addTo(PDST, 16), ...addTo(PB, 1),
    op.get(PB), op.get(PNB), op.ltU(), op.brIf(0), op.end(),
    ...addTo(PT, 1), op.get(PT), op.get(PROWS), op.ltU(), op.brIf(0), op.end(),
  ],
};

// wgrad(offs, x, gy, out, mp, pairs, rows, nb4, xrow, gyrow, gychan): adds, for each panel of 4 output
// channels (ip < mp) and pair of taps (offs[2q], offs[2q + 1]), the dot products over `rows`
// output rows of nb4·4 positions each of dy (4 channels, gychan bytes apart) with the slab at that
// tap's offset, as 8 vectors of 4 partial sums at out + 128·(ip·pairs + q)
const GO = 0, GXS = 1, GG = 2, GOUT = 3, GMP = 4, GPAIRS = 5, GROWS = 6, GNB = 7, GXROW = 8, GGROW = 9, GGCHAN = 10;
const GIP = 11, GQ = 12, GOH = 13, GOB = 14, GXA = 15, GXB = 16, GGB = 17, GDST = 18, GADDR = 19;
const GVA = 20, GVB = 21, GS = 22, GACC = 23; // GACC … GACC + 7: channel r against tap h at GACC + 2r + h
const wgradFunction = (fma: boolean): WasmFunction => ({
  name: 'wgrad',
  params: new Array<typeof i32>(11).fill(i32),
  locals: [...new Array<typeof i32>(9).fill(i32), v128, v128, v128, ...new Array<typeof v128>(8).fill(v128)],
  body: [
    op.get(GOUT), op.set(GDST),
    op.i32(0), op.set(GIP),
    op.loop(),
    op.i32(0), op.set(GQ),
    op.loop(),
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((a) => [op.zero(), op.set(GACC + a)]),
    op.i32(0), op.set(GOH),
    op.loop(),
    // xa, xb: the slab at row oh and the two taps' offsets; gb: dy row oh of channel 4·ip
    op.get(GXS), op.get(GOH), op.get(GXROW), op.mul(), op.add(), op.tee(GADDR),
    op.get(GO), op.get(GQ), op.i32(3), op.shl(), op.add(), op.i32Load(), op.add(), op.set(GXA),
    op.get(GADDR), op.get(GO), op.get(GQ), op.i32(3), op.shl(), op.add(), op.i32Load(4), op.add(), op.set(GXB),
    op.get(GG), op.get(GIP), op.i32(2), op.shl(), op.get(GGCHAN), op.mul(), op.add(), op.get(GOH), op.get(GGROW), op.mul(), op.add(), op.set(GGB),
    op.i32(0), op.set(GOB),
    op.loop(),
    op.get(GXA), op.load(), op.set(GVA),
    op.get(GXB), op.load(), op.set(GVB),
    op.get(GGB), op.set(GADDR),
    ...[0, 1, 2, 3].flatMap((r) => [
      op.get(GADDR), op.load(), op.set(GS),
      ...mulAdd(GACC + 2 * r, GS, GVA, fma),
      ...mulAdd(GACC + 2 * r + 1, GS, GVB, fma),
      ...(r < 3 ? addLocal(GADDR, GGCHAN) : []),
    ]),
    ...addTo(GXA, 16), ...addTo(GXB, 16), ...addTo(GGB, 16), ...addTo(GOB, 1),
    op.get(GOB), op.get(GNB), op.ltU(), op.brIf(0), op.end(),
    ...addTo(GOH, 1), op.get(GOH), op.get(GROWS), op.ltU(), op.brIf(0), op.end(),
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((a) => [op.get(GDST), op.get(GDST), op.load(16 * a), op.get(GACC + a), op.f32x4Add(), op.store(16 * a)]),
    ...addTo(GDST, 128),
    ...addTo(GQ, 1), op.get(GQ), op.get(GPAIRS), op.ltU(), op.brIf(0), op.end(),
    ...addTo(GIP, 1), op.get(GIP), op.get(GMP), op.ltU(), op.brIf(0), op.end(),
  ],
});

// compact(src, dst, rows, n4, srow, drow): rows r < rows of n4 vectors, from src + r·srow to
// dst + r·drow, in order. In place (dst = src, drow ≤ srow, 16·n4 ≤ srow) a row's stores never reach
// a row not yet read, and what a row's last vector writes past its end the next row overwrites.
const CS = 0, CD = 1, CROWS = 2, CN4 = 3, CSROW = 4, CDROW = 5, CR = 6, CQ = 7, CA = 8, CB = 9;
const compactFunction: WasmFunction = {
  name: 'compact',
  params: new Array<typeof i32>(6).fill(i32),
  locals: [i32, i32, i32, i32],
  body: [
    op.i32(0), op.set(CR),
    op.loop(),
    op.get(CS), op.set(CA), op.get(CD), op.set(CB), op.i32(0), op.set(CQ),
    op.loop(),
    op.get(CB), op.get(CA), op.load(), op.store(),
    ...addTo(CA, 16), ...addTo(CB, 16), ...addTo(CQ, 1),
    op.get(CQ), op.get(CN4), op.ltU(), op.brIf(0), op.end(),
    ...addLocal(CS, CSROW), ...addLocal(CD, CDROW), ...addTo(CR, 1),
    op.get(CR), op.get(CROWS), op.ltU(), op.brIf(0), op.end(),
  ],
};
type CompactExport = (src: number, dst: number, rows: number, n4: number, srow: number, drow: number) => void;

type WgradExport = (
  offs: number, x: number, gy: number, out: number, mp: number, pairs: number, rows: number, nb4: number,
  xrow: number, gyrow: number, gychan: number,
) => void;

type PoolExport = (src: number, dst: number, rows: number, nb: number, srow: number, drow: number, relu: number) => void;

type ConvExport = (
  w: number, offs: number, x: number, y: number, bias: number, mp: number, k: number, rows: number,
  nb8: number, tail: number, xrow: number, yrow: number, ychan: number,
) => void;

/** What one call convolves: channels, kernel, and the output rows [r0, r1) of one sample. */
export interface DirectConvShape {
  inC: number; inH: number; inW: number; outC: number; kH: number; kW: number;
  padH: number; padW: number; outH: number; outW: number;
}


/** A [outC, K] weight as 4-channel row panels: heap[at + (ip·K + r)·4 + i] = w[4·ip + i][r], zero past outC. */
function packPanels(w: Float32Array, outC: number, K: number, heap: Float32Array, at: number): void {
  const mp = (outC + 3) >> 2;
  for (let ip = 0; ip < mp; ip++) {
    const base = at + ip * K * 4;
    for (let i = 0; i < 4; i++) {
      const co = ip * 4 + i;
      if (co < outC) for (let r = 0; r < K; r++) heap[base + r * 4 + i] = w[co * K + r]!;
      else for (let r = 0; r < K; r++) heap[base + r * 4 + i] = 0;
    }
  }
}
/** Floats of transformed input and products per group of tile rows: 256 KB, about this machine's L2 share. */
const WINOGRAD_GROUP_FLOATS = 65536;
const ceil4 = (v: number) => (v + 3) & ~3;

/** One instance per thread (its own memory, grown as needed, never shrunk). */
export class SimdConv {
  private readonly conv: ConvExport;
  private readonly pool: PoolExport;
  private readonly wgrad: WgradExport;
  private readonly winIn: WinogradInputExport;
  private readonly winOut: WinogradOutputExport;
  private readonly winW: WinogradWeightsExport;
  private readonly winSplit: WinogradSplitExport;
  private readonly compact: CompactExport;
  private readonly winDy: WinogradDyExport;
  private readonly mem: WasmHeap;
  private get heap(): Float32Array {
    return this.mem.f32;
  }
  private get words(): Int32Array {
    return this.mem.i32;
  }

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    this.mem = new WasmHeap(instance.exports.memory as WebAssembly.Memory);
    this.conv = instance.exports.conv as ConvExport;
    this.pool = instance.exports.pool as PoolExport;
    this.wgrad = instance.exports.wgrad as WgradExport;
    this.winIn = instance.exports.winIn as WinogradInputExport;
    this.winOut = instance.exports.winOut as WinogradOutputExport;
    this.winW = instance.exports.winW as WinogradWeightsExport;
    this.winSplit = instance.exports.winSplit as WinogradSplitExport;
    this.compact = instance.exports.compact as CompactExport;
    this.winDy = instance.exports.winDy as WinogradDyExport;
  }

  private ensure(floats: number): void {
    this.mem.ensure(floats);
  }

  /**
   * Copies `channels` planes out of the kernel's memory: plane c's `rows` rows of `len` floats at
   * heap[at + (c·rows + t)·stride] go to out[outOff + c·plane + t·len]. The rows are first made
   * contiguous in place (one pass in WebAssembly), so a plane, or all of them when they are
   * contiguous in `out` too, is one copy, where a copy per row made hundreds of small calls a pass.
   * With `first` and `count`, only rows first … first + count − 1 of each plane go out.
   */
  private copyOut(
    at: number, channels: number, rows: number, len: number, stride: number, out: Float32Array, outOff: number, plane: number,
    first = 0, count = rows,
  ): void {
    if (len !== stride) this.compact(4 * at, 4 * at, channels * rows, ceil4(len) >> 2, 4 * stride, 4 * len);
    const heap = this.heap;
    if (first === 0 && count === rows && plane === rows * len) {
      out.set(heap.subarray(at, at + channels * rows * len), outOff);
      return;
    }
    for (let c = 0; c < channels; c++) {
      const src = at + (c * rows + first) * len;
      out.set(heap.subarray(src, src + count * len), outOff + c * plane);
    }
  }

  /**
   * Winograd's slab: `count` rows of `chans` planes ([chans, srcH, srcW] at src[srcOff…]), row t
   * being source row first + t, padded by `pad` columns on the left (column m is source column
   * m − pad) and split into even columns (E, ew floats at slabAt + (c·count + t)·2ew) and odd ones
   * (O, ew after E). Rows outside [lo, hi) ∩ [0, srcH) and columns outside the plane are zero. The
   * rows are copied in as they are (one copy when they are whole planes), split by winSplit, and
   * the margins it filled from neighbouring rows zeroed. rawAt: room for the copy, with a vector
   * before it and 2·ew + 8 floats after.
   */
  private splitRows(
    src: Float32Array, srcOff: number, chans: number, srcH: number, srcW: number, first: number, count: number,
    lo: number, hi: number, pad: number, slabAt: number, ew: number, rawAt: number,
  ): void {
    const heap = this.heap;
    const r0 = Math.max(0, lo, first);
    const r1 = Math.min(srcH, hi, first + count);
    const rawRows = Math.max(0, r1 - r0);
    if (rawRows > 0) {
      if (rawRows === srcH) heap.set(src.subarray(srcOff, srcOff + chans * srcH * srcW), rawAt);
      else for (let c = 0; c < chans; c++) heap.set(src.subarray(srcOff + (c * srcH + r0) * srcW, srcOff + (c * srcH + r1) * srcW), rawAt + c * rawRows * srcW);
    }
    heap.fill(0, slabAt, slabAt + chans * count * 2 * ew);
    this.winSplit(4 * rawAt, 4 * slabAt, chans, count, rawRows, first - r0, 4 * srcW, 4 * pad, ew >> 2, 4 * count * 2 * ew, 4 * 2 * ew, 4 * ew);
    for (let c = 0; c < chans; c++) {
      for (let t = Math.max(0, r0 - first); t < r1 - first; t++) {
        const e = slabAt + (c * count + t) * 2 * ew;
        for (let m = 0; m < pad; m++) heap[e + (m & 1) * ew + (m >> 1)] = 0;
        for (let m = pad + srcW; m < 2 * ew; m++) heap[e + (m & 1) * ew + (m >> 1)] = 0;
      }
    }
  }

  /**
   * dw[dwOff + co·9·inC + 9c + 3ki + kj] += the weight gradient of a 3×3, stride-1 convolution over
   * the given chunks (output rows [r0, r1) of sample n), by Winograd F(2×2, 3×3) (./winograd.ts):
   * the input's and dy's tiles transformed, their products summed over the tiles of every chunk in
   * this memory, and transformed back once at the end. dy rows outside a chunk count as zero, so
   * a tile row shared by two chunks is summed once.
   */
  weightGradWinograd(
    gy: Float32Array, x: Float32Array, dw: Float32Array, dwOff: number, s: DirectConvShape,
    chunks: readonly { n: number; r0: number; r1: number }[],
  ): void {
    const { inC, inH, inW, outC, outH, outW, padH, padW } = s;
    const mp = (outC + 3) >> 2;
    const pairs = (inC + 1) >> 1;
    const tw = (outW + 1) >> 1;
    const tw4 = ceil4(tw);
    const ew = tw4 + 4;
    const maxTiles = Math.max(...chunks.map(({ r0, r1 }) => ((r1 + 1) >> 1) - (r0 >> 1)));
    // longer dot products than the forward pass's groups: each wgrad call pays its sums' loads and stores once
    const group = Math.max(1, Math.min(maxTiles, Math.floor((4 * WINOGRAD_GROUP_FLOATS) / (16 * (inC + 4 * mp) * tw4))));
    const t4 = group * tw4;
    const sums = 16 * mp * pairs * 32; // per ξ, wgrad's 8 vectors of partial sums per panel and pair
    const accAt = 0;
    const offAt = accAt + sums;
    const slabAt = offAt + 2 * pairs;
    const srMax = 2 * maxTiles + 2;
    const dyAt = slabAt + inC * srMax * 2 * ew;
    const vAt = dyAt + outC * 2 * maxTiles * 2 * ew;
    const yAt = vAt + 16 * inC * t4;
    const rawAt = yAt + 16 * 4 * mp * t4 + 4;
    this.ensure(rawAt + Math.max(inC * srMax * inW, outC * 2 * maxTiles * outW) + 2 * ew + 8);
    const heap = this.heap;
    heap.fill(0, accAt, offAt);
    for (let c = 0; c < 2 * pairs; c++) this.words[offAt + c] = 4 * (c < inC ? c : 0) * t4;
    heap.fill(0, yAt, rawAt); // Ŷ of the channels past outC stays zero
    const inSize = inC * inH * inW;
    const gySize = outC * outH * outW;
    for (const { n, r0, r1 } of chunks) {
      const th0 = r0 >> 1;
      const nt = ((r1 + 1) >> 1) - th0;
      const sr = 2 * nt + 2;
      this.splitRows(x, n * inSize, inC, inH, inW, 2 * th0 - padH, sr, 0, inH, padW, slabAt, ew, rawAt);
      this.splitRows(gy, n * gySize, outC, outH, outW, 2 * th0, 2 * nt, r0, r1, 0, dyAt, ew, rawAt);
      for (let g0 = 0; g0 < nt; g0 += group) {
        const rows = Math.min(group, nt - g0);
        this.winIn(
          4 * (slabAt + 2 * g0 * 2 * ew), 4 * vAt, inC, rows, tw4 >> 2, 4 * sr * 2 * ew, 4 * 2 * ew, 4 * ew,
          4 * inC * t4, 4 * t4, 4 * tw4,
        );
        this.winDy(
          4 * (dyAt + 2 * g0 * 2 * ew), 4 * yAt, outC, rows, tw4 >> 2, 4 * 2 * nt * 2 * ew, 4 * 2 * ew, 4 * ew,
          4 * 4 * mp * t4, 4 * t4, 4 * tw4,
        );
        for (let xi = 0; xi < 16; xi++) {
          this.wgrad(
            4 * offAt, 4 * (vAt + xi * inC * t4), 4 * (yAt + xi * 4 * mp * t4), 4 * (accAt + xi * mp * pairs * 32),
            mp, pairs, 1, (rows * tw4) >> 2, 0, 0, 4 * t4,
          );
        }
      }
    }
    // each pair's 16 sums (4 lanes each) through Gᵀ·D·G into the 3×3 kernel
    const d = new Float64Array(16);
    for (let co = 0; co < outC; co++) {
      for (let c = 0; c < inC; c++) {
        const lanes = accAt + ((co >> 2) * pairs + (c >> 1)) * 32 + (2 * (co & 3) + (c & 1)) * 4;
        for (let xi = 0; xi < 16; xi++) {
          const v = lanes + xi * mp * pairs * 32;
          d[xi] = heap[v]! + heap[v + 1]! + heap[v + 2]! + heap[v + 3]!;
        }
        addWeightTransform(d, dw, dwOff + (co * inC + c) * 9);
      }
    }
  }

  /**
   * The K tap offsets at offAt (tap r = (c, ki, kj) reads the slab at byte offset
   * 4·((c·slab + ki)·wp + kj)) and the slab at xAt: input rows r0 − padH … r0 + slab − 1 − padH of
   * one sample, each wp wide, zero outside the image and in the margins.
   */
  private loadSlab(x: Float32Array, xOff: number, s: DirectConvShape, r0: number, slab: number, wp: number, offAt: number, xAt: number): void {
    const { inC, inH, inW, kH, kW, padH, padW } = s;
    const heap = this.heap;
    for (let c = 0, r = 0; c < inC; c++) {
      for (let ki = 0; ki < kH; ki++) for (let kj = 0; kj < kW; kj++, r++) this.words[offAt + r] = 4 * ((c * slab + ki) * wp + kj);
    }
    heap.fill(0, xAt, xAt + inC * slab * wp);
    for (let c = 0; c < inC; c++) {
      for (let t = 0; t < slab; t++) {
        const ih = r0 + t - padH;
        if (ih < 0 || ih >= inH) continue;
        const src = xOff + (c * inH + ih) * inW;
        heap.set(x.subarray(src, src + inW), xAt + (c * slab + t) * wp + padW);
      }
    }
  }

  /**
   * out[outOff + co·outH·outW + oh·outW + ow] = bias[co] + Σ w[co][c][ki][kj]·x[xOff + …] for output
   * rows oh in [r0, r1) of one sample (stride 1, zero padding padH, padW). `w` is [outC, inC, kH, kW].
   * With `pool`: the 2×2, stride-2 max-pool of that (then ReLU when `relu`), pooled rows [r0, r1)
   * of a [outC, ⌊outH/2⌋, ⌊outW/2⌋] output. `packWeights` false: the same `w` as the last call's,
   * still packed (a lane's later samples or row ranges skip repacking it).
   */
  run(
    x: Float32Array, xOff: number, w: Float32Array, bias: Float32Array | null,
    out: Float32Array, outOff: number, s: DirectConvShape, r0: number, r1: number,
    pool = false, relu = false, packWeights = true,
  ): void {
    const { inC, outC, kH, kW, outH, outW } = s;
    const K = inC * kH * kW;
    const mp = (outC + 3) >> 2;
    const c0 = pool ? 2 * r0 : r0; // the convolution's rows
    const rows = pool ? 2 * (r1 - r0) : r1 - r0;
    const slab = rows + kH - 1; // input rows the output rows read
    const wo4 = ceil4(outW);
    const wp = wo4 + kW - 1;
    const pw = outW >> 1;
    const pw4 = ceil4(pw);
    const wAt = 0;
    const offAt = wAt + mp * 4 * K;
    const biasAt = offAt + K;
    const xAt = biasAt + mp * 4;
    const yAt = xAt + inC * slab * wp;
    // pooling reads up to 2·pw4 columns of a wo4-wide row: at most 6 past the tile's end
    const pAt = yAt + mp * 4 * rows * wo4 + 8;
    this.ensure(pool ? pAt + mp * 4 * (rows >> 1) * pw4 : pAt);
    const heap = this.heap;

    // weights as 4-channel row panels (at address 0, so growing the memory keeps them)
    if (packWeights) packPanels(w, outC, K, heap, wAt);
    heap.fill(0, biasAt, xAt);
    if (bias) heap.set(bias.subarray(0, outC), biasAt);
    this.loadSlab(x, xOff, s, c0, slab, wp, offAt, xAt);
    this.conv(
      wAt * 4, offAt * 4, xAt * 4, yAt * 4, biasAt * 4, mp, K, rows, wo4 >> 3, wo4 & 4 ? 1 : 0,
      wp * 4, wo4 * 4, rows * wo4 * 4,
    );
    if (!pool) {
      this.copyOut(yAt, outC, rows, outW, wo4, out, outOff + r0 * outW, outH * outW);
      return;
    }
    const prows = rows >> 1;
    this.pool(yAt * 4, pAt * 4, mp * 4 * prows, pw4 >> 2, wo4 * 4, pw4 * 4, relu ? 1 : 0);
    this.copyOut(pAt, outC, prows, pw, pw4, out, outOff + r0 * pw, (outH >> 1) * pw);
  }

  /**
   * The same as `run` for a 3×3 kernel (any padding, stride 1), by Winograd F(2×2, 3×3)
   * (./winograd.ts): output rows [r0, r1), or with `pool` pooled rows [r0, r1) (then ReLU when
   * `relu`). `packWeights` false: the same `w` as the last call's, still transformed. Tiles are
   * 2×2 output blocks at even coordinates, tw < tiles per row rounded up to 4; the tile rows are
   * taken a group at a time so that a group's transformed input and products stay in cache.
   */
  runWinograd(
    x: Float32Array, xOff: number, w: Float32Array, bias: Float32Array | null,
    out: Float32Array, outOff: number, s: DirectConvShape, r0: number, r1: number, pool = false, relu = false,
    packWeights = true,
  ): void {
    const { inC, inH, inW, outC, outH, outW, padH, padW } = s;
    const mp = (outC + 3) >> 2;
    const th0 = pool ? r0 : r0 >> 1;
    const th1 = pool ? r1 : (r1 + 1) >> 1;
    const tw = pool ? outW >> 1 : (outW + 1) >> 1; // tiles per row that are needed
    const tw4 = ceil4(tw);
    const nt = th1 - th0;
    const ew = tw4 + 4; // E and O row lengths (a block reads E and O at tw … tw + 4)
    const sr = 2 * nt + 2; // input rows of the chunk's tiles
    const group = Math.max(1, Math.min(nt, Math.floor(WINOGRAD_GROUP_FLOATS / (16 * (inC + 4 * mp) * tw4))));
    const t4 = group * tw4; // tiles of a full group
    const uAt = 0;
    const rawAt = uAt + 16 * mp * 4 * inC; // the weight as it is, [4·mp, inC, 3, 3], before its transform
    const offAt = rawAt + mp * 4 * 9 * inC;
    const zeroAt = offAt + inC;
    const biasAt = zeroAt + 4 * mp;
    const slabAt = biasAt + 4 * mp;
    const vAt = slabAt + inC * sr * 2 * ew;
    const mAt = vAt + 16 * inC * t4;
    const yAt = mAt + 16 * 4 * mp * t4;
    const yRow = pool ? tw4 : 4 * tw4; // floats per tile row of the output region
    // the chunk's input rows as they are, with room for winSplit's reads before and past them
    const rawAt2 = yAt + outC * nt * yRow + 4;
    this.ensure(rawAt2 + inC * sr * inW + 2 * ew + 8);
    const heap = this.heap;

    // U = G g Gᵀ, kept with the weights at address 0 for a lane's later samples and row ranges
    if (packWeights) {
      heap.set(w.subarray(0, outC * inC * 9), rawAt);
      heap.fill(0, rawAt + outC * inC * 9, offAt);
      this.winW(4 * rawAt, 4 * uAt, mp, inC, 4 * mp * 4 * inC);
    }
    for (let c = 0; c < inC; c++) this.words[offAt + c] = 4 * c * t4;
    heap.fill(0, zeroAt, slabAt);
    if (bias) heap.set(bias.subarray(0, outC), biasAt);
    // the input rows 2·th0 − padH … of the chunk, padded and split into even and odd columns
    this.splitRows(x, xOff, inC, inH, inW, 2 * th0 - padH, sr, 0, inH, padW, slabAt, ew, rawAt2);
    for (let g0 = 0; g0 < nt; g0 += group) {
      const rows = Math.min(group, nt - g0);
      const tiles = rows * tw4;
      this.winIn(
        4 * (slabAt + 2 * g0 * 2 * ew), 4 * vAt, inC, rows, tw4 >> 2, 4 * sr * 2 * ew, 4 * 2 * ew, 4 * ew,
        4 * inC * t4, 4 * t4, 4 * tw4,
      );
      for (let xi = 0; xi < 16; xi++) {
        this.conv(
          4 * (uAt + xi * mp * 4 * inC), 4 * offAt, 4 * (vAt + xi * inC * t4), 4 * (mAt + xi * 4 * mp * t4), 4 * zeroAt,
          mp, inC, 1, tiles >> 3, tiles & 4 ? 1 : 0, 0, 0, 4 * t4,
        );
      }
      this.winOut(
        4 * mAt, 4 * (yAt + g0 * yRow), 4 * biasAt, outC, rows, tw4 >> 2, 4 * 4 * mp * t4, 4 * t4, 4 * tw4,
        4 * nt * yRow, 4 * (pool ? tw4 : 2 * tw4), pool ? 1 : 0, relu ? 1 : 0,
      );
    }
    if (pool) {
      const pw = outW >> 1;
      this.copyOut(yAt, outC, nt, pw, tw4, out, outOff + th0 * pw, (outH >> 1) * pw);
      return;
    }
    // rows 2·th0 … 2·th1 − 1 were computed; [r0, r1) go out
    this.copyOut(yAt, outC, 2 * nt, outW, 2 * tw4, out, outOff + r0 * outW, outH * outW, r0 - 2 * th0, r1 - r0);
  }

  /**
   * dw[co·K + r] += Σ dy[co][oh][ow]·x[c][oh + ki − padH][ow + kj − padW] over output rows
   * [r0, r1) of one sample: the weight gradient (tap r = (c, ki, kj), stride 1). Each dot product
   * runs over the rows and over positions four at a time, dy zero past outW so the padded
   * columns add nothing; the four partial sums are added here.
   */
  weightGrad(
    gy: Float32Array, gyOff: number, x: Float32Array, xOff: number, dw: Float32Array, dwOff: number,
    s: DirectConvShape, r0: number, r1: number,
  ): void {
    const { inC, outC, kH, kW, outH, outW } = s;
    const K = inC * kH * kW;
    const pairs = (K + 1) >> 1;
    const mp = (outC + 3) >> 2;
    const rows = r1 - r0;
    const slab = rows + kH - 1;
    const wo4 = ceil4(outW);
    const wp = wo4 + kW - 1;
    const offAt = 0;
    const xAt = offAt + 2 * pairs;
    const gAt = xAt + inC * slab * wp;
    const oAt = gAt + mp * 4 * rows * wo4;
    this.ensure(oAt + mp * pairs * 32);
    const heap = this.heap;
    heap.fill(0, gAt, oAt + mp * pairs * 32); // dy's padding, and the sums wgrad adds to
    this.loadSlab(x, xOff, s, r0, slab, wp, offAt, xAt);
    if (K & 1) this.words[offAt + K] = 0; // a last, unused tap
    for (let co = 0; co < outC; co++) {
      for (let t = 0; t < rows; t++) {
        const src = gyOff + (co * outH + r0 + t) * outW;
        heap.set(gy.subarray(src, src + outW), gAt + (co * rows + t) * wo4);
      }
    }
    this.wgrad(offAt * 4, xAt * 4, gAt * 4, oAt * 4, mp, pairs, rows, wo4 >> 2, wp * 4, wo4 * 4, rows * wo4 * 4);
    for (let ip = 0; ip < mp; ip++) {
      for (let q = 0; q < pairs; q++) {
        const tile = oAt + (ip * pairs + q) * 32;
        for (let i = 0; i < 4; i++) {
          const co = ip * 4 + i;
          if (co >= outC) break;
          for (let h = 0; h < 2; h++) {
            const r = 2 * q + h;
            if (r >= K) break;
            const v = tile + (2 * i + h) * 4;
            dw[dwOff + co * K + r] += heap[v]! + heap[v + 1]! + heap[v + 2]! + heap[v + 3]!;
          }
        }
      }
    }
  }
}

const kernels = simdKernel((fma) => assemble([convFunction(fma), poolFunction, wgradFunction(fma), winogradInput, winogradOutput, winogradWeights, winogradSplit, winogradDy, compactFunction], 4), (m) => new SimdConv(m));

/** The direct SIMD convolution (this thread's instance), or null when SIMD is off or unavailable. */
export function simdConv(): SimdConv | null {
  return kernels.current();
}
