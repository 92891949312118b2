import type { Conv2dGeometry } from '../backend.js';
import { packA, packColPanels, packRowPanels, packedProduct } from './gemm.js';
import { alloc, chunks, lanesFor, runLanes } from './parallel.js';
import { maxPool2dInfer } from './pool.js';
import { scratch } from './scratch.js';
import { ValueError } from '../errors.js';
import { simdConv } from './wasm/conv.js';

/**
 * Convolution as im2col + GEMM, and at stride 1 with SIMD as a direct kernel that reads the image
 * in place (./wasm/conv.ts; the im2col path stays as its reference and the JavaScript fallback).
 * Work is cut into chunks (whole samples, or ranges of output
 * positions of one sample) so lanes can share it. im2col writes each chunk's column matrix
 * (C·kH·kW rows × positions) straight into the panel layout the GEMM reads, so the unfolded input
 * is written once and never repacked.
 */

const ceil4 = (v: number) => (v + 3) & ~3;

/**
 * The t in [0, span) for which (start + t)·stride lies in [lo, hi): [t0, t1), empty as t0 = t1.
 * Lets the unfolding loops run without a bounds check per element.
 */
function insideRange(start: number, span: number, stride: number, hi: number, lo: number): [number, number] {
  const t0 = Math.min(span, Math.max(0, Math.ceil(lo / stride) - start));
  const t1 = Math.max(t0, Math.min(span, Math.ceil(hi / stride) - start));
  return [t0, t1];
}

/**
 * Unfolds output positions [o0, o1) of sample x[xOff…] as the forward product's B operand: column
 * panels of 4 positions over all K = C·kH·kW rows, out[(q>>2)·4K + 4r + (q&3)] for position
 * q = o − o0, the last panel zero-padded. Panel by panel, so writes are sequential; where a
 * panel's four positions lie in one output row away from the padding (most of them, at stride 1),
 * each kernel tap copies four neighbouring inputs without bounds checks.
 */
function im2colPositions(x: Float32Array, xOff: number, g: Conv2dGeometry, o0: number, o1: number, out: Float32Array): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outW } = g;
  const len = o1 - o0;
  const plane = inH * inW;
  let d = 0;
  for (let q0 = 0; q0 < len; q0 += 4) {
    const o = o0 + q0;
    const oh = Math.floor(o / outW);
    const ow = o - oh * outW;
    if (strideW === 1 && q0 + 4 <= len && ow + 3 < outW && ow >= padW && ow + 2 - padW + kW < inW) {
      for (let c = 0; c < inC; c++) {
        for (let ki = 0; ki < kH; ki++) {
          const ih = oh * strideH - padH + ki;
          if (ih < 0 || ih >= inH) {
            out.fill(0, d, d + 4 * kW);
            d += 4 * kW;
            continue;
          }
          const src = xOff + c * plane + ih * inW + ow - padW;
          for (let kj = 0; kj < kW; kj++, d += 4) {
            out[d] = x[src + kj]!;
            out[d + 1] = x[src + kj + 1]!;
            out[d + 2] = x[src + kj + 2]!;
            out[d + 3] = x[src + kj + 3]!;
          }
        }
      }
      continue;
    }
    // panels that straddle output rows, touch the padding, or run past the end: lane by lane
    for (let lane = 0; lane < 4; lane++) {
      const q = q0 + lane;
      let e = d + lane;
      const step = 4;
      if (q >= len) {
        for (let r = 0; r < inC * kH * kW; r++, e += step) out[e] = 0;
        continue;
      }
      const ohl = Math.floor((o0 + q) / outW);
      const owl = o0 + q - ohl * outW;
      for (let c = 0; c < inC; c++) {
        for (let ki = 0; ki < kH; ki++) {
          const ih = ohl * strideH - padH + ki;
          const inside = ih >= 0 && ih < inH;
          const src = xOff + c * plane + ih * inW;
          for (let kj = 0; kj < kW; kj++, e += step) {
            const iw = owl * strideW - padW + kj;
            out[e] = inside && iw >= 0 && iw < inW ? x[src + iw]! : 0;
          }
        }
      }
    }
    d += 4 * inC * kH * kW;
  }
}

/**
 * The same unfolding as the weight gradient's B operand (the transpose): column panels of 4 rows
 * over all positions, out[(r>>2)·4·len + 4q + (r&3)], rows past K zero.
 */
