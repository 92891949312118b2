/**
 * The page behind bench/webgl.ts: the EmotionCNN on our gpu.js backend (WebGL2) and on
 * TensorFlow.js's WebGL backend, in the same page on the same renderer, timed alternately:
 * inference at batch 1 and 32 and an Adam training step at batch 32. Reports numbers; the driver
 * writes them down.
 */
import * as tf from '@tensorflow/tfjs';
import { useGpu } from '../src/gpu.js';
import { crossEntropy } from '../src/tensor/ops/loss.js';
import { noGrad } from '../src/tensor/autograd.js';
import { setBackend } from '../src/tensor/backend.js';
import { tidy } from '../src/tensor/memory.js';
import { manualSeed } from '../src/tensor/random.js';
import { randn } from '../src/tensor/factories.js';
import { Adam } from '../src/nn/optim/adam.js';
import { EmotionCNN } from '../src/ser/model.js';
import { buildTfjsModel } from './tfjs-model.js';

interface Timing { engine: string; name: string; batch: number; medianMs: number; minMs: number; samples: number }

/** Median and minimum of `reps` calls after `warm` untimed ones. */
function timeIt(fn: () => void, warm: number, reps: number): { medianMs: number; minMs: number; samples: number } {
  for (let i = 0; i < warm; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { medianMs: t[Math.floor(t.length / 2)]!, minMs: t[0]!, samples: t.length };
}

async function runWebgl(opts: { trainReps: number; inferReps: number }) {
  const out: Timing[] = [];
  // ours: gpu.js on WebGL2, every call in a tidy scope (textures released), values read back as a user would
  const gpu = useGpu({ mode: 'webgl2' });
  manualSeed(0);
  const model = new EmotionCNN();
  const opt = new Adam(model.parameters(), { lr: 5e-4 });
  const inputs = new Map([1, 32].map((b) => [b, randn([b, 1, 40, 174])]));
  const labels = Array.from({ length: 32 }, (_, i) => i % 8);
  const ours = {
    infer: (b: number) => tidy(() => { model.eval(); return noGrad(() => model.forward(inputs.get(b)!)).toArray(); }),
    train: () => tidy(() => { model.train(); opt.zeroGrad(); const loss = crossEntropy(model.forward(inputs.get(32)!), labels); loss.backward(); opt.step(); opt.zeroGrad(); return loss.item(); }),
  };
  await tf.setBackend('webgl');
  tf.env().set('PROD', true);
  const theirs = buildTfjsModel(tf);
  const renderer = (() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    return ext ? String(gl!.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'unknown';
  })();
  for (const b of [1, 32]) {
    out.push({ engine: 'ours gpu.js (webgl2)', name: `inference, batch ${b}`, batch: b, ...timeIt(() => ours.infer(b), 2, opts.inferReps) });
    out.push({ engine: `TF.js webgl ${tf.version.tfjs}`, name: `inference, batch ${b}`, batch: b, ...timeIt(() => theirs.infer(b), 2, opts.inferReps) });
  }
  out.push({ engine: 'ours gpu.js (webgl2)', name: 'train step, batch 32', batch: 32, ...timeIt(() => ours.train(), 1, opts.trainReps) });
  out.push({ engine: `TF.js webgl ${tf.version.tfjs}`, name: 'train step, batch 32', batch: 32, ...timeIt(() => theirs.trainStep!(32), 1, opts.trainReps) });
  const stats = gpu.stats();
  // what one pass costs in launches and transfers (gpu.stats() counts them)
  const perPass = (fn: () => void) => {
    gpu.resetStats();
    fn();
    const s = gpu.stats();
    return { launches: s.launches, uploads: s.uploads, readbacks: s.readbacks };
  };
  // the training rows changed the weights, so the first eval pass after them folds the batch norms
  // again (21 launches); count a pass with the fold kept, as every later one is
  ours.infer(1);
  const counts = { inference: perPass(() => ours.infer(1)), trainStep: perPass(() => ours.train()) };
  theirs.dispose();
  gpu.destroy();
  setBackend('cpu');
  return { renderer, rows: out, oursStats: { launchesPerRun: stats.launches, textures: stats.textures, kernels: stats.kernels, perPass: counts } };
}

Object.assign(globalThis, { runWebgl });
