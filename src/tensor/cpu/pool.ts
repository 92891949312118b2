import type { Pool2dGeometry } from '../backend.js';

/** Max pooling; ties go to the first maximum and NaN propagates, as in PyTorch. */
export function maxPool2d(x: Float32Array, g: Pool2dGeometry): { out: Float32Array; argmax: Int32Array } {
  if (g.kH === 2 && g.kW === 2 && g.strideH === 2 && g.strideW === 2) return maxPool2x2(x, g);
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

/**
 * Index of the winner between the current best x[at] and candidate x[p], without a branch: the
 * candidate wins if strictly greater (ties keep the first maximum) or if it is NaN while the best
 * is not (NaN propagates and then stays, since every comparison with it is false).
 */
function pick(x: Float32Array, at: number, p: number): number {
  const v = x[p]!;
  const best = x[at]!;
  const m = -(+(v > best) | (+(v !== v) & +(best === best)));
  return (p & m) | (at & ~m);
}

/**
 * The 2×2, stride-2 case every EmotionCNN block uses. Comparisons on random activations
 * mispredict constantly, so the winner is chosen with masks (see `pick`).
 */
function maxPool2x2(x: Float32Array, g: Pool2dGeometry): { out: Float32Array; argmax: Int32Array } {
  const { batch, channels, inH, inW, outH, outW } = g;
  const planes = batch * channels;
  const out = new Float32Array(planes * outH * outW);
  const argmax = new Int32Array(out.length);
  let o = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = base + 2 * oh * inW;
      const r1 = r0 + inW;
      for (let ow = 0; ow < outW; ow++, o++) {
        const c = 2 * ow;
        let at = r0 + c;
        at = pick(x, at, r0 + c + 1);
        at = pick(x, at, r1 + c);
        at = pick(x, at, r1 + c + 1);
        out[o] = x[at]!;
        argmax[o] = at;
      }
    }
  }
  return { out, argmax };
}
