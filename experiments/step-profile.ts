/**
 * Where a batch-32 EmotionCNN train step (and a batch-1 / batch-32 inference) spends its time, per
 * backend method: every method of the current backend wrapped with a timer, medians of the
 * per-step totals. One thread unless `--threads N`; the Δ/ΔΔ model with `--deltas 2`; each call
 * of a method on its own row with `--calls`.
 *
 *   npx tsx experiments/step-profile.ts [--threads 2] [--deltas 2] [--calls]
 */
import { getBackend, manualSeed, nn, noGrad, optim, randn } from '../src/index.js';
import { backendByName } from '../src/tensor/backend.js';
import { disableThreads, enableThreads } from '../src/node.js';
import { EmotionCNN } from '../src/ser/model.js';

const ti = process.argv.indexOf('--threads');
const threads = ti > 0 ? Number(process.argv[ti + 1]) : 1;
const di = process.argv.indexOf('--deltas');
const deltas = di > 0 ? Number(process.argv[di + 1]) : 0;
// with --calls, each call of a method in a pass is its own row (conv2d#0, conv2d#1, …)
const perCall = process.argv.includes('--calls');
const calls = new Map<string, number>();
if (threads > 1) enableThreads(threads);
const be = backendByName(getBackend()) as unknown as Record<string, unknown>;
const spent = new Map<string, number>();
let depth = 0;
for (const k of Object.keys(be)) {
  const f = be[k];
  if (typeof f !== 'function') continue;
  be[k] = (...args: unknown[]) => {
    if (depth > 0) return (f as (...a: unknown[]) => unknown)(...args);
    depth++;
    const t0 = performance.now();
    try {
      return (f as (...a: unknown[]) => unknown)(...args);
    } finally {
      depth--;
      const n = calls.get(k) ?? 0;
      calls.set(k, n + 1);
      const key = perCall ? `${k}#${n}` : k;
      spent.set(key, (spent.get(key) ?? 0) + performance.now() - t0);
    }
  };
}
manualSeed(0);
const model = new EmotionCNN({ deltas });
const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
const x = randn([32, 1, 40, 174]);
const y = Array.from({ length: 32 }, (_, i) => i % 8);
function profile(name: string, fn: () => void, reps: number) {
  for (let i = 0; i < 3; i++) fn();
  const per: Map<string, number>[] = [];
  const totals: number[] = [];
  for (let r = 0; r < reps; r++) {
    spent.clear();
    calls.clear();
    const t0 = performance.now();
    fn();
    totals.push(performance.now() - t0);
    per.push(new Map(spent));
  }
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  const keys = [...new Set(per.flatMap((m) => [...m.keys()]))];
  const rows = keys.map((k) => [k, med(per.map((m) => m.get(k) ?? 0))] as const).sort((a, b) => b[1] - a[1]);
  const total = med(totals);
  const inKernels = rows.reduce((s, r) => s + r[1], 0);
  console.log(`${name}: ${total.toFixed(2)} ms (backend methods ${inKernels.toFixed(2)} ms, the rest ${(total - inKernels).toFixed(2)} ms)`);
  for (const [k, v] of rows) if (v >= 0.01 * total) console.log(`  ${k.padEnd(24)} ${v.toFixed(2).padStart(8)} ms  ${((100 * v) / total).toFixed(1).padStart(5)}%`);
}
model.train();
profile(`train step, batch 32, ${threads} thread(s)`, () => {
  opt.zeroGrad();
  nn.functional.crossEntropy(model.forward(x), y).backward();
  opt.step();
}, 9);
model.eval();
const x1 = randn([1, 1, 40, 174]);
profile('inference, batch 1', () => void noGrad(() => model.forward(x1)).toArray(), 200);
profile('inference, batch 32', () => void noGrad(() => model.forward(x)).toArray(), 20);
await disableThreads();
