/**
 * Writes the benchmark tables of docs/speed.md and the speed summary of README.md from
 * bench/results/latest.json (written by `npm run bench`), so no figure there is typed by hand:
 *
 *   npx tsx scripts/readme-bench.ts           # rewrites the generated parts of both
 *   npx tsx scripts/readme-bench.ts --check   # exits 1 if either is not up to date
 *   npx tsx scripts/readme-bench.ts --print [results.json]   # prints them instead
 */
import { readFileSync } from 'node:fs';
import type { Row } from '../bench/run.js';
import { writeFileAtomic } from '../src/node.js';

const file = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'bench/results/latest.json';
const r = JSON.parse(readFileSync(file, 'utf8')) as {
  date: string; machine: { cpu: string; cores: number }; node: string; quick: boolean;
  backends: { cpu: string; gpu: string; tfjs: Record<string, string> }; rows: Row[];
  pytorch: { torch: string; threads: number; train_samples_per_s: number; infer_b1_ms: number } | null;
  versusPytorch: { ratios: number[]; torch: number[]; ours: number[] } | null;
  versusOnnxruntime?: { batch: number; deltas?: boolean; paired?: boolean; oursMs: number; ortMs: number; speedup: number }[];
  webgl?: { chromium?: string; renderer?: string; error?: string; perPass?: Record<'inference' | 'trainStep', { launches: number; uploads: number; readbacks: number }> } | null;
};
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const engineName = (x: Row) => (x.engine.startsWith('ours cpu') || x.engine.startsWith('onnxruntime') ? `${x.engine}, ${x.threads} thread${x.threads > 1 ? 's' : ''}` : x.engine);

const lines = [
  `Measured ${r.date.slice(0, 10)} with \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.node}; ` +
    `gpu backend: ${r.backends.gpu}; TF.js: ${Object.entries(r.backends.tfjs).map(([k, v]) => `${k} = ${v}`).join(', ')}.`,
  '',
  '| EmotionCNN | engine | median | samples/s |',
  '| --- | --- | ---: | ---: |',
];
for (const x of r.rows.filter((x) => x.group === 'model')) {
  lines.push(`| ${x.name} | ${engineName(x)} | ${ms(x.medianMs)} ± ${ms(x.madMs)} ms | ${x.perSecond?.toFixed(1) ?? '–'} |`);
}
if (r.pytorch) {
  lines.push(`| train step, batch 32 | PyTorch ${r.pytorch.torch}, ${r.pytorch.threads} threads | ${ms(32_000 / r.pytorch.train_samples_per_s)} ms | ${r.pytorch.train_samples_per_s.toFixed(1)} |`);
  lines.push(`| inference, batch 1 | PyTorch ${r.pytorch.torch}, ${r.pytorch.threads} threads | ${ms(r.pytorch.infer_b1_ms)} ms | ${(1000 / r.pytorch.infer_b1_ms).toFixed(1)} |`);
}
if (!r.rows.some((x) => x.group === 'model' && x.engine === 'TF.js wasm' && x.name.startsWith('train'))) {
  lines.push('', 'TF.js\'s wasm backend has no conv2d backward kernel: it is an inference anchor only.');
}
if (r.versusOnnxruntime?.length) {
  const paired = r.versusOnnxruntime.every((v) => v.paired);
  lines.push('', `Against onnxruntime-web on the same WebAssembly (one thread each, the same model exported by \`ser export --onnx\`'s exporter${paired ? '; both timed in one process in alternating rounds on the same input (bench/ort.ts), so the ratio is not the drift between two moments of the run' : ''}): ${r.versusOnnxruntime.map((v) => `inference at batch ${v.batch}${v.deltas ? ' with Δ and ΔΔ (the bundled recipe\'s model)' : ''} takes ${ms(v.oursMs)} ms against ${ms(v.ortMs)} ms, **${v.speedup.toFixed(2)}×** its speed`).join('; ')}.`);
}
if (r.versusPytorch) {
  const v = r.versusPytorch;
  lines.push('', `Interleaved rounds (PyTorch, then ours, ${v.ratios.length} times; this machine's speed drifts between runs): ` +
    `training throughput on 2 threads is **${med(v.ratios).toFixed(2)}× PyTorch's** (median; range ${Math.min(...v.ratios).toFixed(2)}–${Math.max(...v.ratios).toFixed(2)}), ` +
    `with PyTorch at ${Math.min(...v.torch).toFixed(0)}–${Math.max(...v.torch).toFixed(0)} samples/s and ours at ${Math.min(...v.ours).toFixed(0)}–${Math.max(...v.ours).toFixed(0)}.`);
}

