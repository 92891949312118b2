/**
 * Winograd F(2×2, 3×3) for stride-1 3×3 convolutions with many channels (the EmotionCNN's conv2
 * and conv3), in WebAssembly SIMD.
 *
 * A 2×2 block of outputs of one channel pair reads a 4×4 patch d of the input and costs 36
 * multiplications directly. Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2015) computes it as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A with 16:
 *
 *   Bᵀ = [1  0 −1  0]   G = [ 1    0    0 ]   Aᵀ = [1  1  1  0]
 *        [0  1  1  0]       [1/2  1/2  1/2]        [0  1 −1 −1]
 *        [0 −1  1  0]       [1/2 −1/2  1/2]
 *        [0  1  0 −1]       [ 0    0    1 ]
 *
 * Over C input channels the element-wise products become sums, so a convolution turns into three
 * steps: the input transform V = Bᵀ d B of every tile and channel (additions only), 16 independent
 * matrix products M_ξ = U_ξ · V_ξ ([outC × C] · [C × tiles], one per element ξ of the 4×4
 * transformed tile, U = G g Gᵀ the transformed weights), and the output transform Aᵀ M A
 * (additions only) plus the bias. The products do 16·C multiplications per tile and output
 * channel instead of 36·C: 2.25 times fewer. They run on the direct kernel's micro-kernel (./conv.ts's
 * `conv`, 4 output channels × 8 tiles, with its "taps" the C rows of V_ξ), so no new product code.
 *
 * A 2×2 output tile at even coordinates is exactly one window of the 2×2, stride-2 max-pool that
 * follows conv2 and conv3, so with `pool` the output transform takes the tile's maximum (and the
 * ReLU) and only the pooled value leaves the kernel's memory.
 *
 * Vectorised over four neighbouring tiles of one tile row: tile tw's patch starts at padded input
 * column 2·tw, so its columns 0 and 2 are the even-indexed columns 2·tw and 2·tw + 2, and 1 and 3
 * the odd ones. The input rows are therefore stored split into their even and odd columns (E, O),
 * and the four column vectors of four tiles are plain loads of E and O at tw and tw + 1.
 *
 * The weight gradient uses the same identity read backwards (the map (g, d) ↦ y is bilinear, so
 * Σ dy·y = Σ_ξ (A dy Aᵀ)_ξ (G g Gᵀ)_ξ (Bᵀ d B)_ξ): dW = Gᵀ[Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)]G, with the
 * same input transform, dy's 2×2 tiles transformed to 4×4, and 16 sums over tiles of products of
 * the two (the direct weight-gradient kernel's loop, with input channels as its taps).
 *
 * The transforms are exact in real arithmetic; in float32 the results differ from the direct sum
 * by a few units in the last place of the inputs' scale (the tests hold it to the im2col reference
 * within 2e-6 of the largest output). One difference in kind: a NaN or infinite input reaches every
 * output of the tiles whose 4×4 patch holds it, not only those of its 3×3 receptive field (as in
 * other Winograd implementations); a finite input gives finite outputs.
 */
import { type Bytes, type WasmFunction, i32, op, v128 } from '../../../wasm/emit.js';

const addTo = (i: number, value: number): Bytes[] => [op.get(i), op.i32(value), op.add(), op.set(i)];
const addLocal = (i: number, j: number): Bytes[] => [op.get(i), op.get(j), op.add(), op.set(i)];
/** local dst = base + Σ a·b over the (a, b) pairs of locals: an i32 address */
const address = (dst: number, base: number, ...terms: [number, number][]): Bytes[] => [
  op.get(base), ...terms.flatMap(([a, b]) => [op.get(a), op.get(b), op.mul(), op.add()]), op.set(dst),
];

