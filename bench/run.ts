/**
 * Benchmarks (tinybench). `npm run bench` runs everything; `npm run bench -- --quick` fewer
 * iterations and no TF.js training (under two minutes). Prints tables and writes
 * bench/results/latest.json (quick.json with --quick) with the machine, Node version, backends and
 * modes, so the README tables (scripts/readme-bench.ts) are regenerated from it, never typed in.
 *
 * Side by side in one process: our CPU backend (1 and 2 threads; and with the scalar JavaScript
 * micro-kernel instead of the SIMD one), our gpu.js backend in the mode
 * gpu.js has here, onnxruntime-web's WebAssembly backend on our ONNX export of the same model
 * (bench/ort.ts, 1 and 2 threads, with the ratio to ours), ours with relaxed SIMD (bench/relaxed.ts,
 * a child process with the V8 flag Node 20 needs), and TensorFlow.js (pure-JS `cpu`; `wasm` for inference only: it has no conv2d
 * backward). When /usr/bin/python3 has torch, PyTorch times the same model in the same run
 * (bench/pytorch_reference.py) for the ratio.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Bench } from 'tinybench';
import { audio, manualSeed, nn, noGrad, optim, randn, setBackend, setSimd, simdAvailable } from '../src/index.js';
import { disableThreads, enableThreads } from '../src/node.js';
import { backendByName } from '../src/tensor/backend.js';
import { gpuModes, useGpu } from '../src/gpu.js';
import { EmotionCNN } from '../src/ser/model.js';
import { kernelCases } from './kernels.js';
import { buildTfjsModel, loadTfjs, useTfjsBackend } from './tfjs.js';

const quick = process.argv.includes('--quick');
const time = quick ? 300 : 1500;
const iterations = quick ? 3 : 10;

export interface Row {
  group: 'model' | 'scaling' | 'kernel' | 'audio' | 'webgl';
  name: string;
  /** Who ran it: "ours cpu", "ours gpu (webasm)", "TF.js cpu", … */
  engine: string;
  threads: number;
  batch?: number;
  medianMs: number;
  /** median absolute deviation */
  madMs: number;
  minMs: number;
  samples: number;
  /** Samples per second (model rows). */
  perSecond?: number;
  gflops?: number;
}

type Latency = { p50: number; mad: number; min: number; samplesCount: number };

/** Times each task; slow ones (seconds a call) get one warm-up and `slow` timed calls (3 if true; 1 with --quick). */
async function measure(tasks: { name: string; fn: () => void; slow?: boolean | number }[], row: (name: string, lat: Latency) => Row): Promise<Row[]> {
  const out: Row[] = [];
  for (const t of tasks) {
    const bench = t.slow
      ? new Bench({ time: 0, iterations: quick ? 1 : t.slow === true ? 3 : t.slow, warmupIterations: 1, warmupTime: 0 })
      : new Bench({ time, iterations, warmupIterations: 3, warmupTime: quick ? 100 : 300 });
    bench.add(t.name, t.fn);
    await bench.run();
    const lat = (bench.tasks[0]!.result as unknown as { latency: Latency }).latency;
    const r = row(t.name, lat);
    out.push(r);
    console.log(`  ${r.engine.padEnd(22)} ${r.name.padEnd(44)} ${r.medianMs.toFixed(2).padStart(9)} ms${r.gflops ? `  ${r.gflops.toFixed(2)} GFLOP/s` : ''}`);
  }
  return out;
}

const rowOf = (group: Row['group'], engine: string, threads: number, extra: (name: string, lat: Latency) => Partial<Row> = () => ({})) =>
  (name: string, lat: Latency): Row => ({
    group, name, engine, threads, medianMs: lat.p50, madMs: lat.mad, minMs: lat.min, samples: lat.samplesCount, ...extra(name, lat),
  });

