/**
 * Kernel-level benchmarks at the EmotionCNN's shapes, called at the op seam (backend kernels on
 * resident handles), so the CPU and gpu.js backends are timed on exactly the same work.
 */
import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../src/tensor/backend.js';

export interface KernelCase {
  name: string;
  batch: number;
  /** Floating-point operations per call (a multiply-add counts 2), where it means something. */
  flops?: number;
  /** Prepares inputs on `b` and returns the timed call. */
  prepare(b: Backend): () => void;
}

const rand = (n: number, seed: number) => {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
};

/** The three conv layers of the EmotionCNN (3×3, padding 1). */
export function convGeometry(layer: 1 | 2 | 3, batch: number): Conv2dGeometry {
  const [inC, outC, h, w] = ({ 1: [1, 16, 40, 174], 2: [16, 32, 20, 87], 3: [32, 64, 10, 43] } as const)[layer];
  return { batch, inC, inH: h, inW: w, outC, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: h, outW: w };
}

export function kernelCases(batches: readonly number[]): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const batch of batches) {
    for (const layer of [1, 2, 3] as const) {
      const g = convGeometry(layer, batch);
      const xs = batch * g.inC * g.inH * g.inW;
      const ws = g.outC * g.inC * 9;
      const ys = batch * g.outC * g.outH * g.outW;
      const flops = 2 * ys * g.inC * 9;
      const tag = `conv${layer} ${g.inC}→${g.outC} ${g.inH}×${g.inW}`;
      cases.push({ name: `${tag} forward`, batch, flops, prepare: (b) => {
        const [x, w, bias] = [b.fromArray(rand(xs, 1)), b.fromArray(rand(ws, 2)), b.fromArray(rand(g.outC, 3))];
        return () => b.conv2d(x, w, bias, g);
      } });
      cases.push({ name: `${tag} backward input`, batch, flops, prepare: (b) => {
        const [gy, w] = [b.fromArray(rand(ys, 4)), b.fromArray(rand(ws, 2))];
        return () => b.conv2dBackwardInput(gy, w, g);
      } });
      cases.push({ name: `${tag} backward weight`, batch, flops, prepare: (b) => {
        const [gy, x] = [b.fromArray(rand(ys, 4)), b.fromArray(rand(xs, 1))];
        return () => b.conv2dBackwardWeight(gy, x, g);
      } });
    }
    const k = 64 * 5 * 21;
    cases.push({ name: `fc1 matmul ${batch}×${k} · ${k}×128`, batch, flops: 2 * batch * k * 128, prepare: (b) => {
      const [x, w] = [b.fromArray(rand(batch * k, 5)), b.fromArray(rand(128 * k, 6))];
      return () => b.matmul(x, w, 1, batch, k, 128, false, true);
    } });
    const pg: Pool2dGeometry = { batch, channels: 16, inH: 40, inW: 174, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: 20, outW: 87 };
    const ps = batch * 16 * 40 * 174;
    cases.push({ name: 'max-pool 2×2, 16×40×174', batch, prepare: (b) => {
      const x = b.fromArray(rand(ps, 7));
      return () => b.maxPool2d(x, pg);
    } });
    cases.push({ name: 'max-pool backward, 16×40×174', batch, prepare: (b) => {
      const x = b.fromArray(rand(ps, 7));
      const { argmax } = b.maxPool2d(x, pg);
      const gy = b.fromArray(rand(ps / 4, 8));
      return () => b.maxPool2dBackward(gy, argmax, pg);
    } });
    cases.push({ name: 'batch norm (train), 16×40×174', batch, prepare: (b) => {
      const [x, gm, bt] = [b.fromArray(rand(ps, 9)), b.fromArray(rand(16, 10)), b.fromArray(rand(16, 11))];
      return () => b.batchNormTrain(x, gm, bt, batch, 16, 40 * 174, 1e-5);
    } });
    cases.push({ name: 'batch norm backward, 16×40×174', batch, prepare: (b) => {
      const [x, gm, bt, gy] = [b.fromArray(rand(ps, 9)), b.fromArray(rand(16, 10)), b.fromArray(rand(16, 11)), b.fromArray(rand(ps, 12))];
      const { mean, varBiased } = b.batchNormTrain(x, gm, bt, batch, 16, 40 * 174, 1e-5);
      return () => b.batchNormBackward(gy, x, gm, mean, varBiased, batch, 16, 40 * 174, 1e-5);
    } });
  }
  return cases;
}