function im2colRows(x: Float32Array, xOff: number, g: Conv2dGeometry, o0: number, o1: number, out: Float32Array): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outW } = g;
  const len = o1 - o0;
  let r = 0;
  for (let c = 0; c < inC; c++) {
    const plane = xOff + c * inH * inW;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++, r++) {
        let d = (r >> 2) * 4 * len + (r & 3);
        let o = o0;
        let oh = Math.floor(o0 / outW);
        let ow = o0 - oh * outW;
        while (o < o1) {
          const span = Math.min(outW - ow, o1 - o);
          const ih = oh * strideH - padH + ki;
          if (ih < 0 || ih >= inH) {
            for (let t = 0; t < span; t++, d += 4) out[d] = 0;
          } else {
            // positions ow + t whose input column (ow + t)·strideW − padW + kj lies inside the row
            const src = plane + ih * inW - padW + kj;
            const [t0, t1] = insideRange(ow, span, strideW, inW - kj + padW, padW - kj);
            for (let t = 0; t < t0; t++, d += 4) out[d] = 0;
            for (let t = t0; t < t1; t++, d += 4) out[d] = x[src + (ow + t) * strideW]!;
            for (let t = t1; t < span; t++, d += 4) out[d] = 0;
          }
          o += span;
          oh++;
          ow = 0;
        }
      }
    }
  }
  for (; r < ceil4(inC * kH * kW); r++) {
    for (let q = 0, d = (r >> 2) * 4 * len + (r & 3); q < len; q++, d += 4) out[d] = 0;
  }
}

/** Folds a sample's full column matrix back, adding overlapping contributions into dx[dxOff…]. */
function col2im(cols: Float32Array, colsOff: number, g: Conv2dGeometry, dx: Float32Array, dxOff: number): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const ohw = outH * outW;
  let r = 0;
  for (let c = 0; c < inC; c++) {
    const plane = dxOff + c * inH * inW;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++, r++) {
        const row = colsOff + r * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + ki;
          if (ih < 0 || ih >= inH) continue;
          const src = row + oh * outW;
          const dst = plane + ih * inW - padW + kj;
          const [w0, w1] = insideRange(0, outW, strideW, inW - kj + padW, padW - kj);
          if (strideW === 1) for (let ow = w0; ow < w1; ow++) dx[dst + ow] += cols[src + ow]!;
          else for (let ow = w0; ow < w1; ow++) dx[dst + ow * strideW] += cols[src + ow]!;
        }
      }
    }
  }
}

const colRows = (g: Conv2dGeometry) => g.inC * g.kH * g.kW;
const positions = (g: Conv2dGeometry) => g.outH * g.outW;
const macs = (g: Conv2dGeometry) => g.batch * g.outC * colRows(g) * positions(g);
const mine = <T>(items: T[], lane: number, lanes: number) => items.filter((_, i) => i % lanes === lane);

// ── forward ───────────────────────────────────────────────────────────────────────────────────

/** Whether the direct SIMD kernel computes this convolution: stride 1 and SIMD on. */
const direct = (g: Conv2dGeometry) => g.strideH === 1 && g.strideW === 1 && simdConv() !== null;

/**
 * Whether Winograd F(2×2, 3×3) (./wasm/winograd.ts) computes it instead: a 3×3 kernel with enough
 * input channels that the transforms, which cost per channel what the products save per channel
 * pair, are repaid (conv2 and conv3, not conv1).
 */
const WINOGRAD_MIN_CHANNELS = 8;
const winograd = (g: Conv2dGeometry) => direct(g) && g.kH === 3 && g.kW === 3 && g.inC >= WINOGRAD_MIN_CHANNELS;

/**
 * Which kernel a forward convolution runs: 'auto' picks (Winograd, else direct, else im2col);
 * the others force one, so the tests can hold each fast path to the im2col reference.
 */
export type ConvMethod = 'auto' | 'im2col' | 'direct' | 'winograd';
function forwardKernel(g: Conv2dGeometry, method: ConvMethod): 'im2col' | 'direct' | 'winograd' {
  if (method === 'auto') return winograd(g) ? 'winograd' : direct(g) ? 'direct' : 'im2col';
  if (method === 'direct' && !direct(g)) throw new ValueError('conv2d: the direct kernel needs stride 1 and SIMD');
  if (method === 'winograd' && !(direct(g) && g.kH === 3 && g.kW === 3)) throw new ValueError('conv2d: Winograd needs a 3×3 kernel, stride 1 and SIMD');
  return method;
}

/**
 * Splits `batch` samples of `rows` output rows for `lanes` lanes, as `chunks` splits positions:
 * whole samples when there are enough, otherwise ranges of rows.
 */
function rowChunks(batch: number, rows: number, lanes: number): { n: number; r0: number; r1: number }[] {
  const parts = batch >= lanes ? 1 : Math.ceil(lanes / batch);
  const step = Math.ceil(rows / parts);
  const out: { n: number; r0: number; r1: number }[] = [];
  for (let n = 0; n < batch; n++) for (let r0 = 0; r0 < rows; r0 += step) out.push({ n, r0, r1: Math.min(rows, r0 + step) });
  return out;
}

