/**
 * Benchmarks (tinybench). `npm run bench` runs everything; `npm run bench -- --quick` fewer
 * iterations. Prints a table and writes bench/results/latest.json with the machine, Node version,
 * backend and thread count, so the README table (scripts/readme-bench.ts) is regenerated from it,
 * never typed in. When /usr/bin/python3 has torch, the same model is timed in PyTorch in the same
 * run (bench/pytorch_reference.py) for the ratio.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Bench } from 'tinybench';
import { audio, getBackend, manualSeed, nn, noGrad, optim, randn } from '../src/index.js';
import { disableThreads, enableThreads } from '../src/node.js';
import { EmotionCNN } from '../src/ser/model.js';

const quick = process.argv.includes('--quick');
const time = quick ? 1000 : 3000;
const iterations = quick ? 5 : 20;

interface Row {
  name: string;
  threads: number;
  medianMs: number;
  /** median absolute deviation */
  madMs: number;
  minMs: number;
  samples: number;
  perSecond?: number;
}

async function modelBench(threads: number): Promise<Row[]> {
  await disableThreads();
  if (threads > 1) enableThreads(threads);
  manualSeed(0);
  const model = new EmotionCNN();
  const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
  const x32 = randn([32, 1, 40, 174]);
  const y32 = Array.from({ length: 32 }, (_, i) => i % 8);
  const x1 = randn([1, 1, 40, 174]);
  const bench = new Bench({ time, iterations, warmupIterations: 3, warmupTime: 500 });
  bench.add(`train step, batch 32`, () => {
    model.train();
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x32), y32).backward();
    opt.step();
  });
  bench.add(`inference, batch 1`, () => {
    model.eval();
    noGrad(() => model.forward(x1));
  });
  await bench.run();
  return bench.tasks.map((t) => {
    const r = t.result as unknown as { latency: { p50: number; mad: number; min: number; samplesCount: number } };
    const lat = r.latency;
    const row: Row = { name: t.name, threads, medianMs: lat.p50, madMs: lat.mad, minMs: lat.min, samples: lat.samplesCount };
    if (t.name.startsWith('train')) row.perSecond = 32_000 / lat.p50;
    return row;
  });
}

/** The audio front end on the bundled 48 kHz RAVDESS clip (the tests' fixture). */
async function audioBench(): Promise<Row[]> {
  const wav = readFileSync('test/fixtures/audio/clip48k.wav');
  const decoded = audio.decodeWav(wav);
  const seconds = decoded.channels[0]!.length / decoded.sampleRate;
  const mono = audio.toMono(decoded.channels);
  const y = audio.resample(mono, decoded.sampleRate, 22050);
  const bench = new Bench({ time, warmupIterations: 5, warmupTime: 300 });
  const tag = `${seconds.toFixed(1)} s clip`;
  bench.add(`decodeWav, ${tag} 48 kHz`, () => audio.decodeWav(wav));
  bench.add(`resample 48 kHz → 22050 Hz, ${tag}`, () => audio.resample(mono, decoded.sampleRate, 22050));
  bench.add(`MFCC 40×T, ${tag}`, () => audio.mfccArray(y));
  bench.add(`decode + resample + MFCC, ${tag}`, () => audio.mfccArray(audio.load(wav)));
  await bench.run();
  return bench.tasks.map((t) => {
    const lat = (t.result as unknown as { latency: { p50: number; mad: number; min: number; samplesCount: number } }).latency;
    return { name: t.name, threads: 1, medianMs: lat.p50, madMs: lat.mad, minMs: lat.min, samples: lat.samplesCount };
  });
}

function pytorch(threads: number, iters = 20): Record<string, number> | null {
  try {
    const out = execFileSync('/usr/bin/python3', ['bench/pytorch_reference.py', String(threads), String(iters)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
  } catch {
    return null;
  }
}

/**
 * This machine's speed drifts between runs (PyTorch alone measured 141–227 samples/s back to
 * back), so the ratio to PyTorch is taken from interleaved rounds: PyTorch, then ours, five times,
 * each round's ratio from neighbouring measurements; the median and range are reported.
 */
async function interleaved(rounds: number): Promise<{ ratios: number[]; torch: number[]; ours: number[] } | null> {
  if (!pytorch(2, 2)) return null;
  enableThreads(2);
  manualSeed(0);
  const model = new EmotionCNN();
  const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
  const x = randn([32, 1, 40, 174]);
  const y = Array.from({ length: 32 }, (_, i) => i % 8);
  const step = () => {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 3; i++) step();
  const torch: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < rounds; r++) {
    torch.push(pytorch(2, 10)!.train_samples_per_s!);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    ours.push(32_000 / times[3]!);
  }
  await disableThreads();
  return { ratios: ours.map((o, i) => o / torch[i]!), torch, ours };
}

const rows: Row[] = [];
for (const threads of [1, 2]) rows.push(...(await modelBench(threads)));
await disableThreads();
rows.push(...(await audioBench()));
const torch = quick ? null : pytorch(2);
const versus = quick ? null : await interleaved(5);
if (versus) {
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  console.log(`interleaved train throughput, 2 threads: ours ${versus.ours.map((v) => v.toFixed(1)).join(', ')} samples/s; ` +
    `PyTorch ${versus.torch.map((v) => v.toFixed(1)).join(', ')}; ratio median ${med(versus.ratios).toFixed(2)}× ` +
    `(range ${Math.min(...versus.ratios).toFixed(2)}–${Math.max(...versus.ratios).toFixed(2)})`);
}

console.table(rows.map((r) => ({
  benchmark: r.name, threads: r.threads, 'median ms': r.medianMs.toFixed(2), '± MAD': r.madMs.toFixed(2), 'min ms': r.minMs.toFixed(2),
  'samples/s': r.perSecond?.toFixed(1) ?? '', iterations: r.samples,
})));
if (torch) console.log(`PyTorch ${torch.torch} (${torch.threads} threads): train ${torch.train_samples_per_s!.toFixed(1)} samples/s, inference ${torch.infer_b1_ms!.toFixed(2)} ms`);

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  backend: getBackend(),
  quick,
  rows,
  pytorch: torch,
  versusPytorch: versus,
};
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${quick ? 'quick' : 'latest'}.json`;
writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