/** The EmotionCNN's train step and batch-1 inference on our current backend (`deltas`: Δ/ΔΔ input channels). */
function ourModel(deltas = 0) {
  manualSeed(0);
  const model = new EmotionCNN({ deltas });
  const opt = new optim.Adam(model.parameters(), { lr: 5e-4 });
  const inputs = new Map<number, { x: ReturnType<typeof randn>; y: number[] }>();
  const input = (batch: number) => {
    let v = inputs.get(batch);
    if (!v) inputs.set(batch, (v = { x: randn([batch, 1, 40, 174]), y: Array.from({ length: batch }, (_, i) => i % 8) }));
    return v;
  };
  return {
    trainStep: (batch: number) => {
      const { x, y } = input(batch);
      model.train();
      opt.zeroGrad();
      nn.functional.crossEntropy(model.forward(x), y).backward();
      opt.step();
    },
    infer: (batch: number) => {
      const { x } = input(batch);
      model.eval();
      noGrad(() => model.forward(x)).toArray();
    },
  };
}

const modelRow = (engine: string, threads: number) => rowOf('model', engine, threads, (name, lat) => {
  const batch = Number(/batch (\d+)/.exec(name)![1]);
  return { batch, perSecond: (1000 * batch) / lat.p50 };
});

const rows: Row[] = [];
const JS_KERNELS = 'ours cpu, JavaScript micro-kernel';
if (!simdAvailable()) throw new Error('bench: this Node has no WebAssembly SIMD; the CPU rows assume it');
const gpuMode = gpuModes()[0]!;
const gpuEngine = `ours gpu.js (${gpuMode})`;

console.log('EmotionCNN: train step (batch 32) and inference (batch 1 and 32)');
for (const threads of [1, 2]) {
  await disableThreads();
  if (threads > 1) enableThreads(threads);
  const m = ourModel();
  // inference first, as a process that loads weights and predicts runs it
  rows.push(...(await measure([
    { name: 'inference, batch 1', fn: () => m.infer(1) },
    { name: 'inference, batch 32', fn: () => m.infer(32) },
    { name: 'train step, batch 32', fn: () => m.trainStep(32) },
  ], modelRow('ours cpu', threads))));
  if (threads === 1) {
    // what --deltas 2 costs: the delta filter twice and a conv1 over three channels
    const d = ourModel(2);
    rows.push(...(await measure([
      { name: 'inference, batch 1, with Δ and ΔΔ', fn: () => d.infer(1) },
      { name: 'train step, batch 32, with Δ and ΔΔ', fn: () => d.trainStep(32) },
    ], modelRow('ours cpu', threads))));
  }
}
// the same on the scalar JavaScript micro-kernel, to show what the SIMD one buys
setSimd(false);
{
  enableThreads(2);
  const m = ourModel();
  rows.push(...(await measure([
    { name: 'inference, batch 1', fn: () => m.infer(1) },
    { name: 'train step, batch 32', fn: () => m.trainStep(32) },
  ], modelRow(JS_KERNELS, 2))));
}
setSimd(true);
await disableThreads();
useGpu({ mode: gpuMode });
{
  const m = ourModel();
  // about 10 s a step in WebAssembly mode: timed only in full runs
  rows.push(...(await measure([
    ...(quick ? [] : [{ name: 'train step, batch 32', fn: () => m.trainStep(32), slow: true }]),
    { name: 'inference, batch 1', fn: () => m.infer(1) },
  ], modelRow(gpuEngine, 1))));
}
setBackend('cpu');