export function conv2dLane(
  lane: number, lanes: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, g: Conv2dGeometry,
  method: ConvMethod = 'auto',
): void {
  const ohw = positions(g);
  const inSize = g.inC * g.inH * g.inW;
  const kind = forwardKernel(g, method);
  if (kind !== 'im2col') {
    const kernel = simdConv()!;
    mine(rowChunks(g.batch, g.outH, lanes), lane, lanes).forEach(({ n, r0, r1 }, i) => {
      if (kind === 'winograd') kernel.runWinograd(x, n * inSize, w, bias, out, n * g.outC * ohw, g, r0, r1, false, false, i === 0);
      else kernel.run(x, n * inSize, w, bias, out, n * g.outC * ohw, g, r0, r1, false, false, i === 0);
    });
    return;
  }
  const K = colRows(g);
  const parts = mine(chunks(g.batch, ohw, lanes), lane, lanes);
  if (parts.length === 0) return;
  const p = packedProduct(g.outC, K, Math.max(...parts.map(({ o0, o1 }) => o1 - o0)));
  packA(w, 0, g.outC, K, false, p.A);
  for (const { n, o0, o1 } of parts) {
    im2colPositions(x, n * inSize, g, o0, o1, p.B);
    p.multiply(out, n * g.outC * ohw + o0, ohw, g.outC, K, o1 - o0, false, bias);
  }
}

export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, method: ConvMethod = 'auto'): Float32Array {
  const out = alloc(g.batch * g.outC * positions(g));
  runLanes('conv2d', conv2dLane, [x, w, bias, out, g, method], lanesFor(macs(g)));
  return out;
}

/**
 * conv → max-pool 2×2 (stride 2) → ReLU when `relu`, for inference: with the direct kernel the
 * pooling runs on the tile in the kernel's memory and only the pooled quarter is written out;
 * otherwise the three steps one after another. Output [N, outC, ⌊outH/2⌋, ⌊outW/2⌋].
 */
export function conv2dMaxPool2(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, relu: boolean, method: ConvMethod = 'auto',
): Float32Array {
  const ph = g.outH >> 1;
  const pw = g.outW >> 1;
  const kind = forwardKernel(g, method);
  if (kind !== 'im2col' && ph > 0 && pw > 0) {
    const out = alloc(g.batch * g.outC * ph * pw);
    runLanes('conv2dMaxPool2', conv2dMaxPool2Lane, [x, w, bias, out, g, relu, kind], lanesFor(macs(g)));
    return out;
  }
  const pooled = maxPool2dInfer(conv2d(x, w, bias, g, kind), {
    batch: g.batch, channels: g.outC, inH: g.outH, inW: g.outW, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: ph, outW: pw,
  });
  if (relu) for (let i = 0; i < pooled.length; i++) pooled[i] = pooled[i]! > 0 ? pooled[i]! : 0;
  return pooled;
}

export function conv2dMaxPool2Lane(
  lane: number, lanes: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, g: Conv2dGeometry, relu: boolean,
  kind: 'direct' | 'winograd',
): void {
  const kernel = simdConv()!;
  const inSize = g.inC * g.inH * g.inW;
  const pooledSize = g.outC * (g.outH >> 1) * (g.outW >> 1);
  mine(rowChunks(g.batch, g.outH >> 1, lanes), lane, lanes).forEach(({ n, r0, r1 }, i) => {
    if (kind === 'winograd') kernel.runWinograd(x, n * inSize, w, bias, out, n * pooledSize, g, r0, r1, true, relu, i === 0);
    else kernel.run(x, n * inSize, w, bias, out, n * pooledSize, g, r0, r1, true, relu, i === 0);
  });
}

// ── gradient of the input ─────────────────────────────────────────────────────────────────────

/**
 * dcols (K×positions) = Wᵀ (K×O) · dy (O×positions), then col2im. When lanes split one sample
 * by position ranges, their col2im would race on overlapping receptive fields, so they write the
 * shared dcols and the caller folds it afterwards.
 */
export function conv2dBackwardInputLane(
  lane: number, lanes: number, gy: Float32Array, w: Float32Array, dx: Float32Array, sharedCols: Float32Array | null, g: Conv2dGeometry,
): void {
  const ohw = positions(g);
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const parts = mine(chunks(g.batch, ohw, lanes), lane, lanes);
  if (parts.length === 0) return;
  const p = packedProduct(K, g.outC, Math.max(...parts.map(({ o0, o1 }) => o1 - o0)));
  packA(w, 0, K, g.outC, true, p.A);
  for (const { n, o0, o1 } of parts) {
    const len = o1 - o0;
    packColPanels(gy, n * g.outC * ohw + o0, g.outC, len, p.B, ohw);
    if (sharedCols) {
      p.multiply(sharedCols, n * K * ohw + o0, ohw, K, g.outC, len, false);
    } else {
      const cols = scratch('conv.dcols', K * ohw);
      p.multiply(cols, 0, ohw, K, g.outC, len, false);
      col2im(cols, 0, g, dx, n * inSize);
    }
  }
}

