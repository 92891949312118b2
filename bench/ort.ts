/**
 * onnxruntime-web (WebAssembly SIMD, in Node) on the same EmotionCNN as ours: the model exported by
 * this library's ONNX exporter from the same seeded weights (src/ser/onnx-export.ts), inference at
 * batch 1 and 32, and the Δ/ΔΔ model (the bundled recipe's) at batch 1. onnxruntime fixes its thread count when it first loads, so bench/run.ts runs this
 * once per thread count in its own process:
 *
 *   npx tsx bench/ort.ts --threads 1     # prints one JSON line: { threads, version, rows: [{ name, batch, medianMs, minMs, samples }] }
 */
import * as ort from 'onnxruntime-web';
import { manualSeed, randn } from '../src/index.js';
import { EmotionCNN } from '../src/ser/model.js';
import { exportOnnx } from '../src/ser/onnx-export.js';

const at = process.argv.indexOf('--threads');
const threads = at >= 0 ? Number(process.argv[at + 1]) : 1;
const quick = process.argv.includes('--quick');
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;

const rows: { name: string; batch: number; medianMs: number; minMs: number; samples: number }[] = [];
// the plain model at batch 1 and 32, and the bundled recipe's (Δ/ΔΔ channels computed inside the graph) at batch 1
for (const deltas of [0, 2]) {
  manualSeed(0);
  const model = new EmotionCNN({ deltas });
  model.eval();
  const session = await ort.InferenceSession.create(exportOnnx(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  for (const batch of deltas ? [1] : [1, 32]) {
    const x = new ort.Tensor('float32', randn([batch, 1, 40, 174]).toArray(), [batch, 1, 40, 174]);
    const run = () => session.run({ mfcc: x });
    const budgetMs = quick ? 300 : 1500;
    for (let i = 0; i < 3; i++) await run();
    const times: number[] = [];
    const t0 = performance.now();
    while (times.length < 10 || (performance.now() - t0 < budgetMs && times.length < 1000)) {
      const s = performance.now();
      await run();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const name = `inference, batch ${batch}${deltas ? ', with Δ and ΔΔ' : ''}`;
    rows.push({ name, batch, medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]!, samples: times.length });
  }
  await session.release();
}
console.log(JSON.stringify({ threads, version: ort.env.versions.web ?? 'unknown', rows }));
