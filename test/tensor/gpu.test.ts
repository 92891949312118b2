/**
 * The gpu.js backend: every kernel against the CPU backend on odd shapes, the whole EmotionCNN
 * against PyTorch, and the transfers of a training step. Runs in whatever mode gpu.js has here
 * (WebAssembly on CI, which has no GPU).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, nn, noGrad, optim, setBackend, tensor } from '../../src/index.js';
import { backendByName, type Backend, type Conv2dGeometry, type Pool2dGeometry } from '../../src/tensor/backend.js';
import { autoDecision, createGpu, decideAuto, gpuModes, isSoftwareRenderer, timeConvProbe, useGpu } from '../../src/gpu.js';
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
    // here (no GL context in Node on CI) gpu.js can only emulate: auto takes the CPU and says why
    if (!['headlessgl', 'webgl2', 'webgl'].includes(mode)) {
      expect(getBackend()).toBe('cpu');
      expect(autoDecision()).toMatchObject({ backend: 'cpu', reason: expect.stringMatching(new RegExp(`'${mode}' emulation`)) });
    }
    setBackend('cpu');
  });
});

describe('auto decides by what is fast', () => {
  it('software renderers are recognised by name', () => {
    for (const r of ['Google SwiftShader', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', 'llvmpipe (LLVM 15.0.6, 256 bits)', 'softpipe', 'Microsoft Basic Render Driver', 'Mesa Software Rasterizer']) {
      expect(isSoftwareRenderer(r), r).toBe(true);
    }
    for (const r of ['NVIDIA H200/PCIe/SSE2', 'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0)', 'Apple M2', 'Mali-G78', 'AMD Radeon RX 7900 XTX', 'Intel(R) UHD Graphics 630']) {
      expect(isSoftwareRenderer(r), r).toBe(false);
    }
  });
  /** A stand-in for a gpu.js backend on a GL renderer of the given name. */
  const onRenderer = (renderer: string) => () => Object.assign(createGpu({ mode }), { renderer: () => renderer });
  it('a software renderer means the CPU, without timing anything', () => {
    const probe = () => {
      throw new Error('must not be timed');
    };
    expect(decideAuto({ mode: 'webgl2', create: onRenderer('Google SwiftShader'), probe })).toMatchObject({ backend: 'cpu', reason: 'the GL renderer is a software rasteriser (Google SwiftShader)' });
  });
  it('a hardware renderer is timed against the CPU: the faster wins, both ways', () => {
    const cpuBackend = backendByName('cpu');
    const timings = (gpuMs: number, cpuMs: number) => (b: Backend) => (b === cpuBackend ? cpuMs : gpuMs);
    const fast = decideAuto({ mode: 'webgl2', create: onRenderer('NVIDIA H200'), probe: timings(0.2, 1.5) });
    expect(fast).toMatchObject({ backend: 'gpu', renderer: 'NVIDIA H200', gpuMs: 0.2, cpuMs: 1.5 });
    expect(fast.reason).toMatch(/0\.20 ms on NVIDIA H200 and 1\.50 ms on the CPU/);
    expect(decideAuto({ mode: 'webgl2', create: onRenderer('Intel(R) HD Graphics 3000'), probe: timings(4, 1.5) }).backend).toBe('cpu');
  });
  it('the probe is a real measurement: a positive time on the CPU backend', () => {
    expect(timeConvProbe(backendByName('cpu'))).toBeGreaterThan(0);
  });
});
