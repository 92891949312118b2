/** The whole seed EmotionCNN against PyTorch: logits, loss, every gradient, three Adam steps. */
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, noGrad, nn, optim, setBackend, tensor } from '../../src/index.js';
import { gpuModes, registerGpuBackend } from '../../src/gpu.js';
import { EmotionCNN } from '../../src/ser/model.js';
import { expectClose, torchFixture } from '../helpers/fixtures.js';
import { cpuKernels, useCpuKernel } from '../helpers/kernels.js';
import { lcg } from '../helpers/lcg.js';

const isConvBias = (name: string) => /^conv\d\.bias$/.test(name);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const norm2 = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

/** The deterministic parameters of gen_torch_fixtures.py's lcg_init. */
function lcgInit(model: EmotionCNN): void {
  const params = model.namedParameters();
  const weights = new Map(params);
  const sd: Record<string, Tensor> = { ...model.stateDict() };
  params.forEach(([name, p], i) => {
    let values: Float32Array;
    if (name.startsWith('bn')) {
      const base = name.endsWith('weight') ? 1 : 0;
      values = lcg(p.size, 1000 + i, 0.1).map((v) => base + v);
    } else {
      const w = weights.get(name.replace('bias', 'weight'))!;
      const fanIn = w.shape.slice(1).reduce((a, b) => a * b, 1);
      values = lcg(p.size, 1000 + i, 1 / Math.sqrt(fanIn));
    }
    sd[name] = tensor(values, p.shape);
  });
  model.loadStateDict(sd);
}

