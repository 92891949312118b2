/**
 * What distillation adds per training batch: one teacher's eval-mode forward pass against the
 * student's training step (forward and backward), batch 32, the best recipe's model (Δ/ΔΔ input
 * channels), one thread, as `ser train --threads 1` runs. Weights are random: timing does not
 * depend on their values.
 *   npx tsx scripts/distill-cost.ts
 */
import { manualSeed, noGrad, ops, ser, tensor } from '../src/index.js';
import { enableThreads } from '../src/node.js';

enableThreads(1);
manualSeed(1);
const teacher = new ser.EmotionCNN({ deltas: 2 }).eval();
const student = new ser.EmotionCNN({ deltas: 2 }).train();
const x = tensor(new Float32Array(32 * 40 * 174).map((_, i) => Math.sin(i)), [32, 1, 40, 174]);
const labels = [...Array(32).keys()].map((i) => i % 8);

function median(f: () => void, runs = 7): number {
  f(); // warm-up
  const t = Array.from({ length: runs }, () => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  return t[runs >> 1]!;
}
const forward = median(() => noGrad(() => teacher.forward(x)).toArray());
const step = median(() => {
  student.zeroGrad();
  ops.crossEntropy(student.forward(x), labels).backward();
});
console.log(JSON.stringify({ teacherForwardMs: +forward.toFixed(0), trainStepMs: +step.toFixed(0), ratio: +(forward / step).toFixed(2) }));
