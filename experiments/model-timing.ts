/**
 * Medians of the EmotionCNN's batch-1 and batch-32 inference and batch-32 train step, one thread,
 * with and without Δ/ΔΔ channels, and batch-1 inference on the JavaScript micro-kernel: one line, so
 * two checkouts can be timed in alternation on the same machine (an A/B that outlasts its drift):
 *
 *   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   cp experiments/model-timing.ts experiments/median-time.ts /tmp/before/experiments/
 *   for r in 1 2 3; do npx tsx experiments/model-timing.ts; (cd /tmp/before && npx tsx experiments/model-timing.ts); done
 */
import { manualSeed, noGrad, ops, optim, randn, setSimd } from '../src/index.js';
import { EmotionCNN } from '../src/ser/model.js';
import { medianMs } from './median-time.js';

const median = (f: () => void, n: number) => medianMs(f, n, Math.min(20, n));
manualSeed(0);
const out: string[] = [];
for (const deltas of [0, 2]) {
  const m = new EmotionCNN({ deltas });
  m.eval();
  const x1 = randn([1, 1, 40, 174]);
  const x32 = randn([32, 1, 40, 174]);
  out.push(`Δ${deltas} batch 1 ${median(() => noGrad(() => m.forward(x1)).toArray(), 400).toFixed(2)} ms`);
  out.push(`batch 32 ${median(() => noGrad(() => m.forward(x32)).toArray(), 30).toFixed(1)} ms`);
  m.train();
  const opt = new optim.Adam(m.parameters(), { lr: 5e-4 });
  const y = Array.from({ length: 32 }, (_, i) => i % 8);
  out.push(`train ${median(() => { opt.zeroGrad(); const l = ops.crossEntropy(m.forward(x32), y); l.backward(); opt.step(); l.item(); }, 10).toFixed(0)} ms`);
}
setSimd(false);
{
  const m = new EmotionCNN();
  m.eval();
  const x1 = randn([1, 1, 40, 174]);
  out.push(`JavaScript kernel batch 1 ${median(() => noGrad(() => m.forward(x1)).toArray(), 100).toFixed(2)} ms`);
}
console.log(out.join(' | '));
