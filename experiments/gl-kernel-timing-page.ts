/**
 * The page behind experiments/gl-kernel-timing.ts: each of the gpu.js backend's seam kernels at the
 * EmotionCNN's training shapes (batch 32) on WebGL2, timed with a readback (best of two after one
 * untimed call). Reports milliseconds; the driver prints them.
 */
import { createGpu } from '../src/gpu.js';
import type { Handle } from '../src/tensor/backend.js';

function best(fn: () => void, reps = 2): number {
  fn();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t;
}

function runKernels(): Record<string, number> {
  const b = createGpu({ mode: 'webgl2' });
  const res: Record<string, number> = {};
  const rnd = (n: number) => b.fromArray(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)));
  const rd = (h: Handle) => b.read(h, 1);
  const N = 32;
  for (const [inC, outC, H, W] of [[1, 16, 40, 174], [16, 32, 20, 87], [32, 64, 10, 43]] as const) {
    const g = { batch: N, inC, inH: H, inW: W, outC, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: H, outW: W };
    const x = rnd(N * inC * H * W);
    const w = rnd(outC * inC * 9);
    const bias = rnd(outC);
    const gy = rnd(N * outC * H * W);
    const y = rnd(N * outC * H * W);
    const size = N * outC * H * W;
    res[`conv fwd ${inC}->${outC}`] = best(() => rd(b.conv2d(x, w, bias, g)));
    if (inC > 1) res[`conv dx ${inC}->${outC}`] = best(() => rd(b.conv2dBackwardInput(gy, w, g)));
    res[`conv dW ${inC}->${outC}`] = best(() => rd(b.conv2dBackwardWeight(gy, x, g)));
    const gamma = rnd(outC);
    const beta = rnd(outC);
    res[`bn train ${outC}`] = best(() => rd(b.batchNormTrain(y, gamma, beta, N, outC, H * W, 1e-5).out));
    const r = b.batchNormTrain(y, gamma, beta, N, outC, H * W, 1e-5);
    res[`bn bwd ${outC}`] = best(() => rd(b.batchNormBackward(gy, y, gamma, r.mean, r.varBiased, N, outC, H * W, 1e-5).gx));
    res[`relu ${outC}`] = best(() => rd(b.unary('relu', y, size)));
    const pg = { batch: N, channels: outC, inH: H, inW: W, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: H >> 1, outW: W >> 1 };
    res[`pool ${outC}`] = best(() => rd(b.maxPool2d(y, pg).out));
    const argmax = b.maxPool2d(y, pg).argmax;
    const pgy = rnd(N * outC * (H >> 1) * (W >> 1));
    res[`pool bwd ${outC}`] = best(() => rd(b.maxPool2dBackward(pgy, argmax, pg)));
  }
  const a = rnd(N * 6720);
  const w1 = rnd(6720 * 128);
  const g1 = rnd(N * 128);
  res['fc1 fwd'] = best(() => rd(b.matmul(a, w1, 1, N, 6720, 128, false, true)));
  res['fc1 dW'] = best(() => rd(b.matmul(g1, a, 1, 128, N, 6720, true, false)));
  res['fc1 dx'] = best(() => rd(b.matmul(g1, w1, 1, N, 128, 6720, false, false)));
  b.destroy();
  return res;
}

Object.assign(globalThis, { runKernels });
