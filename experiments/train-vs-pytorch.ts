/**
 * Our batch-32 train step against PyTorch's (bench/pytorch_reference.py, needs /usr/bin/python3
 * with torch) at 1 and 2 threads, interleaved: each round times PyTorch, then ours, at each
 * thread count, so the ratios come from neighbouring measurements on a machine whose speed
 * drifts. Prints samples/s per round and the median ratio.  `npx tsx experiments/train-vs-pytorch.ts [rounds]`
 */
import { execFileSync } from 'node:child_process';
import { manualSeed, nn, optim, randn } from '../src/index.js';
import { disableThreads, enableThreads } from '../src/node.js';
import { EmotionCNN } from '../src/ser/model.js';

const rounds = Number(process.argv[2] ?? 5);
const torchStep = (threads: number) => {
  const out = execFileSync('/usr/bin/python3', ['bench/pytorch_reference.py', String(threads), '10'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out.trim().split('\n').pop()!) as { train_samples_per_s: number; torch: string }).train_samples_per_s;
};
const ourStep = (threads: number) => {
  if (threads > 1) enableThreads(threads);
  manualSeed(0);
  const model = new EmotionCNN();
  model.train();
  const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
  const x = randn([32, 1, 40, 174]);
  const y = Array.from({ length: 32 }, (_, i) => i % 8);
  const step = () => {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  return 32_000 / times.sort((a, b) => a - b)[3]!;
};
const ratios: Record<number, number[]> = { 1: [], 2: [] };
for (let r = 0; r < rounds; r++) {
  for (const threads of [1, 2]) {
    const theirs = torchStep(threads);
    const ours = ourStep(threads);
    await disableThreads();
    ratios[threads]!.push(ours / theirs);
    console.log(`round ${r + 1}, ${threads} thread${threads > 1 ? 's' : ''}: PyTorch ${theirs.toFixed(0)} samples/s, ours ${ours.toFixed(0)}: ${(ours / theirs).toFixed(2)}×`);
  }
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
for (const t of [1, 2]) console.log(`${t} thread${t > 1 ? 's' : ''}: median ${median(ratios[t]!).toFixed(2)}× PyTorch (range ${Math.min(...ratios[t]!).toFixed(2)}–${Math.max(...ratios[t]!).toFixed(2)})`);