const webglRows = r.rows.filter((x) => x.group === 'webgl');
if (webglRows.length) {
  lines.push('', `On WebGL in ${r.webgl?.chromium ?? 'Chromium'}, renderer ${r.webgl?.renderer ?? 'unknown'} (bench/webgl.ts; a software renderer says how the kernels compare, not how fast a GPU is):`, '', '| EmotionCNN | engine | median | samples/s |', '| --- | --- | ---: | ---: |');
  for (const x of webglRows) lines.push(`| ${x.name} | ${x.engine} | ${ms(x.medianMs)} ms | ${x.perSecond?.toFixed(2) ?? '–'} |`);
  const p = r.webgl?.perPass;
  if (p) lines.push('', `Ours per pass (gpu.stats()): batch-1 inference ${p.inference.launches} kernel launches, ${p.inference.uploads} uploads, ${p.inference.readbacks} readback; batch-32 train step ${p.trainStep.launches} launches, ${p.trainStep.uploads} uploads, ${p.trainStep.readbacks} readback.`);
}

const scaling = r.rows.filter((x) => x.group === 'scaling');
if (scaling.length) {
  lines.push('', '| batch | inference, ms per sample | train step, ms per sample |', '| ---: | ---: | ---: |');
  for (const b of [...new Set(scaling.map((x) => x.batch!))]) {
    const inf = scaling.find((x) => x.batch === b && x.name.startsWith('inference'));
    const tr = scaling.find((x) => x.batch === b && x.name.startsWith('train'));
    lines.push(`| ${b} | ${inf ? ms(inf.medianMs / b) : '–'} | ${tr ? ms(tr.medianMs / b) : '–'} |`);
  }
  lines.push('', `(ours cpu, ${scaling[0]!.threads} threads)`);
}

const kernels = r.rows.filter((x) => x.group === 'kernel');
const engines = [...new Set(kernels.map(engineName))];
const kname = (x: Row) => x.name.replace(/, batch \d+$/, '').replace(/^(conv\d) \S+ \S+ (forward|backward \w+)$/, '$1 $2');
const names = [...new Set(kernels.map((x) => `${kname(x)}|${x.batch}`))];
lines.push('', `| kernel (batch) | ${engines.join(' | ')} |`, `| --- | ${engines.map(() => '---:').join(' | ')} |`);
for (const key of names) {
  const [name, batch] = key.split('|');
  const cells = engines.map((e) => {
    const x = kernels.find((k) => engineName(k) === e && kname(k) === name && String(k.batch) === batch);
    return x ? `${ms(x.medianMs)} ms${x.gflops ? ` (${x.gflops.toFixed(1)} GFLOP/s)` : ''}` : '–';
  });
  lines.push(`| ${name} (${batch}) | ${cells.join(' | ')} |`);
}

const audioRows = r.rows.filter((x) => x.group === 'audio');
const audioEngines = [...new Set(audioRows.map((x) => x.engine))];
lines.push('', `| audio front end | ${audioEngines.join(' | ')} |`, `| --- |${audioEngines.map(() => ' ---: |').join('')}`);
for (const name of [...new Set(audioRows.map((x) => x.name))]) {
  const cells = audioEngines.map((e) => {
    const x = audioRows.find((a) => a.name === name && a.engine === e);
    return x ? `${ms(x.medianMs)} ± ${ms(x.madMs)} ms` : '–';
  });
  lines.push(`| ${name} | ${cells.join(' | ')} |`);
}