// winIn(slab, v, chans, trows, nq, cbytes, rbytes, obytes, vsx, vc, vt): for channel c < chans, tile row
// t < trows and block q < nq of 4 tiles, the rows 2t … 2t + 3 of channel c's slab (row r: E at
// slab + c·cbytes + r·rbytes, O at obytes after it) give the 16 vectors V_ξ, ξ = 4i + j, stored at
// v + ξ·vsx + c·vc + t·vt + 16q.
const I_SLAB = 0, I_V = 1, I_CH = 2, I_TR = 3, I_NQ = 4, I_CB = 5, I_RB = 6, I_OB = 7, I_VSX = 8, I_VC = 9, I_VT = 10;
const I_C = 11, I_T = 12, I_Q = 13, I_RA = 14, I_A = 15, I_Q16 = 16, I_2T = 17;
const I_E = 18, I_E1 = 19, I_O = 20, I_O1 = 21, I_H = 22; // I_H … I_H + 15: h[4i + j]
export const winogradInput: WasmFunction = {
  name: 'winIn',
  params: new Array<typeof i32>(11).fill(i32),
  locals: [...new Array<typeof i32>(7).fill(i32), ...new Array<typeof v128>(20).fill(v128)],
  body: [
    op.i32(0), op.set(I_C),
    op.loop(),
    op.i32(0), op.set(I_T),
    op.loop(),
    op.get(I_T), op.i32(1), op.shl(), op.set(I_2T),
    op.i32(0), op.set(I_Q),
    op.loop(),
    op.get(I_Q), op.i32(4), op.shl(), op.set(I_Q16),
    // row 2t of channel c, at block q
    ...address(I_RA, I_SLAB, [I_C, I_CB], [I_2T, I_RB]), ...addLocal(I_RA, I_Q16),
    // the row transform d·B of patch rows i = 0 … 3: h_i = (d0 − d2, d1 + d2, d2 − d1, d1 − d3)
    ...[0, 1, 2, 3].flatMap((i) => [
      op.get(I_RA), op.load(), op.set(I_E),
      op.get(I_RA), op.load(4), op.set(I_E1),
      op.get(I_RA), op.get(I_OB), op.add(), op.tee(I_A), op.load(), op.set(I_O),
      op.get(I_A), op.load(4), op.set(I_O1),
      op.get(I_E), op.get(I_E1), op.f32x4Sub(), op.set(I_H + 4 * i),
      op.get(I_O), op.get(I_E1), op.f32x4Add(), op.set(I_H + 4 * i + 1),
      op.get(I_E1), op.get(I_O), op.f32x4Sub(), op.set(I_H + 4 * i + 2),
      op.get(I_O), op.get(I_O1), op.f32x4Sub(), op.set(I_H + 4 * i + 3),
      ...(i < 3 ? addLocal(I_RA, I_RB) : []),
    ]),
    // the column transform Bᵀ·h, stored element by element: v_0j = h0j − h2j, v_1j = h1j + h2j,
    // v_2j = h2j − h1j, v_3j = h1j − h3j
    ...address(I_A, I_V, [I_C, I_VC], [I_T, I_VT]), ...addLocal(I_A, I_Q16),
    ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].flatMap((j) => {
      const h = (row: number) => op.get(I_H + 4 * row + j);
      const [a, b, combine] = [[0, 2, op.f32x4Sub()], [1, 2, op.f32x4Add()], [2, 1, op.f32x4Sub()], [1, 3, op.f32x4Sub()]][i] as [number, number, Bytes];
      return [op.get(I_A), h(a), h(b), combine, op.store(), ...addLocal(I_A, I_VSX)];
    })),
    ...addTo(I_Q, 1), op.get(I_Q), op.get(I_NQ), op.ltU(), op.brIf(0), op.end(),
    ...addTo(I_T, 1), op.get(I_T), op.get(I_TR), op.ltU(), op.brIf(0), op.end(),
    ...addTo(I_C, 1), op.get(I_C), op.get(I_CH), op.ltU(), op.brIf(0), op.end(),
  ],
};

