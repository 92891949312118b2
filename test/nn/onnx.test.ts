/**
 * ONNX export (src/ser/onnx-export.ts) run by onnxruntime-web on WebAssembly, in Node: the bundled
 * weights (input normalisation, Δ/ΔΔ, folded batch norm inside the graph) and a PyTorch .pth import
 * (the original recipe) give this library's logits within 1e-5, at any batch size.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { noGrad, ser, tensor } from '../../src/index.js';
import { BUNDLED_WEIGHTS, loadModel } from '../../src/node.js';
import { relError } from '../shared/seam-cases.js';
import { fixturePath } from '../helpers/fixtures.js';

ort.env.wasm.numThreads = 1;
// three clips: a 4.1 s one, a 1.4 s one (zero frames pad it, which normalisation must leave alone) and a 3.7 s one
const clips = ['../../examples/audio/03-01-05-02-01-01-01.wav', 'audio/stage.wav', '../../examples/audio/03-01-04-02-01-01-02.wav'];
const features = clips.map((c) => ser.wavFeatures(readFileSync(c.startsWith('..') ? new URL(c, import.meta.url) : fixturePath(c))));

async function check(r: ser.EmotionRecognizer): Promise<number[]> {
  const session = await ort.InferenceSession.create(ser.exportOnnx(r.model, { normalizer: r.normalizer }), { executionProviders: ['wasm'] });
  const errors: number[] = [];
  for (const n of [1, 3]) {
    const x = new Float32Array(features.slice(0, n).flatMap((f) => Array.from(f)));
    const out = await session.run({ mfcc: new ort.Tensor('float32', x, [n, 1, 40, 174]) });
    expect(out.logits!.dims).toEqual([n, 8]);
    const want = noGrad(() => r.model.forward(tensor(r.normalizer ? r.normalizer.apply(x) : x, [n, 1, 40, 174]))).toArray();
    errors.push(relError(out.logits!.data as Float32Array, want));
  }
  await session.release();
  return errors;
}

describe('ONNX export, run by onnxruntime-web', () => {
  it('the bundled weights: normalisation and Δ/ΔΔ inside the graph, batch norm folded; logits within 1e-5 at batch 1 and 3', async () => {
    const r = loadModel(BUNDLED_WEIGHTS);
    expect(r.normalizer).not.toBeNull();
    expect(r.model.deltas).toBe(2);
    for (const e of await check(r)) expect(e).toBeLessThan(1e-5);
  }, 60_000);
  it('a PyTorch .pth import (the original recipe: no normalisation, no Δ)', async () => {
    const r = ser.EmotionRecognizer.fromBytes(readFileSync(fixturePath('pth/emotion_cnn.pth')));
    for (const e of await check(r)) expect(e).toBeLessThan(1e-5);
  }, 60_000);
  it('the graph declares a dynamic batch and the names a server needs', async () => {
    const session = await ort.InferenceSession.create(ser.exportOnnx(loadModel(BUNDLED_WEIGHTS).model), { executionProviders: ['wasm'] });
    expect(session.inputNames).toEqual(['mfcc']);
    expect(session.outputNames).toEqual(['logits']);
    await session.release();
  }, 60_000);
});
