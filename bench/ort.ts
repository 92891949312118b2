/**
 * onnxruntime-web (WebAssembly SIMD, in Node) on the same EmotionCNN as ours: the model exported by
 * this library's ONNX exporter from the same seeded weights (src/ser/onnx-export.ts), inference at
 * batch 1 and 32, and the Δ/ΔΔ model (the bundled recipe's) at batch 1. onnxruntime fixes its thread count when it first loads, so bench/run.ts runs this
 * once per thread count in its own process:
 *
 *   npx tsx bench/ort.ts --threads 1     # prints one JSON line: { threads, version, rows: [{ name, batch, medianMs, minMs, samples, ours? }] }
 *
 * At one thread our model runs here too, on the same input, in alternation with onnxruntime-web
 * (short rounds, one engine then the other), and each row's `ours` holds our figures from those
 * rounds: this machine's speed drifts by tens of percent within a minute, so two engines timed a
 * minute apart can differ by the drift alone, and the ratio the speed targets are set on is taken
 * from these paired times.
 */
import * as ort from 'onnxruntime-web';
import { manualSeed, noGrad, randn } from '../src/index.js';
import { EmotionCNN } from '../src/ser/model.js';
import { exportOnnx } from '../src/ser/onnx-export.js';

const at = process.argv.indexOf('--threads');
const threads = at >= 0 ? Number(process.argv[at + 1]) : 1;
const quick = process.argv.includes('--quick');
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;

type Times = { medianMs: number; minMs: number; samples: number };
const rows: ({ name: string; batch: number } & Times & { ours?: Times })[] = [];
const summary = (times: number[]): Times => {
  const t = [...times].sort((a, b) => a - b);
  return { medianMs: t[Math.floor(t.length / 2)]!, minMs: t[0]!, samples: t.length };
};
/** Calls `f` for `budgetMs` (at least `least` times, at most 1000), adding each call's time to `times`. */
async function timeFor(f: () => unknown, budgetMs: number, least: number, times: number[]): Promise<void> {
  const t0 = performance.now();
  for (let n = 0; n < least || (performance.now() - t0 < budgetMs && n < 1000); n++) {
    const s = performance.now();
    await f();
    times.push(performance.now() - s);
  }
}
const paired = threads === 1;
const rounds = quick ? 2 : 6;
// the plain model at batch 1 and 32, and the bundled recipe's (Δ/ΔΔ channels computed inside the graph) at batch 1
for (const deltas of [0, 2]) {
  manualSeed(0);
  const model = new EmotionCNN({ deltas });
  model.eval();
  const session = await ort.InferenceSession.create(exportOnnx(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  for (const batch of deltas ? [1] : [1, 32]) {
    const input = randn([batch, 1, 40, 174]);
    const x = new ort.Tensor('float32', input.toArray(), [batch, 1, 40, 174]);
    const theirs = () => session.run({ mfcc: x });
    const ours = () => noGrad(() => model.forward(input)).toArray();
    const budgetMs = quick ? 300 : 1500;
    for (let i = 0; i < 3; i++) {
      await theirs();
      if (paired) ours();
    }
    const times: number[] = [];
    const oursTimes: number[] = [];
    if (paired) {
      for (let r = 0; r < rounds; r++) {
        await timeFor(theirs, budgetMs / rounds, 2, times);
        await timeFor(ours, budgetMs / rounds, 2, oursTimes);
      }
    } else {
      await timeFor(theirs, budgetMs, 10, times);
    }
    const name = `inference, batch ${batch}${deltas ? ', with Δ and ΔΔ' : ''}`;
    rows.push({ name, batch, ...summary(times), ...(paired ? { ours: summary(oursTimes) } : {}) });
  }
  await session.release();
}
console.log(JSON.stringify({ threads, version: ort.env.versions.web ?? 'unknown', rows }));
