/**
 * Scores a folder of WAV files with an exported ONNX model on onnxruntime (here onnxruntime-web's
 * WebAssembly backend; onnxruntime-node or a Triton server take the same model file): features
 * from this library, the model in batches of 32, one JSON line per file.
 *
 *   npm run ser -- export --onnx emotion-cnn.onnx
 *   npx tsx examples/onnx-score.ts emotion-cnn.onnx DIR > scores.jsonl
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { ser } from '../src/index.js';

const [modelFile, dir] = process.argv.slice(2);
if (!modelFile || !dir) {
  console.error('usage: npx tsx examples/onnx-score.ts MODEL.onnx DIR');
  process.exit(2);
}
const session = await ort.InferenceSession.create(readFileSync(modelFile), { executionProviders: ['wasm'] });
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