// onnxruntime-web on the same model (our ONNX export of the same seeded weights), in its own
// process per thread count (it fixes its threads when it loads): bench/ort.ts
const ortInfo: Record<string, string> = {};
/** Our times from the one-thread child's rounds in alternation with onnxruntime-web, by row name. */
const pairedOurs = new Map<string, { medianMs: number; minMs: number; samples: number }>();
for (const threads of [1, 2]) {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/ort.ts', '--threads', String(threads), ...(quick ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    type Times = { medianMs: number; minMs: number; samples: number };
    const o = JSON.parse(out.trim().split('\n').pop()!) as { version: string; rows: ({ name: string; batch: number; ours?: Times } & Times)[] };
    ortInfo.version = o.version;
    for (const x of o.rows) {
      if (x.ours) pairedOurs.set(x.name, x.ours);
      const row: Row = { group: 'model', name: x.name, engine: 'onnxruntime-web (wasm)', threads, medianMs: x.medianMs, madMs: 0, minMs: x.minMs, samples: x.samples, batch: x.batch, perSecond: (1000 * x.batch) / x.medianMs };
      rows.push(row);
      console.log(`  ${`onnxruntime-web, ${threads} thr`.padEnd(22)} ${row.name.padEnd(44)} ${row.medianMs.toFixed(2).padStart(9)} ms`);
    }
  } catch (e) {
    ortInfo.error = (e as Error).message.split('\n')[0]!;
  }
}
// ours with relaxed SIMD's multiply-add (the browsers' default), in a child with the V8 flag
try {
  const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', 'bench/relaxed.ts', ...(quick ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const o = JSON.parse(out.trim().split('\n').pop()!) as { rows: { name: string; batch: number; medianMs: number; minMs: number; samples: number }[] };
  for (const x of o.rows) {
    const row: Row = { group: 'model', name: x.name, engine: 'ours cpu, relaxed SIMD', threads: 1, medianMs: x.medianMs, madMs: 0, minMs: x.minMs, samples: x.samples, batch: x.batch, perSecond: (1000 * x.batch) / x.medianMs };
    rows.push(row);
    console.log(`  ${'ours cpu, relaxed SIMD'.padEnd(22)} ${row.name.padEnd(44)} ${row.medianMs.toFixed(2).padStart(9)} ms`);
  }
} catch (e) {
  console.log(`  ours cpu, relaxed SIMD: not run (${(e as Error).message.split('\n')[0]})`);
}
// ours against onnxruntime-web, one thread each: the figure the speed issue sets targets on, from
// the rounds in which bench/ort.ts timed the two in alternation (`paired`), else from the rows
const versusOrt = ([[1, false], [32, false], [1, true]] as const).map(([batch, deltas]) => {
  const name = `inference, batch ${batch}${deltas ? ', with Δ and ΔΔ' : ''}`;
  const find = (engine: string) => rows.find((x) => x.group === 'model' && x.engine === engine && x.threads === 1 && x.name === name);
  const ours = pairedOurs.get(name) ?? find('ours cpu');
  const theirs = find('onnxruntime-web (wasm)');
  return ours && theirs ? { batch, deltas, paired: pairedOurs.has(name), oursMs: ours.medianMs, ortMs: theirs.medianMs, speedup: theirs.medianMs / ours.medianMs } : null;
}).filter((v) => v !== null);
for (const v of versusOrt) console.log(`  inference, batch ${v.batch}${v.deltas ? ' with Δ and ΔΔ' : ''}, 1 thread${v.paired ? ', in alternation' : ''}: ours ${v.oursMs.toFixed(2)} ms, onnxruntime-web ${v.ortMs.toFixed(2)} ms: ours is ${v.speedup.toFixed(2)}× its speed`);

// on WebGL in Chromium: ours (gpu.js webgl2) against TF.js's webgl backend on the same renderer
// (bench/webgl.ts; SwiftShader without a GPU); full runs only, it takes minutes there
type PassCounts = { launches: number; uploads: number; readbacks: number };
let webgl: { chromium?: string; renderer?: string; error?: string; perPass?: { inference: PassCounts; trainStep: PassCounts } } | null = null;
if (!quick) {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/webgl.ts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const o = JSON.parse(out.trim().split('\n').pop()!) as {
      chromium?: string; renderer?: string; error?: string; rows?: { engine: string; name: string; batch: number; medianMs: number; minMs: number; samples: number }[];
      oursStats?: { perPass?: { inference: PassCounts; trainStep: PassCounts } };
    };
    webgl = { chromium: o.chromium, renderer: o.renderer, error: o.error, perPass: o.oursStats?.perPass };
    for (const x of o.rows ?? []) {
      rows.push({ group: 'webgl', name: x.name, engine: x.engine, threads: 1, medianMs: x.medianMs, madMs: 0, minMs: x.minMs, samples: x.samples, batch: x.batch, perSecond: (1000 * x.batch) / x.medianMs });
      console.log(`  ${x.engine.padEnd(22)} ${x.name.padEnd(44)} ${x.medianMs.toFixed(1).padStart(9)} ms (WebGL, ${o.renderer})`);
    }
  } catch (e) {
    webgl = { error: (e as Error).message.split('\n')[0]! };
  }
}

