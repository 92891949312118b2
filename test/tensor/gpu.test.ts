/**
 * The gpu.js backend: every kernel against the CPU backend on odd shapes, the whole EmotionCNN
 * against PyTorch, and the transfers of a training step. Runs in whatever mode gpu.js has here
 * (WebAssembly on CI, which has no GPU).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, nn, noGrad, optim, setBackend, tensor } from '../../src/index.js';
import { backendByName, type Backend, type Conv2dGeometry, type Pool2dGeometry } from '../../src/tensor/backend.js';
import { createGpu, gpuModes, useGpu } from '../../src/gpu.js';
import { EmotionCNN } from '../../src/ser/model.js';
import { expectClose } from '../helpers/fixtures.js';
import { lcg } from '../helpers/lcg.js';

const mode = gpuModes()[0]!;
const gpu = useGpu({ mode });
setBackend('cpu');
const cpu = backendByName('cpu');
afterAll(() => setBackend('cpu'));

/** Runs `f` on both backends with copies of the same inputs; returns host arrays of each output. */
function both(g: Backend, inputs: Float32Array[], f: (b: Backend, h: unknown[]) => unknown | unknown[], sizes: number[]) {
  const run = (b: Backend) => {
    const out = f(b, inputs.map((x) => b.fromArray(x.slice())));
    const outs = Array.isArray(out) ? out : [out];
    return outs.map((h, i) => b.read(h, sizes[i]!));
  };
  return { want: run(cpu), got: run(g) };
}
function expectSame(g: Backend, inputs: Float32Array[], f: (b: Backend, h: unknown[]) => unknown | unknown[], sizes: number[], what: string, tol = 1e-5) {
  const { want, got } = both(g, inputs, f, sizes);
  want.forEach((w, i) => expectClose(got[i]!, w, tol, `${what} #${i}`));
}

