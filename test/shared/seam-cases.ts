/**
 * Every kernel of the backend seam on odd shapes, as data: the gpu.js backend runs them against the
 * CPU backend in Node (test/tensor/gpu.test.ts, in each mode gpu.js has there) and on real GLSL in
 * Chromium (test/browser/gl.test.ts). No test framework here: the same module runs in a page.
 */
import type { Backend, Conv2dGeometry, Pool2dGeometry } from '../../src/tensor/backend.js';
import { lcg } from '../helpers/lcg.js';

export interface SeamCase {
  group: string;
  what: string;
  inputs: Float32Array[];
  run: (b: Backend, h: unknown[]) => unknown;
  sizes: number[];
  tol: number;
}

/** max |a − b| / max |b| (∞-norm relative error; 0 for equal arrays; Infinity for non-finite values or a size mismatch). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(a[i]!) !== Number.isFinite(b[i]!)) return Infinity;
    if (!Number.isFinite(b[i]!)) continue;
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs a case on both backends with copies of the same inputs: the worst relative error over its outputs. */
export function seamError(c: SeamCase, gpu: Backend, cpu: Backend): number {
  const run = (b: Backend) => {
    const out = c.run(b, c.inputs.map((x) => b.fromArray(x.slice())));
    return (Array.isArray(out) ? out : [out]).map((h, i) => b.read(h, c.sizes[i]!));
  };
  const want = run(cpu);
  const got = run(gpu);
  return Math.max(...want.map((w, i) => relError(got[i]!, w)));
}

