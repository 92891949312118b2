/**
 * The convolution kernels of this checkout against each other, one thread, in one process and in
 * alternation: the forward pass (alone and fused with the 2×2 max-pool and ReLU, as eval runs it)
 * by Winograd F(2×2, 3×3), the direct SIMD kernel and im2col + GEMM (the reference), and the input
 * and weight gradients as 'auto' computes them (Winograd from 8 input channels on, else the direct
 * kernel) against im2col, for the EmotionCNN's three
 * convolutions (conv1 also with Δ/ΔΔ, three channels) at batch 1 and 32. Each figure is the fastest
 * of n calls, which under load from other processes is the least disturbed. Each line also gives
 * the fast paths' relative error against im2col (max |a − b| / max |b|): forward by Winograd and
 * by the direct kernel, the weight gradient as 'auto' computes it.
 * `npx tsx experiments/conv-paths.ts`
 */
import type { Conv2dGeometry } from '../src/tensor/backend.js';
import { type ConvMethod, conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dMaxPool2 } from '../src/tensor/cpu/conv.js';

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
const fastest = (f: () => void, n: number) => {
  for (let i = 0; i < 3; i++) f();
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best.toFixed(3);
};
const layers = [['conv1', 1, 40, 174, 16], ['conv1 Δ/ΔΔ', 3, 40, 174, 16], ['conv2', 16, 20, 87, 32], ['conv3', 32, 10, 43, 64]] as const;
for (const batch of [1, 32]) {
  for (const [name, inC, inH, inW, outC] of layers) {
    const g = geometry(batch, inC, inH, inW, outC);
    const x = values(batch * inC * inH * inW, 1);
    const w = values(outC * inC * 9, 2);
    const gy = values(batch * outC * inH * inW, 3);
    const n = batch === 1 ? 200 : 10;
    const methods: ConvMethod[] = ['winograd', 'direct', 'im2col'];
    const each = (f: (m: ConvMethod) => void) => methods.map((m) => fastest(() => f(m), n)).join(' / ');
    const pair = (f: (m: 'auto' | 'im2col') => void) => `${fastest(() => f('auto'), n)} vs ${fastest(() => f('im2col'), n)}`;
    const err = (a: Float32Array, b: Float32Array) => {
      let d = 0, m = 0;
      for (let i = 0; i < b.length; i++) {
        d = Math.max(d, Math.abs(a[i]! - b[i]!));
        m = Math.max(m, Math.abs(b[i]!));
      }
      return (d / m).toExponential(1);
    };
    const ref = conv2d(x, w, null, g, 'im2col');
    const errors = `error against im2col: forward ${err(conv2d(x, w, null, g, 'winograd'), ref)} / ${err(conv2d(x, w, null, g, 'direct'), ref)}, ` +
      `weight gradient ${err(conv2dBackwardWeight(gy, x, g), conv2dBackwardWeight(gy, x, g, 'im2col'))}`;
    console.log(
      `${name}, batch ${batch} (ms; winograd / direct / im2col): forward ${each((m) => conv2d(x, w, null, g, m))}, ` +
      `with pool and ReLU ${each((m) => conv2dMaxPool2(x, w, null, g, true, m))}; auto vs im2col: ` +
      `input gradient ${pair((m) => conv2dBackwardInput(gy, w, g, m))}, weight gradient ${pair((m) => conv2dBackwardWeight(gy, x, g, m))}; ${errors}`,
    );
  }
}
