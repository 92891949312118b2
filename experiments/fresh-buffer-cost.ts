/**
 * What a fresh SharedArrayBuffer per kernel output costs: the max-pool backward pass at the
 * EmotionCNN's first block, batch 32, written into a freshly allocated shared buffer each call
 * (what `alloc` does while threads are on) or into one reused buffer, on two lanes and on one.
 * Prints the per-call times of 15 calls for each case (the first includes warm-up).
 *   npx tsx scripts/fresh-buffer-cost.ts
 */
import { enableThreads } from '../src/node.js';
import { alloc, allocInt32, runLanes } from '../src/tensor/cpu/parallel.js';
import { maxPool2dBackwardLane } from '../src/tensor/cpu/pool.js';

enableThreads(2);
const g = { batch: 32, channels: 16, inH: 40, inW: 174, kH: 2, kW: 2, strideH: 2, strideW: 2, outH: 20, outW: 87 };
const inSize = g.batch * g.channels * g.inH * g.inW;
const outPlane = g.outH * g.outW;
const gy = alloc(inSize / 4).fill(1);
const argmax = allocInt32(inSize / 4);
// each pooled cell points at the top-left input of its 2×2 window
for (let o = 0; o < argmax.length; o++) {
  const plane = Math.floor(o / outPlane);
  const r = o % outPlane;
  argmax[o] = plane * g.inH * g.inW + 2 * Math.floor(r / g.outW) * g.inW + 2 * (r % g.outW);
}
for (const [mode, lanes] of [['fresh', 2], ['reused', 2], ['fresh', 1], ['reused', 1]] as const) {
  const kept = alloc(inSize);
  const times: string[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    const dx = mode === 'fresh' ? alloc(inSize) : kept.fill(0);
    runLanes('maxPool2dBackward', maxPool2dBackwardLane, [gy, argmax, dx, g], lanes);
    times.push((performance.now() - t0).toFixed(1));
  }
  console.log(`${mode} buffer, ${lanes} lane${lanes > 1 ? 's' : ''}: ${times.join(' ')} ms`);
}
process.exit(0);
