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

Object.assign(globalThis, { runGl, autoHere });
