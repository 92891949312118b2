import type { Pool2dGeometry } from '../backend.js';

/** Max pooling; ties go to the first maximum and NaN propagates, as in PyTorch. */
export function maxPool2d(x: Float32Array, g: Pool2dGeometry): { out: Float32Array; argmax: Int32Array } {
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, outH, outW } = g;
  const planes = batch * channels;
  const out = new Float32Array(planes * outH * outW);
  const argmax = new Int32Array(out.length);
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        let best = -Infinity;
        let at = base + oh * strideH * inW + ow * strideW;
        for (let i = 0; i < kH; i++) {
          const row = base + (oh * strideH + i) * inW + ow * strideW;
          for (let j = 0; j < kW; j++) {
            const v = x[row + j]!;
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = row + j;
              if (Number.isNaN(v)) break;
            }
          }
        }
        out[o] = best;
        argmax[o] = at;
      }
    }
  }
  return { out, argmax };
}

export function maxPool2dBackward(gy: Float32Array, argmax: Int32Array, g: Pool2dGeometry): Float32Array {
  const dx = new Float32Array(g.batch * g.channels * g.inH * g.inW);
  for (let o = 0; o < gy.length; o++) dx[argmax[o]!] += gy[o]!;
  return dx;
}