// winSplit(raw, slab, chans, srows, rawRows, ih0, rowBytes, padBytes, nq, cbytes, rbytes, obytes): slab row
// t of channel c is raw row ih = ih0 + t (when 0 ≤ ih < rawRows, else left as it is) read from
// padBytes before its start, split into its even floats (E, at slab + c·cbytes + t·rbytes) and odd
// ones (O, obytes after E), nq blocks of four each. Raw rows are rowBytes long, a channel's rawRows
// rows after one another. What it reads before and past a row lands in the margins, which the
// caller zeroes.
const S_RAW = 0, S_SLAB = 1, S_CH = 2, S_SR = 3, S_RR = 4, S_IH0 = 5, S_ROW = 6, S_PAD = 7, S_NQ = 8, S_CB = 9, S_RB = 10, S_OB = 11;
const S_C = 12, S_T = 13, S_Q = 14, S_SRC = 15, S_DST = 16, S_IH = 17, S_A = 18, S_B = 19;
const EVEN = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
export const winogradSplit: WasmFunction = {
  name: 'winSplit',
  params: new Array<typeof i32>(12).fill(i32),
  locals: [...new Array<typeof i32>(6).fill(i32), v128, v128],
  body: [
    op.i32(0), op.set(S_C),
    op.loop(),
    op.i32(0), op.set(S_T),
    op.loop(),
    op.get(S_IH0), op.get(S_T), op.add(), op.tee(S_IH), op.get(S_RR), op.ltU(), op.if(),
    // src = raw + (c·rawRows + ih)·rowBytes − padBytes; dst = slab + c·cbytes + t·rbytes
    op.get(S_RAW), op.get(S_C), op.get(S_RR), op.mul(), op.get(S_IH), op.add(), op.get(S_ROW), op.mul(), op.add(), op.get(S_PAD), op.sub(), op.set(S_SRC),
    ...address(S_DST, S_SLAB, [S_C, S_CB], [S_T, S_RB]),
    op.i32(0), op.set(S_Q),
    op.loop(),
    op.get(S_SRC), op.load(), op.set(S_A),
    op.get(S_SRC), op.load(16), op.set(S_B),
    op.get(S_DST), op.get(S_A), op.get(S_B), op.shuffle(EVEN), op.store(),
    op.get(S_DST), op.get(S_OB), op.add(), op.get(S_A), op.get(S_B), op.shuffle(ODD), op.store(),
    ...addTo(S_SRC, 32), ...addTo(S_DST, 16), ...addTo(S_Q, 1),
    op.get(S_Q), op.get(S_NQ), op.ltU(), op.brIf(0), op.end(),
    op.end(),
    ...addTo(S_T, 1), op.get(S_T), op.get(S_SR), op.ltU(), op.brIf(0), op.end(),
    ...addTo(S_C, 1), op.get(S_C), op.get(S_CH), op.ltU(), op.brIf(0), op.end(),
  ],
};

export type WinogradSplitExport = (
  raw: number, slab: number, chans: number, srows: number, rawRows: number, ih0: number, rowBytes: number, padBytes: number,
  nq: number, cbytes: number, rbytes: number, obytes: number,
) => void;