const tf = await loadTfjs();
const tfjsInfo: Record<string, string> = {};
if (tf) {
  for (const backend of ['cpu', 'wasm'] as const) {
    if (!(await useTfjsBackend(tf, backend))) {
      tfjsInfo[backend] = 'unavailable';
      continue;
    }
    tfjsInfo[backend] = `${tf.version.tfjs} ${tf.getBackend()}`;
    const m = buildTfjsModel(tf);
    const tasks = [{ name: 'inference, batch 1', fn: () => m.infer(1) }];
    // TF.js's pure-JS conv2d backward is slow (tens of seconds per batch of 32): timed only in full runs
    if (m.trainStep && !quick) tasks.unshift({ name: 'train step, batch 32', fn: () => m.trainStep!(32), slow: 1 } as never);
    rows.push(...(await measure(tasks, modelRow(`TF.js ${backend}`, 1))));
    m.dispose();
  }
}

console.log('\nScaling: time per sample against batch size (ours cpu, 2 threads)');
enableThreads(2);
{
  const m = ourModel();
  const batches = [1, 8, 32, 128];
  rows.push(...(await measure([
    ...batches.map((b) => ({ name: `inference, batch ${b}`, fn: () => m.infer(b) })),
    ...batches.map((b) => ({ name: `train step, batch ${b}`, fn: () => m.trainStep(b), slow: b === 128 })),
  ], rowOf('scaling', 'ours cpu', 2, (name, lat) => {
    const batch = Number(name.split('batch ')[1]);
    return { batch, perSecond: (1000 * batch) / lat.p50 };
  }))));
}
await disableThreads();

console.log('\nKernels at the EmotionCNN shapes');
// --quick keeps the slow engines (emulated GPU, pure-JS TF.js) to batch 1
const kernelEngines: { engine: string; threads: number; backend: string; batches: number[]; setup: () => void | Promise<void> }[] = [
  ...(quick ? [] : [{ engine: 'ours cpu', threads: 1, backend: 'cpu', batches: [1, 32], setup: () => disableThreads() }]),
  { engine: 'ours cpu', threads: 2, backend: 'cpu', batches: [1, 32], setup: () => void enableThreads(2) },
  ...(quick ? [] : [{ engine: JS_KERNELS, threads: 1, backend: 'cpu', batches: [1], setup: async () => { await disableThreads(); setSimd(false); } }]),
  { engine: gpuEngine, threads: 1, backend: 'gpu', batches: quick ? [1] : [1, 32], setup: async () => { await disableThreads(); setSimd(true); } },
];
for (const e of kernelEngines) {
  await e.setup();
  const b = backendByName(e.backend);
  const cases = kernelCases(e.batches);
  const tasks = cases.map((c) => ({ name: `${c.name}, batch ${c.batch}`, fn: c.prepare(b), slow: e.backend === 'gpu' && c.batch === 32 && !!c.flops }));
  rows.push(...(await measure(tasks, rowOf('kernel', e.engine, e.threads, (name, lat) => {
    const c = cases.find((k) => `${k.name}, batch ${k.batch}` === name)!;
    return { batch: c.batch, ...(c.flops ? { gflops: c.flops / lat.p50 / 1e6 } : {}) };
  }))));
}
await disableThreads();
if (tf) {
  for (const backend of ['cpu', 'wasm'] as const) {
    if (tfjsInfo[backend] === 'unavailable' || !(await useTfjsBackend(tf, backend))) continue;
    const m = buildTfjsModel(tf);
    const tasks = (quick && backend === 'cpu' ? [1] : [1, 32]).flatMap((batch) => ([1, 2, 3] as const).map((layer) => ({
      name: `conv${layer} forward, batch ${batch}`, fn: () => m.conv(layer, batch), slow: backend === 'cpu' && batch === 32,
    })));
    const convFlops = { 1: 2 * 16 * 40 * 174 * 9, 2: 2 * 32 * 20 * 87 * 16 * 9, 3: 2 * 64 * 10 * 43 * 32 * 9 } as const;
    rows.push(...(await measure(tasks, rowOf('kernel', `TF.js ${backend}`, 1, (name, lat) => {
      const layer = Number(name[4]) as 1 | 2 | 3;
      const batch = Number(name.split('batch ')[1]);
      return { batch, gflops: (convFlops[layer] * batch) / lat.p50 / 1e6 };
    }))));
    m.dispose();
  }
}

