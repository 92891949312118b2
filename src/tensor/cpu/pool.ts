import type { Pool2dGeometry } from '../backend.js';
import { alloc, allocInt32, lanesFor, runLanes } from './parallel.js';
import { simdPool } from './wasm/pool.js';

/** Planes (sample × channel) are independent: lane l pools planes [l·P/lanes, (l+1)·P/lanes). */
const planeRange = (lane: number, lanes: number, planes: number) =>
  [Math.floor((lane * planes) / lanes), Math.floor(((lane + 1) * planes) / lanes)] as const;

/** Max pooling; ties go to the first maximum and NaN propagates, as in PyTorch. */
export function maxPool2d(x: Float32Array, g: Pool2dGeometry): { out: Float32Array; argmax: Int32Array } {
  const size = g.batch * g.channels * g.outH * g.outW;
  const out = alloc(size);
  const argmax = allocInt32(size);
  runLanes('maxPool2d', maxPool2dLane, [x, out, argmax, g], lanesFor(size * g.kH * g.kW * 2));
  return { out, argmax };
}

export function maxPool2dLane(lane: number, lanes: number, x: Float32Array, out: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void {
  if (g.kH === 2 && g.kW === 2 && g.strideH === 2 && g.strideW === 2) {
    maxPool2x2(x, out, argmax, g, ...planeRange(lane, lanes, g.batch * g.channels));
    return;
  }
  const { batch, channels, inH, inW, kH, kW, strideH, strideW, outH, outW } = g;
  const [p0, p1] = planeRange(lane, lanes, batch * channels);
  let o = p0 * outH * outW;
  for (let pl = p0; pl < p1; pl++) {
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
}

/**
 * Max pooling without the argmax, for inference (no gradient to route back). The 2×2 stride-2
 * case reads two rows and takes Math.max of four (NaN propagates through Math.max, as in PyTorch);
 * other windows take the general loop and drop its argmax.
 */
export function maxPool2dInfer(x: Float32Array, g: Pool2dGeometry): Float32Array {
  if (!(g.kH === 2 && g.kW === 2 && g.strideH === 2 && g.strideW === 2)) return maxPool2d(x, g).out;
  const out = alloc(g.batch * g.channels * g.outH * g.outW);
  runLanes('maxPool2dInfer', maxPool2dInferLane, [x, out, g], lanesFor(out.length * 4));
  return out;
}

export function maxPool2dInferLane(lane: number, lanes: number, x: Float32Array, out: Float32Array, g: Pool2dGeometry): void {
  const { inH, inW, outH, outW } = g;
  const [p0, p1] = planeRange(lane, lanes, g.batch * g.channels);
  let o = p0 * outH * outW;
  for (let pl = p0; pl < p1; pl++) {
    for (let oh = 0; oh < outH; oh++) {
      let r0 = pl * inH * inW + 2 * oh * inW;
      let r1 = r0 + inW;
      for (let ow = 0; ow < outW; ow++, o++, r0 += 2, r1 += 2) out[o] = Math.max(x[r0]!, x[r0 + 1]!, x[r1]!, x[r1 + 1]!);
    }
  }
}

export function maxPool2dBackward(gy: Float32Array, argmax: Int32Array, g: Pool2dGeometry): Float32Array {
  const dx = alloc(g.batch * g.channels * g.inH * g.inW);
  runLanes('maxPool2dBackward', maxPool2dBackwardLane, [gy, argmax, dx, g], lanesFor(2 * gy.length));
  return dx;
}

/** Each plane's argmax points inside that plane, so lanes on disjoint planes never touch the same dx. */
export function maxPool2dBackwardLane(lane: number, lanes: number, gy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void {
  const per = g.outH * g.outW;
  const [p0, p1] = planeRange(lane, lanes, g.batch * g.channels);
  for (let o = p0 * per; o < p1 * per; o++) dx[argmax[o]!] += gy[o]!;
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
 * mispredict constantly, so the winner is chosen with masks (see `pick`), in SIMD as here.
 */
function maxPool2x2(x: Float32Array, out: Float32Array, argmax: Int32Array, g: Pool2dGeometry, p0: number, p1: number): void {
  const { inH, inW, outH, outW } = g;
  // with SIMD, four windows a vector (./wasm/pool.ts, the same choices); the loop below does
  // what is left of each row, or everything
  const kernel = simdPool();
  const first = kernel ? outW & ~3 : 0;
  if (kernel && first > 0) kernel.run(x, out, argmax, inH, inW, outH, outW, p0, p1);
  for (let pl = p0; pl < p1; pl++) {
    const base = pl * inH * inW;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = base + 2 * oh * inW;
      const r1 = r0 + inW;
      let o = (pl * outH + oh) * outW + first;
      for (let ow = first; ow < outW; ow++, o++) {
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
}