// winDy(slab, yhat, chans, trows, nq, cbytes, rbytes, obytes, ysx, yc, yt): for the weight gradient,
// dy's 2×2 tiles as 4×4: Ŷ = A Y Aᵀ, A = (Aᵀ)ᵀ, for channel c < chans, tile row t < trows and block q
// < nq of 4 tiles; dy rows 2t and 2t + 1 of channel c are split like the input (E: even columns, O:
// odd, at slab + c·cbytes + r·rbytes and obytes after it), so tile tw's four values are E and O of
// both rows at tw. Ŷ_ξ, ξ = 4i + j, goes to yhat + ξ·ysx + c·yc + t·yt + 16q.
//   A·Y: rows y0, y0 + y1, y0 − y1, −y1 of Y's rows y0, y1; then ·Aᵀ on each row (p, q): p, p + q, p − q, −q
const D_SLAB = 0, D_Y = 1, D_CH = 2, D_TR = 3, D_NQ = 4, D_CB = 5, D_RB = 6, D_OB = 7, D_YSX = 8, D_YC = 9, D_YT = 10;
const D_C = 11, D_T = 12, D_Q = 13, D_A = 14, D_2T = 15;
const D_E0 = 16, D_O0 = 17, D_E1 = 18, D_O1 = 19, D_P = 20, D_R = 21;
export const winogradDy: WasmFunction = {
  name: 'winDy',
  params: new Array<typeof i32>(11).fill(i32),
  locals: [...new Array<typeof i32>(5).fill(i32), ...new Array<typeof v128>(6).fill(v128)],
  body: [
    op.i32(0), op.set(D_C),
    op.loop(),
    op.i32(0), op.set(D_T),
    op.loop(),
    op.get(D_T), op.i32(1), op.shl(), op.set(D_2T),
    op.i32(0), op.set(D_Q),
    op.loop(),
    // rows 2t and 2t + 1 of channel c, block q: e0, o0 (row 2t) and e1, o1 (row 2t + 1)
    ...address(D_A, D_SLAB, [D_C, D_CB], [D_2T, D_RB]), op.get(D_A), op.get(D_Q), op.i32(4), op.shl(), op.add(), op.set(D_A),
    op.get(D_A), op.load(), op.set(D_E0),
    op.get(D_A), op.get(D_OB), op.add(), op.load(), op.set(D_O0),
    op.get(D_A), op.get(D_RB), op.add(), op.tee(D_A), op.load(), op.set(D_E1),
    op.get(D_A), op.get(D_OB), op.add(), op.load(), op.set(D_O1),
    ...address(D_A, D_Y, [D_C, D_YC], [D_T, D_YT]), op.get(D_A), op.get(D_Q), op.i32(4), op.shl(), op.add(), op.set(D_A),
    // row i of A·Y is (p, r); its four elements p, p + r, p − r, −r are Ŷ_4i … Ŷ_4i+3
    ...([
      [[op.get(D_E0)], [op.get(D_O0)]],
      [[op.get(D_E0), op.get(D_E1), op.f32x4Add()], [op.get(D_O0), op.get(D_O1), op.f32x4Add()]],
      [[op.get(D_E0), op.get(D_E1), op.f32x4Sub()], [op.get(D_O0), op.get(D_O1), op.f32x4Sub()]],
      [[op.get(D_E1), op.f32x4Neg()], [op.get(D_O1), op.f32x4Neg()]],
    ] as Bytes[][][]).flatMap(([p, r]) => {
      const store = (value: Bytes[]) => [op.get(D_A), ...value, op.store(), ...addLocal(D_A, D_YSX)];
      return [
        ...p!, op.set(D_P), ...r!, op.set(D_R),
        ...store([op.get(D_P)]),
        ...store([op.get(D_P), op.get(D_R), op.f32x4Add()]),
        ...store([op.get(D_P), op.get(D_R), op.f32x4Sub()]),
        ...store([op.get(D_R), op.f32x4Neg()]),
      ];
    }),
    ...addTo(D_Q, 1), op.get(D_Q), op.get(D_NQ), op.ltU(), op.brIf(0), op.end(),
    ...addTo(D_T, 1), op.get(D_T), op.get(D_TR), op.ltU(), op.brIf(0), op.end(),
    ...addTo(D_C, 1), op.get(D_C), op.get(D_CH), op.ltU(), op.brIf(0), op.end(),
  ],
};

export type WinogradDyExport = (
  slab: number, yhat: number, chans: number, trows: number, nq: number, cbytes: number, rbytes: number, obytes: number,
  ysx: number, yc: number, yt: number,
) => void;

/**
 * dW += Gᵀ D G for one (output, input) channel pair: D the 4×4 sums Σ Ŷ_ξ·V_ξ over tiles, at
 * d[0 … 15] (ξ = 4i + j), added into dw[at … at + 8] (the 3×3 kernel, row by row).
 * Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1].
 */