console.log('\nAudio front end');
{
  const wav = readFileSync('examples/audio/03-01-04-02-01-01-02.wav'); // the issues' 3.7 s, 48 kHz clip
  const decoded = audio.decodeWav(wav);
  const seconds = decoded.channels[0]!.length / decoded.sampleRate;
  const mono = audio.toMono(decoded.channels);
  const y = audio.resample(mono, decoded.sampleRate, 22050);
  const tag = `${seconds.toFixed(1)} s clip`;
  const tasks = [
    { name: `decodeWav, ${tag} 48 kHz`, fn: () => audio.decodeWav(wav) },
    { name: `resample 48 kHz → 22050 Hz, ${tag}`, fn: () => audio.resample(mono, decoded.sampleRate, 22050) },
    { name: `MFCC 40×T, ${tag}`, fn: () => audio.mfccArray(y) },
    { name: `decode + resample + MFCC, ${tag}`, fn: () => audio.mfccArray(audio.load(wav)) },
  ];
  rows.push(...(await measure(tasks, rowOf('audio', 'ours', 1))));
  // the same path without WebAssembly SIMD: the JavaScript FFT, interpolator, mel sums and DCT
  if (simdAvailable()) {
    setSimd(false);
    rows.push(...(await measure(tasks, rowOf('audio', 'ours, JavaScript only', 1))));
    setSimd(true);
  }
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
  const m = ourModel();
  for (let i = 0; i < 3; i++) m.trainStep(32);
  const torch: number[] = [];
  const ours: number[] = [];
  for (let r = 0; r < rounds; r++) {
    torch.push(pytorch(2, 10)!.train_samples_per_s!);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      m.trainStep(32);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    ours.push(32_000 / times[3]!);
  }
  await disableThreads();
  return { ratios: ours.map((o, i) => o / torch[i]!), torch, ours };
}

const torch = quick ? null : pytorch(2);
const versus = quick ? null : await interleaved(5);
if (torch) console.log(`\nPyTorch ${torch.torch} (${torch.threads} threads): train ${torch.train_samples_per_s!.toFixed(1)} samples/s, inference ${torch.infer_b1_ms!.toFixed(2)} ms`);
if (versus) {
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  console.log(`interleaved train throughput, 2 threads: ours ${versus.ours.map((v) => v.toFixed(1)).join(', ')} samples/s; ` +
    `PyTorch ${versus.torch.map((v) => v.toFixed(1)).join(', ')}; ratio median ${med(versus.ratios).toFixed(2)}× ` +
    `(range ${Math.min(...versus.ratios).toFixed(2)}–${Math.max(...versus.ratios).toFixed(2)})`);
}

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  node: process.version,
  backends: { cpu: 'hand-written kernels on Float32Array, matrix products in WebAssembly SIMD', gpu: `gpu.js ${gpuMode} mode (available: ${gpuModes().join(', ')})`, tfjs: tfjsInfo, onnxruntime: ortInfo },
  quick,
  rows,
  versusOnnxruntime: versusOrt,
  webgl,
  pytorch: torch,
  versusPytorch: versus,
};
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/${quick ? 'quick' : 'latest'}.json`;
writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
process.exit(0); // TF.js's wasm backend keeps the event loop alive
