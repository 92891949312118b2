/**
 * The page behind test/browser/gl.test.ts: the gpu.js backend on Chromium's WebGL (SwiftShader in
 * CI), every seam kernel against the CPU backend, and the EmotionCNN training step against
 * PyTorch's golden values. Bundled by esbuild for the test; it reports numbers, the test judges them.
 */
import { createGpu, decideAuto, gpuModes, useGpu } from '../../src/gpu.js';
import { loadSafetensors } from '../../src/nn/safetensors.js';
import { backendByName, setBackend } from '../../src/tensor/backend.js';
import { emotionStepChecks } from '../shared/emotion-step.js';
import { seamCases, seamError } from '../shared/seam-cases.js';
import { BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/layers.js';
import { Adam } from '../../src/nn/optim/adam.js';
import { memory, tidy } from '../../src/tensor/memory.js';
import { manualSeed } from '../../src/tensor/random.js';
import { tensor } from '../../src/tensor/tensor.js';
import { crossEntropy } from '../../src/tensor/ops/loss.js';

/**
 * Memory over a long run: `steps` training steps of a small conv net on WebGL2, each in a tidy
 * scope, batches of 4 (`shapes` 1) or 4, 3 and 2 in turn (3: kernels for three shapes), with the
 * kernel cache bound to `maxKernels`. Reports live textures, live tensors and cached kernels along the way; then 5
 * steps without tidy, to show that the count does see a leak.
 */
function memoryRun(steps: number, maxKernels: number, shapes: number) {
  const gpu = useGpu({ mode: 'webgl2', maxKernels });
  manualSeed(0);
  const net = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(64, 3));
  const opt = new Adam(net.parameters(), { lr: 1e-2 });
  const x = new Float32Array(4 * 64).map((_, i) => Math.sin(i * 0.37));
  const y = [0, 1, 2, 1];
  const step = (i: number) => {
    const n = 4 - (i % shapes);
    opt.zeroGrad();
    const loss = crossEntropy(net.forward(tensor(x.subarray(0, n * 64), [n, 1, 8, 8])) as ReturnType<typeof tensor>, y.slice(0, n));
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return loss.item();
  };
  const t0 = performance.now();
  const samples: { step: number; textures: number; tensors: number; kernels: number; loss: number }[] = [];
  for (let i = 1; i <= steps; i++) {
    const loss = tidy(() => step(i));
    if (i === 10 || i % 50 === 0 || i === steps) samples.push({ step: i, textures: gpu.stats().textures, tensors: memory().numTensors, kernels: gpu.stats().kernels, loss });
  }
  const before = gpu.stats().textures;
  for (let i = 1; i <= 5; i++) step(i);
  const leaked = gpu.stats().textures - before;
  const compiled = gpu.stats().compiled;
  gpu.destroy();
  setBackend('cpu');
  return { samples, leaked, compiled, ms: performance.now() - t0 };
}

async function runGl(mode: 'webgl2' | 'webgl', withModel: boolean) {
  const gpu = useGpu({ mode });
  setBackend('cpu');
  const cpu = backendByName('cpu');
  const t0 = performance.now();
  const seam = seamCases().map((c) => ({ what: `${c.group}: ${c.what}`, value: seamError(c, gpu, cpu), limit: c.tol }));
  const seamMs = performance.now() - t0;
  let model: { what: string; value: number; limit: number }[] = [];
  let modelMs = 0;
  if (withModel) {
    const bytes = new Uint8Array(await (await fetch('emotion_cnn.safetensors')).arrayBuffer());
    const t1 = performance.now();
    model = emotionStepChecks(loadSafetensors(bytes).tensors, 'gpu', 1e-4);
    modelMs = performance.now() - t1;
  }
  const stats = gpu.stats();
  gpu.destroy();
  return { mode: gpu.mode, seam, model, seamMs, modelMs, stats };
}

/** What `auto` decides here, the renderer gpu.js sees, and whether the webasm mode is refused in a page. */
function autoHere() {
  const gl = createGpu({ mode: 'webgl2' });
  const renderer = gl.renderer();
  gl.destroy();
  let webasm = 'not offered';
  if (gpuModes().includes('webasm')) {
    try {
      createGpu({ mode: 'webasm' }).destroy();
      webasm = 'accepted';
    } catch (e) {
      webasm = (e as Error).message;
    }
  }
  return { decision: decideAuto(), renderer, webasm };
}

Object.assign(globalThis, { runGl, autoHere, memoryRun });