// the README's summary: one paragraph of the figures the speed issue sets targets on
const model = (engine: string, threads: number, name: string) => r.rows.find((x) => x.group === 'model' && x.engine === engine && x.threads === threads && x.name === name);
const versus = (batch: number, deltas: boolean) => r.versusOnnxruntime?.find((v) => v.batch === batch && Boolean(v.deltas) === deltas);
const audioPath = audioRows.find((x) => x.engine === 'ours' && x.name.startsWith('decode + resample + MFCC'));
const tfjsWasm = model('TF.js wasm', 1, 'inference, batch 1');
const summary: string[] = [];
const b1 = versus(1, false);
const b32 = versus(32, false);
const d1 = versus(1, true);
if (b1) {
  summary.push(`From the run recorded there (${r.date.slice(0, 10)}, ${r.machine.cpu}, ${r.machine.cores} cores): inference at batch 1 takes ${ms(b1.oursMs)} ms on one thread, **${b1.speedup.toFixed(2)}× onnxruntime-web's speed** on the same model and the same WebAssembly (${ms(b1.ortMs)} ms` +
    `${tfjsWasm ? `; TF.js wasm ${ms(tfjsWasm.medianMs)} ms` : ''}${r.pytorch ? `, PyTorch ${ms(r.pytorch.infer_b1_ms)} ms on ${r.pytorch.threads} threads` : ''})` +
    `${model('ours cpu', 2, 'inference, batch 1') ? `, ${ms(model('ours cpu', 2, 'inference, batch 1')!.medianMs)} ms on two threads` : ''}` +
    `${model('ours cpu, relaxed SIMD', 1, 'inference, batch 1') ? `, ${ms(model('ours cpu, relaxed SIMD', 1, 'inference, batch 1')!.medianMs)} ms with relaxed SIMD` : ''}` +
    `${b32 ? `; at batch 32, **${b32.speedup.toFixed(2)}×** its speed (${ms(b32.oursMs)} against ${ms(b32.ortMs)} ms)` : ''}` +
    `${d1 ? `; the bundled recipe's model (Δ/ΔΔ channels) at batch 1 ${ms(d1.oursMs)} ms, **${d1.speedup.toFixed(2)}×** onnxruntime-web's (${ms(d1.ortMs)} ms)` : ''}.`);
}
if (r.versusPytorch) summary.push(`A batch-32 training step on two threads runs at **${med(r.versusPytorch.ratios).toFixed(2)}× PyTorch's samples/s** (the bench's interleaved rounds, median).`);
if (audioPath) summary.push(`Decode + resample + MFCC of a 3.7 s clip takes ${ms(audioPath.medianMs)} ms.`);
// the GPU backend against TF.js's WebGL backend on the same renderer (a software one here)
const gl = (engine: RegExp, name: string) => webglRows.find((x) => engine.test(x.engine) && x.name === name);
const glPairs = ['inference, batch 1', 'inference, batch 32', 'train step, batch 32']
  .map((name) => ({ name, ours: gl(/^ours/, name), tfjs: gl(/^TF\.js webgl/, name) }))
  .filter((p) => p.ours && p.tfjs);
if (glPairs.length) {
  summary.push(`On WebGL2 (${/SwiftShader/.test(r.webgl?.renderer ?? '') ? 'SwiftShader, a software renderer' : r.webgl?.renderer}), the gpu.js backend against TF.js's WebGL backend in the same page: ` +
    glPairs.map((p) => `${p.name} ${ms(p.ours!.medianMs)} against ${ms(p.tfjs!.medianMs)} ms (**${(p.tfjs!.medianMs / p.ours!.medianMs).toFixed(2)}×** its speed)`).join(', ') + '.');
}

const TABLES = ['<!-- generated by scripts/readme-bench.ts from bench/results/latest.json -->', '<!-- end of generated benchmark tables -->'] as const;
const SUMMARY = ['<!-- generated by scripts/readme-bench.ts: speed summary -->', '<!-- end of generated speed summary -->'] as const;
const spliced = (path: string, [begin, end]: readonly [string, string], body: string) => {
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path}: the markers ${begin} … ${end} are missing`);
  return text.slice(0, a + begin.length) + '\n' + body + '\n' + text.slice(b);
};
if (process.argv.includes('--print')) {
  console.log(lines.join('\n') + '\n\n' + summary.join(' '));
} else {
  const targets: [string, string][] = [
    ['docs/speed.md', spliced('docs/speed.md', TABLES, lines.join('\n'))],
    ['README.md', spliced('README.md', SUMMARY, summary.join(' '))],
  ];
  if (process.argv.includes('--check')) {
    const stale = targets.filter(([path, next]) => readFileSync(path, 'utf8') !== next).map(([path]) => path);
    if (stale.length) {
      console.error(`${stale.join(' and ')}: not up to date with ${file}; run npx tsx scripts/readme-bench.ts`);
      process.exit(1);
    }
    console.log(`docs/speed.md and README.md are up to date with ${file}`);
  } else {
    for (const [path, next] of targets) writeFileAtomic(path, next);
    console.log(`docs/speed.md and README.md rewritten from ${file}`);
  }
}