// every mode gpu.js can run here (on CI: webasm and its plain-JavaScript cpu mode)
for (const m of gpuModes()) describe(`gpu backend kernels against the CPU backend (gpu.js mode ${m})`, () => {
  const gb = createGpu({ mode: m });
  afterAll(() => gb.destroy());
  const x = lcg(3 * 4 * 5, 1, 2);
  it('unary ops', () => {
    for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'relu', 'tanh', 'sigmoid', 'square'] as const) {
      const input = op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x;
      expectSame(gb, [input], (b, [h]) => b.unary(op, h, 60), [60], op);
    }
  });
  it('binary ops, same shape and broadcast', () => {
    const y = lcg(60, 2, 3).map((v) => v + Math.sign(v) * 0.5);
    for (const op of ['add', 'sub', 'mul', 'div', 'reluGrad'] as const) {
      expectSame(gb, [x, y], (b, [p, q]) => b.binary(op, p, [3, 4, 5], q, [3, 4, 5], [3, 4, 5]), [60], `${op} same`);
      expectSame(gb, [lcg(15, 3), lcg(4, 4).map((v) => v + 2)], (b, [p, q]) => b.binary(op, p, [3, 1, 5], q, [4, 1], [3, 4, 5]), [60], `${op} broadcast`);
    }
    expectSame(gb, [x], (b, [h]) => b.affine(h, 60, -1.5, 0.25), [60], 'affine');
    expectSame(gb, [x.map(Math.abs)], (b, [h]) => b.powScalar(h, 60, 1.7), [60], 'pow');
    expectSame(gb, [lcg(5, 5)], (b, [h]) => b.broadcastTo(h, [5], [3, 2, 5]), [30], 'broadcastTo');
  });
  it('reductions, permute, slice and concat', () => {
    for (const axes of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]) {
      const size = [3, 4, 5].filter((_, i) => !axes.includes(i)).reduce((p, d) => p * d, 1);
      expectSame(gb, [x], (b, [h]) => b.reduce('sum', h, [3, 4, 5], axes), [size], `sum ${axes}`);
      expectSame(gb, [x], (b, [h]) => b.reduce('max', h, [3, 4, 5], axes), [size], `max ${axes}`);
    }
    expectSame(gb, [x], (b, [h]) => b.permute(h, [3, 4, 5], [2, 0, 1]), [60], 'permute');
    expectSame(gb, [x], (b, [h]) => b.slice(h, [3, 4, 5], 1, 1, 2), [30], 'slice');
    expectSame(gb, [x, lcg(3 * 2 * 5, 6), lcg(3 * 5, 7)], (b, [p, q, r]) => b.concat([p, q, r], [[3, 4, 5], [3, 2, 5], [3, 1, 5]], 1), [105], 'concat');
  });
  it('batched matmul with every transpose combination', () => {
    const [bt, m, k, n] = [2, 3, 7, 5];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        expectSame(gb, [lcg(bt * m * k, 8), lcg(bt * k * n, 9)], (b, [p, q]) => b.matmul(p, q, bt, m, k, n, ta, tb), [bt * m * n], `matmul ${ta} ${tb}`);
      }
    }
  });
  it('conv2d forward and both backward passes, padded and strided, with and without bias', () => {
    const geos: Conv2dGeometry[] = [
      { batch: 2, inC: 3, inH: 9, inW: 11, outC: 4, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 9, outW: 11 },
      { batch: 1, inC: 2, inH: 8, inW: 7, outC: 3, kH: 3, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 3, outW: 3 },
    ];
    for (const g of geos) {
      const xs = g.batch * g.inC * g.inH * g.inW;
      const ws = g.outC * g.inC * g.kH * g.kW;
      const ys = g.batch * g.outC * g.outH * g.outW;
      expectSame(gb, [lcg(xs, 10), lcg(ws, 11), lcg(g.outC, 12)], (b, [p, w, bias]) => b.conv2d(p, w, bias, g), [ys], 'conv2d');
      expectSame(gb, [lcg(xs, 10), lcg(ws, 11)], (b, [p, w]) => b.conv2d(p, w, null, g), [ys], 'conv2d no bias');
      expectSame(gb, [lcg(ys, 13), lcg(ws, 11)], (b, [gy, w]) => b.conv2dBackwardInput(gy, w, g), [xs], 'conv2d dx');
      expectSame(gb, [lcg(ys, 13), lcg(xs, 10)], (b, [gy, p]) => b.conv2dBackwardWeight(gy, p, g), [ws], 'conv2d dW');
    }
  });
  it('max pooling forward and backward, floored odd sizes, overlapping windows and ties', () => {
    const geos: Pool2dGeometry[] = [
      { batch: 2, channels: 3, inH: 7, inW: 9, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: 3, outW: 4 },
      { batch: 1, channels: 2, inH: 7, inW: 7, kH: 3, kW: 3, strideH: 2, strideW: 2, outH: 3, outW: 3 },
    ];
    for (const g of geos) {
      const xs = g.batch * g.channels * g.inH * g.inW;
      const ys = g.batch * g.channels * g.outH * g.outW;
      const input = lcg(xs, 14).map((v) => Math.round(v * 3)); // many ties
      expectSame(gb, [input], (b, [p]) => b.maxPool2d(p, g).out, [ys], 'pool');
      expectSame(gb, [input, lcg(ys, 15)], (b, [p, gy]) => b.maxPool2dBackward(gy, b.maxPool2d(p, g).argmax, g), [xs], 'pool backward');
    }
  });
  it('batch norm in training, backward and inference, with and without affine parameters', () => {
    const [n, c, hw] = [3, 4, 13];
    const size = n * c * hw;
    const input = lcg(size, 16, 3).map((v, i) => v + (i % 7));
    for (const affine of [true, false]) {
      const params = affine ? [lcg(c, 17).map((v) => 1 + v), lcg(c, 18)] : [];
      expectSame(gb, [input, ...params], (b, [p, gm, bt]) => {
        const r = b.batchNormTrain(p, gm ?? null, bt ?? null, n, c, hw, 1e-5);
        return [r.out, r.mean, r.varBiased];
      }, [size, c, c], `bn train ${affine}`);
      expectSame(gb, [input, lcg(size, 19), ...params], (b, [p, gy, gm, bt]) => {
        const r = b.batchNormTrain(p, gm ?? null, bt ?? null, n, c, hw, 1e-5);
        const d = b.batchNormBackward(gy, p, gm ?? null, r.mean, r.varBiased, n, c, hw, 1e-5);
        return [d.gx, d.gGamma, d.gBeta];
      }, [size, c, c], `bn backward ${affine}`, 1e-4);
      expectSame(gb, [input, lcg(c, 20), lcg(c, 21).map((v) => 1 + v), ...params], (b, [p, mu, v, gm, bt]) =>
        b.batchNormInfer(p, gm ?? null, bt ?? null, mu, v, n, c, hw, 1e-5), [size], `bn infer ${affine}`);
    }
  });
  it('Adam, AdamW and SGD steps', () => {
    const size = 37;
    const [p, g, m, v] = [lcg(size, 22), lcg(size, 23), lcg(size, 24, 0.1), lcg(size, 25, 0.01).map(Math.abs)];
    for (const [decoupled, weightDecay] of [[false, 0], [false, 0.01], [true, 0.01]] as const) {
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, decoupled, step: 3 };
      expectSame(gb, [p, g, m, v], (b, [pp, gg, mm, vv]) => {
        const r = b.adamStep(pp, gg, mm, vv, size, h);
        return [r.p, r.m, r.v];
      }, [size, size, size], `adam ${decoupled} ${weightDecay}`);
    }
    for (const [momentum, nesterov, first] of [[0, false, true], [0.9, false, true], [0.9, true, false], [0.9, false, false]] as const) {
      const h = { lr: 0.1, momentum, dampening: 0, weightDecay: 0.01, nesterov, first };
      expectSame(gb, [p, g, m], (b, [pp, gg, bb]) => {
        const r = b.sgdStep(pp, gg, first ? null : bb, size, h);
        return r.buf ? [r.p, r.buf] : [r.p];
      }, [size, size], `sgd ${momentum} ${nesterov} ${first}`);
    }
  });
});

