/**
 * Prints the README's results from the reports `ser train` writes (copied into
 * bench/results/ser/): per fold and the mean over the folds present.
 *   npx tsx scripts/readme-results.ts
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

interface Saved {
  protocol: string;
  epochs: number;
  reports: { label: string; report: { accuracy: number; uar: number; n: number } }[];
}

const dir = 'bench/results/ser';
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.report.json')).sort() : [];
const folds: { label: string; accuracy: number; uar: number; n: number }[] = [];
let random: { accuracy: number; uar: number; n: number } | null = null;
for (const f of files) {
  const saved = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Saved;
  for (const { label, report } of saved.reports) {
    if (saved.protocol === 'folds') folds.push({ label, ...report });
    if (saved.protocol === 'random') random = report;
  }
}
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const mean = (f: (r: { accuracy: number; uar: number }) => number) => folds.reduce((s, r) => s + f(r), 0) / folds.length;
const lines = ['| EmoBox fold (test actors) | clips | accuracy | UAR |', '| --- | ---: | ---: | ---: |'];
for (const r of folds) lines.push(`| ${r.label.replace(/^fold (\d) \(test actors (.*)\)$/, '$1 ($2)')} | ${r.n} | ${pct(r.accuracy)} | ${pct(r.uar)} |`);
if (folds.length) lines.push(`| mean of ${folds.length} fold${folds.length > 1 ? 's' : ''} | ${folds.reduce((s, r) => s + r.n, 0)} | ${pct(mean((r) => r.accuracy))} | ${pct(mean((r) => r.uar))} |`);
if (random) lines.push('', `Random stratified 80/20: accuracy ${pct(random.accuracy)}, UAR ${pct(random.uar)} (n = ${random.n}).`);
console.log(lines.join('\n'));