/**
 * At stride 1 the input gradient is itself a stride-1 convolution: dy, padded by kH − 1 − padH and
 * kW − 1 − padW, correlated with the weight flipped in both spatial axes and with its channel axes
 * swapped. So the direct kernel computes it too, with neither the K × positions matrix nor col2im.
 */
function backwardInputAsConv(gy: Float32Array, w: Float32Array, g: Conv2dGeometry): Float32Array {
  const { inC, outC, kH, kW } = g;
  const flipped = alloc(w.length);
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      for (let ki = 0; ki < kH; ki++) {
        for (let kj = 0; kj < kW; kj++) {
          flipped[((c * outC + o) * kH + kH - 1 - ki) * kW + kW - 1 - kj] = w[((o * inC + c) * kH + ki) * kW + kj]!;
        }
      }
    }
  }
  const gt: Conv2dGeometry = {
    batch: g.batch, inC: outC, inH: g.outH, inW: g.outW, outC: inC, kH, kW, strideH: 1, strideW: 1,
    padH: kH - 1 - g.padH, padW: kW - 1 - g.padW, outH: g.inH, outW: g.inW,
  };
  return conv2d(gy, flipped, null, gt);
}

export function conv2dBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, method: 'auto' | 'im2col' = 'auto'): Float32Array {
  if (method === 'auto' && direct(g) && g.padH < g.kH && g.padW < g.kW) return backwardInputAsConv(gy, w, g);
  const inSize = g.inC * g.inH * g.inW;
  const dx = alloc(g.batch * inSize);
  const lanes = lanesFor(macs(g));
  const shared = g.batch < lanes ? alloc(g.batch * colRows(g) * positions(g)) : null;
  runLanes('conv2dBackwardInput', conv2dBackwardInputLane, [gy, w, dx, shared, g], lanes);
  if (shared) {
    for (let n = 0; n < g.batch; n++) col2im(shared, n * colRows(g) * positions(g), g, dx, n * inSize);
  }
  return dx;
}

// ── gradient of the weight ────────────────────────────────────────────────────────────────────

/**
 * Each lane sums dy (O×positions) · colsᵀ over its chunks into its own slice of `partials`: at
 * stride 1 with SIMD by the direct kernel (dot products of dy with the padded image at each tap's
 * offset, no unfolded matrix), otherwise through im2col and the GEMM.
 */
export function conv2dBackwardWeightLane(
  lane: number, lanes: number, gy: Float32Array, x: Float32Array, partials: Float32Array, g: Conv2dGeometry,
  method: ConvMethod = 'auto',
): void {
  const ohw = positions(g);
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const dw = lane * g.outC * K;
  const kind = method === 'auto' ? forwardKernel(g, 'auto') : method;
  if (kind === 'winograd' || kind === 'direct') {
    const kernel = simdConv()!;
    const mineChunks = mine(rowChunks(g.batch, g.outH, lanes), lane, lanes);
    if (kind === 'winograd') {
      if (mineChunks.length) kernel.weightGradWinograd(gy, x, partials, dw, g, mineChunks);
      return;
    }
    for (const { n, r0, r1 } of mineChunks) kernel.weightGrad(gy, n * g.outC * ohw, x, n * inSize, partials, dw, g, r0, r1);
    return;
  }
  for (const { n, o0, o1 } of mine(chunks(g.batch, ohw, lanes), lane, lanes)) {
    const len = o1 - o0;
    // the sum runs over positions: k = len, so the operands are laid out per chunk
    const p = packedProduct(g.outC, len, K);
    packRowPanels(gy, n * g.outC * ohw + o0, g.outC, len, p.A, ohw);
    im2colRows(x, n * inSize, g, o0, o1, p.B);
    p.multiply(partials, dw, K, g.outC, len, K, true);
  }
}

export function conv2dBackwardWeight(gy: Float32Array, x: Float32Array, g: Conv2dGeometry, method: ConvMethod = 'auto'): Float32Array {
  if (method !== 'auto') forwardKernel(g, method); // refuses a kernel that cannot compute it
  const size = g.outC * colRows(g);
  const lanes = lanesFor(macs(g));
  const partials = alloc(lanes * size);
  runLanes('conv2dBackwardWeight', conv2dBackwardWeightLane, [gy, x, partials, g, method], lanes);
  if (lanes === 1) return partials;
  const dw = alloc(size);
  for (let l = 0; l < lanes; l++) {
    for (let i = 0; i < size; i++) dw[i] += partials[l * size + i]!;
  }
  return dw;
}