describe('gpu backend: residency, selection and models', () => {
  it('a training step keeps tensors on the backend: uploads only the batch, targets and dropout mask, one readback for the loss', () => {
    setBackend('gpu');
    try {
      const model = new EmotionCNN();
      const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
      const step = () => {
        const x = tensor(lcg(2 * 40 * 174, 3, 10), [2, 1, 40, 174]);
        opt.zeroGrad();
        const loss = nn.functional.crossEntropy(model.forward(x), [1, 5]);
        loss.backward();
        opt.step();
        return loss.item();
      };
      step(); // compiles the kernels
      gpu.resetStats();
      const loss = step();
      expect(Number.isFinite(loss)).toBe(true);
      const s = gpu.stats();
      expect(s.readbacks).toBe(1);
      expect(s.uploads).toBe(3); // the batch, the targets' one-hot rows and the dropout mask (drawn on the host, seeded)
      expect(s.compiled).toBeGreaterThan(0);
      expect(s.launches).toBeGreaterThan(50);
    } finally {
      setBackend('cpu');
    }
  });
  it('a model built on the CPU moves with module.to and predicts the same', () => {
    const model = new EmotionCNN();
    model.eval();
    const x = tensor(lcg(3 * 40 * 174, 4, 20), [3, 1, 40, 174]);
    const want = noGrad(() => model.forward(x)).toArray();
    model.to('gpu');
    expect(model.fc1.weight.device).toBe('gpu');
    const got = noGrad(() => model.forward(x.to('gpu'))).toArray();
    expectClose(got, want, 1e-4, 'eval logits');
    expect(() => model.forward(x)).toThrow(/different backends/);
    model.to('cpu');
    expectClose(noGrad(() => model.forward(x)).toArray(), want, 0, 'back on the CPU');
  });
  it('modes: a clear error for an unknown or unavailable one; auto prefers the CPU kernels over emulation', () => {
    expect(() => useGpu({ mode: 'vulkan' as 'cpu' })).toThrow(/mode must be 'auto' or one of/);
    const missing = (['headlessgl', 'webgl2', 'webgl'] as const).find((m) => !gpuModes().includes(m));
    if (missing) expect(() => useGpu({ mode: missing })).toThrow(new RegExp(`'${missing}' is not available here`));
    useGpu({ mode });
    setBackend('auto');
    expect(getBackend()).toBe(['headlessgl', 'webgl2', 'webgl'].includes(mode) ? 'gpu' : 'cpu');
    setBackend('cpu');
  });
});
