/** The whole seed EmotionCNN against PyTorch: logits, loss, every gradient, three Adam steps. */
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, noGrad, nn, optim, setBackend, tensor } from '../../src/index.js';
import { gpuModes, registerGpuBackend } from '../../src/gpu.js';
import { EmotionCNN } from '../../src/ser/model.js';
import { expectClose, torchFixture } from '../helpers/fixtures.js';
import { cpuKernels, useCpuKernel } from '../helpers/kernels.js';
import { lcg } from '../helpers/lcg.js';
import { emotionStepChecks, lcgInit } from '../shared/emotion-step.js';

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
    afterAll(() => setBackend('cpu'));

    it(`logits, loss, every gradient, running statistics and three Adam steps (${backend} backend)`, () => {
      const checks = emotionStepChecks(t, backend, tol);
      expect(checks.length).toBeGreaterThan(40);
      for (const c of checks) expect(c.value, c.what).toBeLessThanOrEqual(c.limit);
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
