import type { Conv2dGeometry } from '../backend.js';
import { gemmNT, microKernel, packA, packColPanels, packedSize } from './gemm.js';
import { alloc, chunks, lanesFor, runLanes } from './parallel.js';
import { scratch } from './scratch.js';

/**
 * Convolution as im2col + GEMM. Work is cut into chunks (whole samples, or ranges of output
 * positions of one sample) so lanes can share it; per chunk the column matrix
 * (C·kH·kW × positions) lives in reused scratch.
 */

/** Unfolds output positions [o0, o1) of sample x[xOff…] into cols (rows = C·kH·kW, row length o1 − o0). */
function im2col(x: Float32Array, xOff: number, g: Conv2dGeometry, o0: number, o1: number, cols: Float32Array): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outW } = g;
  const len = o1 - o0;
  let r = 0;
  for (let c = 0; c < inC; c++) {
    const plane = xOff + c * inH * inW;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++, r++) {
        let o = o0;
        let oh = Math.floor(o0 / outW);
        let ow = o0 - oh * outW;
        while (o < o1) {
          const span = Math.min(outW - ow, o1 - o);
          const dst = r * len + (o - o0);
          const ih = oh * strideH - padH + ki;
          if (ih < 0 || ih >= inH) {
            cols.fill(0, dst, dst + span);
          } else {
            const src = plane + ih * inW;
            for (let t = 0; t < span; t++) {
              const iw = (ow + t) * strideW - padW + kj;
              cols[dst + t] = iw >= 0 && iw < inW ? x[src + iw]! : 0;
            }
          }
          o += span;
          oh++;
          ow = 0;
        }
      }
    }
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
          const dst = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padW + kj;
            if (iw >= 0 && iw < inW) dx[dst + iw] += cols[src + ow]!;
          }
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

export function conv2dLane(lane: number, lanes: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, out: Float32Array, g: Conv2dGeometry): void {
  const ohw = positions(g);
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const Wp = scratch('conv.Wp', packedSize(g.outC, K));
  packA(w, 0, g.outC, K, false, Wp);
  for (const { n, o0, o1 } of mine(chunks(g.batch, ohw, lanes), lane, lanes)) {
    const len = o1 - o0;
    const cols = scratch('conv.cols', K * len);
    const Cp = scratch('conv.Cp', packedSize(len, K));
    im2col(x, n * inSize, g, o0, o1, cols);
    packColPanels(cols, 0, K, len, Cp);
    const o = n * g.outC * ohw + o0;
    microKernel(Wp, Cp, out, o, ohw, g.outC, K, len, false);
    if (bias) {
      for (let c = 0; c < g.outC; c++) {
        const b = bias[c]!;
        const row = o + c * ohw;
        for (let p = 0; p < len; p++) out[row + p] += b;
      }
    }
  }
}

export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry): Float32Array {
  const out = alloc(g.batch * g.outC * positions(g));
  runLanes('conv2d', conv2dLane, [x, w, bias, out, g], lanesFor(macs(g)));
  return out;
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
  const Wp = scratch('conv.WpT', packedSize(K, g.outC));
  packA(w, 0, K, g.outC, true, Wp);
  for (const { n, o0, o1 } of mine(chunks(g.batch, ohw, lanes), lane, lanes)) {
    const len = o1 - o0;
    const Gp = scratch('conv.Gp', packedSize(len, g.outC));
    packColPanels(gy, n * g.outC * ohw + o0, g.outC, len, Gp, ohw);
    if (sharedCols) {
      microKernel(Wp, Gp, sharedCols, n * K * ohw + o0, ohw, K, g.outC, len, false);
    } else {
      const cols = scratch('conv.dcols', K * ohw);
      microKernel(Wp, Gp, cols, 0, ohw, K, g.outC, len, false);
      col2im(cols, 0, g, dx, n * inSize);
    }
  }
}

export function conv2dBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry): Float32Array {
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

/** Each lane sums dy (O×positions) · colsᵀ over its chunks into its own slice of `partials`. */
export function conv2dBackwardWeightLane(
  lane: number, lanes: number, gy: Float32Array, x: Float32Array, partials: Float32Array, g: Conv2dGeometry,
): void {
  const ohw = positions(g);
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const dw = lane * g.outC * K;
  for (const { n, o0, o1 } of mine(chunks(g.batch, ohw, lanes), lane, lanes)) {
    const len = o1 - o0;
    const cols = scratch('conv.cols', K * len);
    im2col(x, n * inSize, g, o0, o1, cols);
    gemmNT(gy, n * g.outC * ohw + o0, ohw, cols, 0, len, partials, dw, g.outC, len, K, true);
  }
}

export function conv2dBackwardWeight(gy: Float32Array, x: Float32Array, g: Conv2dGeometry): Float32Array {
  const size = g.outC * colRows(g);
  const lanes = lanesFor(macs(g));
  const partials = alloc(lanes * size);
  runLanes('conv2dBackwardWeight', conv2dBackwardWeightLane, [gy, x, partials, g], lanes);
  if (lanes === 1) return partials;
  const dw = alloc(size);
  for (let l = 0; l < lanes; l++) {
    for (let i = 0; i < size; i++) dw[i] += partials[l * size + i]!;
  }
  return dw;
}