export function addWeightTransform(d: Float64Array, dw: Float32Array, at: number): void {
  const t = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // Gᵀ·D, 3×4
  for (let j = 0; j < 4; j++) {
    const d0 = d[j]!, d1 = d[4 + j]!, d2 = d[8 + j]!, d3 = d[12 + j]!;
    t[j] = d0 + 0.5 * (d1 + d2);
    t[4 + j] = 0.5 * (d1 - d2);
    t[8 + j] = 0.5 * (d1 + d2) + d3;
  }
  for (let i = 0; i < 3; i++) {
    const t0 = t[4 * i]!, t1 = t[4 * i + 1]!, t2 = t[4 * i + 2]!, t3 = t[4 * i + 3]!;
    dw[at + 3 * i] += t0 + 0.5 * (t1 + t2);
    dw[at + 3 * i + 1] += 0.5 * (t1 - t2);
    dw[at + 3 * i + 2] += 0.5 * (t1 + t2) + t3;
  }
}

// winOut(m, y, bias, chans, trows, nq, msx, mc, mt, yc, yt, pool, relu): for channel co < chans,
// tile row t < trows and block q < nq of 4 tiles, M_ξ at m + ξ·msx + co·mc + t·mt + 16q gives the
// 2×2 outputs Aᵀ M A + bias[co]. With pool: their maximum (then max(·, 0) when relu), stored at
// y + co·yc + t·yt + 16q. Without: rows 2t and 2t + 1 of 8 outputs each, at y + co·yc + 2t·yt + 32q
// and yt bytes after it.
const O_M = 0, O_Y = 1, O_B = 2, O_CH = 3, O_TR = 4, O_NQ = 5, O_MSX = 6, O_MC = 7, O_MT = 8, O_YC = 9, O_YT = 10, O_POOL = 11, O_RELU = 12;
const O_C = 13, O_T = 14, O_Q = 15, O_A = 16;
const O_T0 = 17, O_T1 = 21, O_Y00 = 25, O_Y01 = 26, O_Y10 = 27, O_Y11 = 28, O_BV = 29; // t0j, t1j: O_T0 + j, O_T1 + j
const INTERLEAVE_LO = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
const INTERLEAVE_HI = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
export const winogradOutput: WasmFunction = {
  name: 'winOut',
  params: new Array<typeof i32>(13).fill(i32),
  locals: [...new Array<typeof i32>(4).fill(i32), ...new Array<typeof v128>(13).fill(v128)],
  body: [
    op.i32(0), op.set(O_C),
    op.loop(),
    op.get(O_B), op.get(O_C), op.i32(2), op.shl(), op.add(), op.load32Splat(), op.set(O_BV),
    op.i32(0), op.set(O_T),
    op.loop(),
    op.i32(0), op.set(O_Q),
    op.loop(),
    ...address(O_A, O_M, [O_C, O_MC], [O_T, O_MT]), op.get(O_A), op.get(O_Q), op.i32(4), op.shl(), op.add(), op.set(O_A),
    // Aᵀ·M, row by row of M as it is loaded: t_0j = m0j + m1j + m2j, t_1j = m1j − m2j − m3j
    ...[0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].flatMap((j) => {
      const load = [op.get(O_A), op.load()];
      const step = addLocal(O_A, O_MSX);
      if (i === 0) return [...load, op.set(O_T0 + j), ...step];
      if (i === 1) return [...load, op.tee(O_T1 + j), op.get(O_T0 + j), op.f32x4Add(), op.set(O_T0 + j), ...step];
      if (i === 2) {
        return [...load, op.tee(O_Y00), op.get(O_T0 + j), op.f32x4Add(), op.set(O_T0 + j),
          op.get(O_T1 + j), op.get(O_Y00), op.f32x4Sub(), op.set(O_T1 + j), ...step];
      }
      return [op.get(O_T1 + j), ...load, op.f32x4Sub(), op.set(O_T1 + j), ...step];
    })),
    // ·A: y_a0 = t_a0 + t_a1 + t_a2, y_a1 = t_a1 − t_a2 − t_a3
    ...([[O_Y00, O_T0], [O_Y10, O_T1]] as const).flatMap(([y, t]) => [
      op.get(t), op.get(t + 1), op.f32x4Add(), op.get(t + 2), op.f32x4Add(), op.set(y),
      op.get(t + 1), op.get(t + 2), op.f32x4Sub(), op.get(t + 3), op.f32x4Sub(), op.set(y + 1),
    ]),
    op.get(O_POOL), op.if(),
    // the tile's maximum, then the bias (max(y) + b = max(y + b), rounding being monotonic)
    ...address(O_A, O_Y, [O_C, O_YC], [O_T, O_YT]), op.get(O_A), op.get(O_Q), op.i32(4), op.shl(), op.add(), op.set(O_A),
    op.get(O_Y00), op.get(O_Y01), op.f32x4Max(), op.get(O_Y10), op.get(O_Y11), op.f32x4Max(), op.f32x4Max(),
    op.get(O_BV), op.f32x4Add(), op.set(O_Y00),
    // ReLU as the CPU backend's: x > 0 ? x : 0 (so NaN gives 0)
    op.get(O_RELU), op.if(), op.zero(), op.get(O_Y00), op.f32x4Pmax(), op.set(O_Y00), op.end(),
    op.get(O_A), op.get(O_Y00), op.store(),
    op.else(),
    op.get(O_Y), op.get(O_C), op.get(O_YC), op.mul(), op.add(), op.get(O_T), op.i32(1), op.shl(), op.get(O_YT), op.mul(), op.add(),
    op.get(O_Q), op.i32(5), op.shl(), op.add(), op.set(O_A),
    ...([[O_Y00, O_Y01], [O_Y10, O_Y11]] as const).flatMap(([a, b], row) => [
      ...(row ? addLocal(O_A, O_YT) : []),
      op.get(a), op.get(O_BV), op.f32x4Add(), op.set(a),
      op.get(b), op.get(O_BV), op.f32x4Add(), op.set(b),
      op.get(O_A), op.get(a), op.get(b), op.shuffle(INTERLEAVE_LO), op.store(),
      op.get(O_A), op.get(a), op.get(b), op.shuffle(INTERLEAVE_HI), op.store(16),
    ]),
    op.end(),
    ...addTo(O_Q, 1), op.get(O_Q), op.get(O_NQ), op.ltU(), op.brIf(0), op.end(),
    ...addTo(O_T, 1), op.get(O_T), op.get(O_TR), op.ltU(), op.brIf(0), op.end(),
    ...addTo(O_C, 1), op.get(O_C), op.get(O_CH), op.ltU(), op.brIf(0), op.end(),
  ],
};

