/**
 * Prints the README's benchmark table from bench/results/latest.json (written by `npm run bench`),
 * so no figure in the README is typed by hand: `npx tsx scripts/readme-bench.ts`.
 */
import { readFileSync } from 'node:fs';

interface Row { name: string; threads: number; medianMs: number; madMs: number; perSecond?: number }
const r = JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as {
  date: string; machine: { cpu: string; cores: number }; node: string; backend: string; rows: Row[];
  pytorch: { torch: string; threads: number; train_samples_per_s: number; infer_b1_ms: number } | null;
  versusPytorch: { ratios: number[]; torch: number[]; ours: number[] } | null;
};
const lines = [
  `Measured ${r.date.slice(0, 10)} on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.node}, backend \`${r.backend}\`:`,
  '',
  '| EmotionCNN | threads | median | samples/s |',
  '| --- | ---: | ---: | ---: |',
];
for (const row of r.rows.filter((x) => x.name.startsWith('train') || x.name.startsWith('inference'))) {
  lines.push(`| ${row.name} | ${row.threads} | ${row.medianMs.toFixed(1)} ± ${row.madMs.toFixed(1)} ms | ${row.perSecond?.toFixed(1) ?? '–'} |`);
}
if (r.pytorch) {
  lines.push(`| PyTorch ${r.pytorch.torch}: train step, batch 32 | ${r.pytorch.threads} | ${(32_000 / r.pytorch.train_samples_per_s).toFixed(1)} ms | ${r.pytorch.train_samples_per_s.toFixed(1)} |`);
  lines.push(`| PyTorch ${r.pytorch.torch}: inference, batch 1 | ${r.pytorch.threads} | ${r.pytorch.infer_b1_ms.toFixed(1)} ms | – |`);
}
if (r.versusPytorch) {
  const v = r.versusPytorch;
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  lines.push('', `Interleaved rounds (PyTorch, then ours, ${v.ratios.length} times; this machine's speed drifts between runs): ` +
    `training throughput on 2 threads is **${med(v.ratios).toFixed(2)}× PyTorch's** (median; range ${Math.min(...v.ratios).toFixed(2)}–${Math.max(...v.ratios).toFixed(2)}), ` +
    `with PyTorch at ${Math.min(...v.torch).toFixed(0)}–${Math.max(...v.torch).toFixed(0)} samples/s and ours at ${Math.min(...v.ours).toFixed(0)}–${Math.max(...v.ours).toFixed(0)}.`);
}
lines.push('', '| audio front end | median |', '| --- | ---: |');
for (const row of r.rows.filter((x) => !x.name.startsWith('train') && !x.name.startsWith('inference'))) {
  lines.push(`| ${row.name} | ${row.medianMs.toFixed(2)} ± ${row.madMs.toFixed(2)} ms |`);
}
console.log(lines.join('\n'));
