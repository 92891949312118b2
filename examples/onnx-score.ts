/**
 * Scores a folder of WAV files with an exported ONNX model on onnxruntime: features from this
 * library, the model in batches of 32, one JSON line per file. By default on onnxruntime-web's
 * WebAssembly backend (a devDependency here); `--runtime node` on onnxruntime-node, the native
 * runtime (`npm install onnxruntime-node`: not a dependency of this package, it is 290 MB). A
 * Triton server takes the same model file (docs/serving.md).
 *
 *   npm run ser -- export --onnx emotion-cnn.onnx
 *   npx tsx examples/onnx-score.ts emotion-cnn.onnx DIR [--runtime web|node] > scores.jsonl
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ser } from '../src/index.js';

const args = process.argv.slice(2);
const at = args.indexOf('--runtime');
const runtime = at >= 0 ? args.splice(at, 2)[1] : 'web';
const [modelFile, dir] = args;
if (!modelFile || !dir || (runtime !== 'web' && runtime !== 'node')) {
  console.error('usage: npx tsx examples/onnx-score.ts MODEL.onnx DIR [--runtime web|node]');
  process.exit(2);
}
type Ort = typeof import('onnxruntime-web');
let ort: Ort;
try {
  // the two packages share onnxruntime-common's API: InferenceSession, Tensor
  ort = runtime === 'node' ? ((await import('onnxruntime-node' as string)) as Ort) : await import('onnxruntime-web');
} catch {
  console.error(`onnxruntime-${runtime} is not installed: npm install onnxruntime-${runtime}`);
  process.exit(2);
}
const session = await ort.InferenceSession.create(readFileSync(modelFile), runtime === 'web' ? { executionProviders: ['wasm'] } : {});
const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.toLowerCase().endsWith('.wav')).sort();
const clip = 40 * 174;
for (let b = 0; b < files.length; b += 32) {
  const batch: { file: string; features: Float32Array }[] = [];
  for (const f of files.slice(b, b + 32)) {
    try {
      batch.push({ file: f, features: ser.wavFeatures(readFileSync(join(dir, f))) }); // the clip's first 4 s, as the original project scored it
    } catch (e) {
      console.log(JSON.stringify({ file: f, error: (e as Error).message }));
    }
  }
  if (!batch.length) continue;
  const x = new Float32Array(batch.length * clip);
  batch.forEach((c, i) => x.set(c.features, i * clip));
  const { logits } = await session.run({ mfcc: new ort.Tensor('float32', x, [batch.length, 1, 40, 174]) });
  const p = ser.softmaxRows(logits!.data as Float32Array);
  batch.forEach((c, i) => {
    const row = p.subarray(i * 8, (i + 1) * 8);
    console.log(JSON.stringify({ file: c.file, label: ser.EMOTIONS[ser.argmax(row)], probabilities: Object.fromEntries(ser.EMOTIONS.map((e, k) => [e, row[k]])) }));
  });
}