export type WinogradInputExport = (
  slab: number, v: number, chans: number, trows: number, nq: number, cbytes: number, rbytes: number, obytes: number,
  vsx: number, vc: number, vt: number,
) => void;
export type WinogradOutputExport = (
  m: number, y: number, bias: number, chans: number, trows: number, nq: number, msx: number, mc: number, mt: number,
  yc: number, yt: number, pool: number, relu: number,
) => void;

// winW(raw, dst, mp, inC, usx): U = G g Gᵀ for four output channels at a time, from the weight
// as it is laid out ([4·mp, inC, 3, 3] at raw, rows past outC zero): channel co's tap (c, ki, kj)
// at raw + 4·((co·inC + c)·9 + 3ki + kj). U_ξ of output channels 4ip … 4ip + 3 and input channel c
// goes to dst + ξ·usx + 16·(inC·ip + c): the 16 products' A operands.
const W_RAW = 0, W_DST = 1, W_MP = 2, W_IN = 3, W_USX = 4;
const W_IP = 5, W_C = 6, W_L = 7, W_CS = 11, W_A = 12; // W_L … W_L + 3: the four channels' kernels
const W_G = 13, W_GG = 16, W_T = 28; // g column k: W_G + 0 … 2 (rows 0–2); G·g: W_GG + 3i + k; scratch W_T
export const winogradWeights: WasmFunction = {
  name: 'winW',
  params: new Array<typeof i32>(5).fill(i32),
  locals: [...new Array<typeof i32>(8).fill(i32), ...new Array<typeof v128>(16).fill(v128)],
  body: [
    op.get(W_IN), op.i32(36), op.mul(), op.set(W_CS), // bytes from one output channel's kernels to the next
    op.i32(0), op.set(W_IP),
    op.loop(),
    op.i32(0), op.set(W_C),
    op.loop(),
    // the kernels of channels 4ip + i and input channel c: raw + (4ip + i)·cs + 36c
    op.get(W_RAW), op.get(W_IP), op.i32(2), op.shl(), op.get(W_CS), op.mul(), op.add(), op.get(W_C), op.i32(36), op.mul(), op.add(), op.set(W_L),
    ...[1, 2, 3].flatMap((i) => [op.get(W_L + i - 1), op.get(W_CS), op.add(), op.set(W_L + i)]),
    // G·g, column k of the 3×3 kernel at a time: g0k, (g0k + g1k + g2k)/2, (g0k − g1k + g2k)/2, g2k
    ...[0, 1, 2].flatMap((k) => [
      ...[0, 1, 2].flatMap((row) => [
        op.get(W_L), op.f32Load(4 * (3 * row + k)), op.f32x4Splat(),
        ...[1, 2, 3].flatMap((i) => [op.get(W_L + i), op.f32Load(4 * (3 * row + k)), op.f32x4ReplaceLane(i)]),
        op.set(W_G + row),
      ]),
      op.get(W_G), op.set(W_GG + k),
      op.get(W_G), op.get(W_G + 2), op.f32x4Add(), op.set(W_T),
      op.get(W_T), op.get(W_G + 1), op.f32x4Add(), op.f32x4Const(0.5), op.f32x4Mul(), op.set(W_GG + 3 + k),
      op.get(W_T), op.get(W_G + 1), op.f32x4Sub(), op.f32x4Const(0.5), op.f32x4Mul(), op.set(W_GG + 6 + k),
      op.get(W_G + 2), op.set(W_GG + 9 + k),
    ]),
    // (G·g)·Gᵀ, row i = (a, b, d) of G·g: U_4i+0 … U_4i+3 = a, (a + b + d)/2, (a − b + d)/2, d
    op.get(W_DST), op.get(W_IP), op.get(W_IN), op.mul(), op.get(W_C), op.add(), op.i32(4), op.shl(), op.add(), op.set(W_A),
    ...[0, 1, 2, 3].flatMap((i) => {
      const [a, b, d] = [W_GG + 3 * i, W_GG + 3 * i + 1, W_GG + 3 * i + 2];
      const store = (value: Bytes[]) => [op.get(W_A), ...value, op.store(), ...addLocal(W_A, W_USX)];
      return [
        op.get(a), op.get(d), op.f32x4Add(), op.set(W_T),
        ...store([op.get(a)]),
        ...store([op.get(W_T), op.get(b), op.f32x4Add(), op.f32x4Const(0.5), op.f32x4Mul()]),
        ...store([op.get(W_T), op.get(b), op.f32x4Sub(), op.f32x4Const(0.5), op.f32x4Mul()]),
        ...store([op.get(d)]),
      ];
    }),
    ...addTo(W_C, 1), op.get(W_C), op.get(W_IN), op.ltU(), op.brIf(0), op.end(),
    ...addTo(W_IP, 1), op.get(W_IP), op.get(W_MP), op.ltU(), op.brIf(0), op.end(),
  ],
};

export type WinogradWeightsExport = (raw: number, dst: number, mp: number, inC: number, usx: number) => void;
