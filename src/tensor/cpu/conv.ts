import type { Conv2dGeometry } from '../backend.js';
import { gemmNT, microKernel, packA, packB, packedSize } from './gemm.js';
import { scratch } from './scratch.js';

/**
 * Convolution as im2col + GEMM, one sample at a time so the column matrix (C·kH·kW × OH·OW)
 * stays small and is reused across samples and calls.
 */

/** Unfolds sample x[xOff…] into cols (rows = C·kH·kW, columns = OH·OW). */
function im2col(x: Float32Array, xOff: number, g: Conv2dGeometry, cols: Float32Array): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const ohw = outH * outW;
  let r = 0;
  for (let c = 0; c < inC; c++) {
    const plane = xOff + c * inH * inW;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++, r++) {
        const row = r * ohw;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + ki;
          const dst = row + oh * outW;
          if (ih < 0 || ih >= inH) {
            cols.fill(0, dst, dst + outW);
            continue;
          }
          const src = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padW + kj;
            cols[dst + ow] = iw >= 0 && iw < inW ? x[src + iw]! : 0;
          }
        }
      }
    }
  }
}

/** Folds cols back, adding overlapping contributions into dx[dxOff…] (which must start at zero). */
function col2im(cols: Float32Array, g: Conv2dGeometry, dx: Float32Array, dxOff: number): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padH, padW, outH, outW } = g;
  const ohw = outH * outW;
  let r = 0;
  for (let c = 0; c < inC; c++) {
    const plane = dxOff + c * inH * inW;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++, r++) {
        const row = r * ohw;
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

export function conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry): Float32Array {
  const ohw = g.outH * g.outW;
  const K = colRows(g);
  const out = new Float32Array(g.batch * g.outC * ohw);
  const cols = scratch('conv.cols', K * ohw);
  const Wp = scratch('conv.Wp', packedSize(g.outC, K));
  const Cp = scratch('conv.Cp', packedSize(ohw, K));
  packA(w, 0, g.outC, K, false, Wp);
  const inSize = g.inC * g.inH * g.inW;
  for (let n = 0; n < g.batch; n++) {
    im2col(x, n * inSize, g, cols);
    packB(cols, 0, K, ohw, false, Cp);
    const o = n * g.outC * ohw;
    microKernel(Wp, Cp, out, o, ohw, g.outC, K, ohw, false);
    if (bias) {
      for (let c = 0; c < g.outC; c++) {
        const b = bias[c]!;
        const row = o + c * ohw;
        for (let p = 0; p < ohw; p++) out[row + p] += b;
      }
    }
  }
  return out;
}

export function conv2dBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry): Float32Array {
  const ohw = g.outH * g.outW;
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const dx = new Float32Array(g.batch * inSize);
  // dcols (K×OHOW) = Wᵀ (K×O) · dy (O×OHOW)
  const Wp = scratch('conv.Wp', packedSize(K, g.outC));
  const Gp = scratch('conv.Gp', packedSize(ohw, g.outC));
  packA(w, 0, K, g.outC, true, Wp);
  const cols = scratch('conv.cols', K * ohw);
  for (let n = 0; n < g.batch; n++) {
    packB(gy, n * g.outC * ohw, g.outC, ohw, false, Gp);
    microKernel(Wp, Gp, cols, 0, ohw, K, g.outC, ohw, false);
    col2im(cols, g, dx, n * inSize);
  }
  return dx;
}

export function conv2dBackwardWeight(gy: Float32Array, x: Float32Array, g: Conv2dGeometry): Float32Array {
  const ohw = g.outH * g.outW;
  const K = colRows(g);
  const inSize = g.inC * g.inH * g.inW;
  const dw = new Float32Array(g.outC * K);
  // dW (O×K) += dy (O×OHOW) · colsᵀ (OHOW×K)
  const cols = scratch('conv.cols', K * ohw);
  for (let n = 0; n < g.batch; n++) {
    im2col(x, n * inSize, g, cols);
    gemmNT(gy, n * g.outC * ohw, cols, 0, dw, 0, g.outC, ohw, K, true);
  }
  return dw;
}