describe('EmotionCNN against PyTorch', () => {
  const { t } = torchFixture('emotion_cnn');
  const batch = 4;
  const x = tensor(lcg(batch * 40 * 174, 7, 30), [batch, 1, 40, 174]);
  const target = Array.from(t.target!.toArray());

  it('regenerates the same input as the fixture', () => {
    expectClose(x.toArray().subarray(0, 16), t.x_check!, 0, 'input');
  });

  it('state dict keys are PyTorch’s, in PyTorch’s order', () => {
    const model = new EmotionCNN();
    const keys = Object.keys(model.stateDict());
    const conv = (i: number) => [`conv${i}.weight`, `conv${i}.bias`];
    const bn = (i: number) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((k) => `bn${i}.${k}`);
    expect(keys).toEqual([...conv(1), ...bn(1), ...conv(2), ...bn(2), ...conv(3), ...bn(3), 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(model.stateDict()['fc1.weight']!.shape).toEqual([128, 64 * 5 * 21]);
  });

  it('eval-mode logits from PyTorch’s trained state (running statistics in use)', () => {
    const model = new EmotionCNN();
    const sd: Record<string, Tensor> = {};
    for (const key of Object.keys(model.stateDict())) sd[key] = t[`adam3.${key}`]!;
    model.loadStateDict(sd);
    model.eval();
    const evalLogits = noGrad(() => model.forward(x));
    expectClose(evalLogits, t.eval_logits!, 1e-5, 'eval logits');
  });
});

/**
 * The training step on each backend: the CPU backend within 1e-5 of PyTorch with either matrix
 * kernel (JavaScript, accumulating in float64; WebAssembly SIMD, in float32 as PyTorch); the gpu.js
 * kernels (float32 arithmetic in another order) within 1e-4.
 */
registerGpuBackend({ mode: gpuModes()[0] });
const cases = [...cpuKernels.map((k) => ['cpu', k, 1e-5] as const), ['gpu', null, 1e-4] as const];
for (const [backend, kernel, tol] of cases) {
  describe(`EmotionCNN training step against PyTorch on the ${backend} backend${kernel ? ` (${kernel} kernels)` : ''}`, () => {
    if (kernel) useCpuKernel(kernel);
    const { t } = torchFixture('emotion_cnn');
    const batch = 4;
    const target = Array.from(t.target!.toArray());
    const xOn = () => tensor(lcg(batch * 40 * 174, 7, 30), [batch, 1, 40, 174]);
    afterAll(() => setBackend('cpu'));

    it(`logits, loss, every gradient, running statistics and three Adam steps (${backend} backend)`, () => {
      setBackend(backend);
      const model = new EmotionCNN();
      const x = xOn();
      lcgInit(model);
      model.train();
      model.dropout.eval(); // as in the fixture: dropout masks are random
      const logits = model.forward(x);
      expectClose(logits, t.logits!, tol, 'logits');
      const loss = nn.functional.crossEntropy(logits, target);
      expectClose([loss.item()], t.loss!, tol, 'loss');
      loss.backward();
      for (const [name, p] of model.namedParameters()) {
        if (isConvBias(name)) continue;
        expectClose(p.grad, t[`grad.${name}`]!, tol, `grad ${name}`);
      }
      // A conv bias feeding a training-mode BatchNorm has an exact gradient of zero (the batch mean
      // removes it): both sides hold only rounding noise, which must be tiny next to the weights'.
      for (const conv of [model.conv1, model.conv2, model.conv3]) {
        const i = [model.conv1, model.conv2, model.conv3].indexOf(conv) + 1;
        const scale = maxAbs(t[`grad.conv${i}.weight`]!.toArray());
        expect(maxAbs(conv.bias!.grad!.toArray())).toBeLessThan(tol * scale);
        expect(maxAbs(t[`grad.conv${i}.bias`]!.toArray())).toBeLessThan(tol * scale);
      }
      for (const [name, b] of model.namedBuffers()) {
        if (name.includes('running')) expectClose(b, t[`after1.${name}`]!, tol, name);
      }

      const initial = new Map(model.namedParameters().map(([k, p]) => [k, p.toArray()]));
      const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
      opt.step();
      for (let s = 0; s < 2; s++) {
        opt.zeroGrad();
        nn.functional.crossEntropy(model.forward(x), target).backward();
        opt.step();
      }
      // Adam divides by √v, so a gradient element that is itself rounding noise (|g| ~ 1e-7 of the
      // largest) becomes a visible fraction of a step. Measured: 18 of 860,160 fc1 weights differ by
      // more than 1e-7. So the update as a whole must match tightly, and every element within 0.1·lr.
      const lr = 5e-4;
      for (const [name, p] of model.namedParameters()) {
        const got = p.toArray();
        const want = t[`adam3.${name}`]!.toArray();
        const start = initial.get(name)!;
        const diff = got.map((v, i) => Math.abs(v - want[i]!));
        if (isConvBias(name)) {
          // zero-gradient parameters: each step moves either side by up to lr of pure noise, in
          // directions that need not agree, so three steps differ by at most 2 · 3 · lr
          expect(maxAbs(diff), name).toBeLessThanOrEqual(6 * lr * 1.001);
          continue;
        }
        const update = want.map((v, i) => v - start[i]!);
        expect(norm2(diff) / norm2(update), `${name}: update relative L2 error`).toBeLessThanOrEqual(10 * tol);
        expect(maxAbs(diff), `${name}: worst element`).toBeLessThanOrEqual(0.1 * lr);
      }
    });
  });
}

/**
 * EmotionCNN with Δ and ΔΔ input channels (gen_torch_fixtures.py's emotion_cnn_deltas): the delta
 * filter, the concatenation and the wider conv1, forward and backward, on each backend.
 */
for (const [backend, kernel, tol] of cases) {
  describe(`EmotionCNN with delta channels against PyTorch on the ${backend} backend${kernel ? ` (${kernel} kernels)` : ''}`, () => {
    if (kernel) useCpuKernel(kernel);
    const { t } = torchFixture('emotion_cnn_deltas');
    afterAll(() => setBackend('cpu'));

    it('logits, loss, the gradients that pass through the delta channels, eval logits', () => {
      setBackend(backend);
      const model = new EmotionCNN({ deltas: 2 });
      lcgInit(model);
      model.train();
      model.dropout.eval();
      const x = tensor(lcg(2 * 40 * 174, 11, 3), [2, 1, 40, 174]);
      const logits = model.forward(x);
      expectClose(logits, t.logits!, tol, 'logits');
      const loss = nn.functional.crossEntropy(logits, Array.from(t.target!.toArray()));
      expectClose([loss.item()], t.loss!, tol, 'loss');
      loss.backward();
      const params = new Map(model.namedParameters());
      for (const name of ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'fc2.weight']) {
        expectClose(params.get(name)!.grad, t[`grad.${name}`]!, tol, `grad ${name}`);
      }
      model.eval();
      expectClose(noGrad(() => model.forward(x)), t.eval_logits!, tol, 'eval logits');
    });
  });
}
