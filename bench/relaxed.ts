/**
 * Our EmotionCNN with WebAssembly relaxed SIMD's fused multiply-add (what Chrome ≥ 114 and
 * Node ≥ 22 run by default; Node 20 only behind a flag), one thread. bench/run.ts runs it in a
 * child process with the flag:
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/relaxed.ts   # one JSON line: { rows: [{ name, batch, medianMs, minMs, samples }] }
 */
import { manualSeed, nn, noGrad, optim, randn, relaxedSimdEnabled } from '../src/index.js';
import { EmotionCNN } from '../src/ser/model.js';

if (!relaxedSimdEnabled()) throw new Error('bench/relaxed.ts: relaxed SIMD is not available (run node with --experimental-wasm-relaxed-simd)');
const quick = process.argv.includes('--quick');
manualSeed(0);
const model = new EmotionCNN();
const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
const input = (batch: number) => ({ x: randn([batch, 1, 40, 174]), y: Array.from({ length: batch }, (_, i) => i % 8) });
const b1 = input(1);
const b32 = input(32);
const tasks: { name: string; batch: number; fn: () => void; min: number }[] = [
  { name: 'inference, batch 1', batch: 1, fn: () => { model.eval(); noGrad(() => model.forward(b1.x)).toArray(); }, min: 10 },
  { name: 'inference, batch 32', batch: 32, fn: () => { model.eval(); noGrad(() => model.forward(b32.x)).toArray(); }, min: 10 },
  {
    name: 'train step, batch 32', batch: 32, min: quick ? 1 : 3,
    fn: () => { model.train(); opt.zeroGrad(); nn.functional.crossEntropy(model.forward(b32.x), b32.y).backward(); opt.step(); },
  },
];
const rows: { name: string; batch: number; medianMs: number; minMs: number; samples: number }[] = [];
for (const t of tasks) {
  const budgetMs = quick ? 300 : 1500;
  for (let i = 0; i < (t.min > 3 ? 3 : 1); i++) t.fn();
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < t.min || (performance.now() - t0 < budgetMs && times.length < 1000)) {
    const s = performance.now();
    t.fn();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  rows.push({ name: t.name, batch: t.batch, medianMs: times[Math.floor(times.length / 2)]!, minMs: times[0]!, samples: times.length });
}
console.log(JSON.stringify({ rows }));
