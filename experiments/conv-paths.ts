/**
 * The direct stride-1 SIMD convolution against im2col + GEMM (its reference), both in this
 * checkout, one thread, in one process and in alternation: forward, input gradient and weight
 * gradient of the EmotionCNN's three convolutions at batch 1 and 32. `npx tsx experiments/conv-paths.ts`
 */
import type { Conv2dGeometry } from '../src/tensor/backend.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from '../src/tensor/cpu/conv.js';
import { medianMs } from './median-time.js';

const values = (n: number, seed: number) => {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = s / 2147483648 - 0.5;
  }
  return a;
};
const geometry = (batch: number, inC: number, inH: number, inW: number, outC: number): Conv2dGeometry => ({
  batch, inC, inH, inW, outC, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: inH, outW: inW,
});
const median = (f: () => void, n: number) => medianMs(f, n, 3);
for (const batch of [1, 32]) {
  for (const [name, inC, inH, inW, outC] of [['conv1', 1, 40, 174, 16], ['conv2', 16, 20, 87, 32], ['conv3', 32, 10, 43, 64]] as const) {
    const g = geometry(batch, inC, inH, inW, outC);
    const x = values(batch * inC * inH * inW, 1);
    const w = values(outC * inC * 9, 2);
    const gy = values(batch * outC * inH * inW, 3);
    const n = batch === 1 ? 200 : 10;
    const pair = (f: (m: 'auto' | 'im2col') => void) => `${median(() => f('auto'), n).toFixed(2)} vs ${median(() => f('im2col'), n).toFixed(2)}`;
    console.log(`${name}, batch ${batch}, direct vs im2col (ms): forward ${pair((m) => conv2d(x, w, null, g, m))}, input gradient ${pair((m) => conv2dBackwardInput(gy, w, g, m))}, weight gradient ${pair((m) => conv2dBackwardWeight(gy, x, g, m))}`);
  }
}
