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
import { seamCases, seamError } from '../shared/seam-cases.js';

const mode = gpuModes()[0]!;
const gpu = useGpu({ mode });
setBackend('cpu');
const cpu = backendByName('cpu');
afterAll(() => setBackend('cpu'));

// every mode gpu.js can run here (on CI: webasm and its plain-JavaScript cpu mode); the same
// cases run on real GLSL in Chromium (test/browser/gl.test.ts)
for (const m of gpuModes()) describe(`gpu backend kernels against the CPU backend (gpu.js mode ${m})`, () => {
  const gb = createGpu({ mode: m });
  afterAll(() => gb.destroy());
  const cases = seamCases();
  for (const group of [...new Set(cases.map((c) => c.group))]) {
    it(`${group}: ${cases.filter((c) => c.group === group).map((c) => c.what).join(', ')}`, () => {
      for (const c of cases.filter((k) => k.group === group)) expect(seamError(c, gb, cpu), c.what).toBeLessThanOrEqual(c.tol);
    });
  }
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