export function seamCases(): SeamCase[] {
  const cases: SeamCase[] = [];
  const add = (group: string, what: string, inputs: Float32Array[], run: SeamCase['run'], sizes: number[], tol = 1e-5) => cases.push({ group, what, inputs, run, sizes, tol });
  const x = lcg(3 * 4 * 5, 1, 2);

  for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'relu', 'tanh', 'sigmoid', 'square'] as const) {
    add('unary', op, [op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x], (b, [h]) => b.unary(op, h, 60), [60]);
  }
  const y = lcg(60, 2, 3).map((v) => v + Math.sign(v) * 0.5);
  for (const op of ['add', 'sub', 'mul', 'div', 'reluGrad'] as const) {
    add('binary', `${op} same`, [x, y], (b, [p, q]) => b.binary(op, p, [3, 4, 5], q, [3, 4, 5], [3, 4, 5]), [60]);
    add('binary', `${op} broadcast`, [lcg(15, 3), lcg(4, 4).map((v) => v + 2)], (b, [p, q]) => b.binary(op, p, [3, 1, 5], q, [4, 1], [3, 4, 5]), [60]);
  }
  add('binary', 'affine', [x], (b, [h]) => b.affine(h, 60, -1.5, 0.25), [60]);
  add('binary', 'pow', [x.map(Math.abs)], (b, [h]) => b.powScalar(h, 60, 1.7), [60]);
  add('layout', 'broadcastTo', [lcg(5, 5)], (b, [h]) => b.broadcastTo(h, [5], [3, 2, 5]), [30]);
  for (const axes of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]) {
    const size = [3, 4, 5].filter((_, i) => !axes.includes(i)).reduce((p, d) => p * d, 1);
    add('reduce', `sum ${axes}`, [x], (b, [h]) => b.reduce('sum', h, [3, 4, 5], axes), [size]);
    add('reduce', `max ${axes}`, [x], (b, [h]) => b.reduce('max', h, [3, 4, 5], axes), [size]);
  }
  add('layout', 'permute', [x], (b, [h]) => b.permute(h, [3, 4, 5], [2, 0, 1]), [60]);
  add('layout', 'slice', [x], (b, [h]) => b.slice(h, [3, 4, 5], 1, 1, 2), [30]);
  add('layout', 'concat', [x, lcg(3 * 2 * 5, 6), lcg(3 * 5, 7)], (b, [p, q, r]) => b.concat([p, q, r], [[3, 4, 5], [3, 2, 5], [3, 1, 5]], 1), [105]);

  // m = 3 and 6: on GL, fewer than four rows take the scalar kernel and more the 4×4 tiles (with a partial tile)
  for (const [bt, m, k, n] of [[2, 3, 7, 5], [2, 6, 7, 5]] as const) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) add('matmul', `matmul ${m}×${k}·${k}×${n} ${ta} ${tb}`, [lcg(bt * m * k, 8), lcg(bt * k * n, 9)], (b, [p, q]) => b.matmul(p, q, bt, m, k, n, ta, tb), [bt * m * n]);
    }
  }

  const geos: Conv2dGeometry[] = [
    { batch: 2, inC: 3, inH: 9, inW: 11, outC: 4, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 9, outW: 11 },
    { batch: 1, inC: 2, inH: 8, inW: 7, outC: 3, kH: 3, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 3, outW: 3 },
    // channels in fours: on GL every convolution kernel takes its packed path (gpu/kernels.ts)
    { batch: 2, inC: 4, inH: 6, inW: 10, outC: 8, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 6, outW: 10 },
  ];
  for (const [i, g] of geos.entries()) {
    const xs = g.batch * g.inC * g.inH * g.inW;
    const ws = g.outC * g.inC * g.kH * g.kW;
    const ys = g.batch * g.outC * g.outH * g.outW;
    add('conv', `conv2d ${i}`, [lcg(xs, 10), lcg(ws, 11), lcg(g.outC, 12)], (b, [p, w, bias]) => b.conv2d(p, w, bias, g), [ys]);
    add('conv', `conv2d no bias ${i}`, [lcg(xs, 10), lcg(ws, 11)], (b, [p, w]) => b.conv2d(p, w, null, g), [ys]);
    add('conv', `conv2d dx ${i}`, [lcg(ys, 13), lcg(ws, 11)], (b, [gy, w]) => b.conv2dBackwardInput(gy, w, g), [xs]);
    add('conv', `conv2d dW ${i}`, [lcg(ys, 13), lcg(xs, 10)], (b, [gy, p]) => b.conv2dBackwardWeight(gy, p, g), [ws]);
    // the fused inference block: pooled 2×2 (floor mode drops an odd last row or column), ReLU or not
    const pooled = g.batch * g.outC * (g.outH >> 1) * (g.outW >> 1);
    add('conv', `conv2d + max-pool 2 + relu ${i}`, [lcg(xs, 10), lcg(ws, 11), lcg(g.outC, 12)], (b, [p, w, bias]) => b.conv2dMaxPool2!(p, w, bias, g, true), [pooled]);
    add('conv', `conv2d + max-pool 2, no bias ${i}`, [lcg(xs, 10), lcg(ws, 11)], (b, [p, w]) => b.conv2dMaxPool2!(p, w, null, g, false), [pooled]);
  }

  const pools: Pool2dGeometry[] = [
    { batch: 2, channels: 3, inH: 7, inW: 9, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: 3, outW: 4 },
    { batch: 1, channels: 2, inH: 7, inW: 7, kH: 3, kW: 3, strideH: 2, strideW: 2, outH: 3, outW: 3 },
  ];
  for (const [i, g] of pools.entries()) {
    const xs = g.batch * g.channels * g.inH * g.inW;
    const ys = g.batch * g.channels * g.outH * g.outW;
    const input = lcg(xs, 14).map((v) => Math.round(v * 3)); // many ties
    add('pool', `pool ${i}`, [input], (b, [p]) => b.maxPool2d(p, g).out, [ys]);
    add('pool', `pool backward ${i}`, [input, lcg(ys, 15)], (b, [p, gy]) => b.maxPool2dBackward(gy, b.maxPool2d(p, g).argmax, g), [xs]);
  }

  const [bn, c, hw] = [3, 4, 13];
  const size = bn * c * hw;
  const input = lcg(size, 16, 3).map((v, i) => v + (i % 7));
  for (const affine of [true, false]) {
    const params = affine ? [lcg(c, 17).map((v) => 1 + v), lcg(c, 18)] : [];
    add('batchnorm', `bn train ${affine}`, [input, ...params], (b, [p, gm, be]) => {
      const r = b.batchNormTrain(p, gm ?? null, be ?? null, bn, c, hw, 1e-5);
      return [r.out, r.mean, r.varBiased];
    }, [size, c, c]);
    add('batchnorm', `bn backward ${affine}`, [input, lcg(size, 19), ...params], (b, [p, gy, gm, be]) => {
      const r = b.batchNormTrain(p, gm ?? null, be ?? null, bn, c, hw, 1e-5);
      const d = b.batchNormBackward(gy, p, gm ?? null, r.mean, r.varBiased, bn, c, hw, 1e-5);
      return [d.gx, d.gGamma, d.gBeta];
    }, [size, c, c], 1e-4);
    add('batchnorm', `bn infer ${affine}`, [input, lcg(c, 20), lcg(c, 21).map((v) => 1 + v), ...params], (b, [p, mu, v, gm, be]) =>
      b.batchNormInfer(p, gm ?? null, be ?? null, mu, v, bn, c, hw, 1e-5), [size]);
  }

  const os = 37;
  const [p, g, mm, v] = [lcg(os, 22), lcg(os, 23), lcg(os, 24, 0.1), lcg(os, 25, 0.01).map(Math.abs)];
  for (const [decoupled, weightDecay] of [[false, 0], [false, 0.01], [true, 0.01]] as const) {
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled, step: 3 };
    add('optim', `adam ${decoupled} ${weightDecay}`, [p, g, mm, v], (b, [pp, gg, m2, vv]) => {
      const r = b.adamStep(pp, gg, m2, vv, os, h);
      return [r.p, r.m, r.v];
    }, [os, os, os]);
  }
  for (const [momentum, nesterov, first] of [[0, false, true], [0.9, false, true], [0.9, true, false], [0.9, false, false]] as const) {
    const h = { lr: 0.1, momentum, dampening: 0, weightDecay: 0.01, nesterov, first };
    add('optim', `sgd ${momentum} ${nesterov} ${first}`, [p, g, mm], (b, [pp, gg, bb]) => {
      const r = b.sgdStep(pp, gg, first ? null : bb, os, h);
      return r.buf ? [r.p, r.buf] : [r.p];
    }, [os, os]);
  }
  return cases;
}
