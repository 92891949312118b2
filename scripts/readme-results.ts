/**
 * Prints the README's results table from the reports `ser train` writes (copied into
 * bench/results/ser/ as RECIPE-foldK.report.json or RECIPE-random.report.json, where RECIPE is
 * the recipe, then -without-PART-PART… for switched-off parts, then -with-ADDITION (underscores
 * for spaces) for an added one, e.g. improved-without-validation-with-mixup_0.2, then -seedN for a
 * seed other than 0): one row per
 * recipe, UAR per EmoBox fold, the mean over the folds present, and the random split; plus the
 * last-epoch scores in last-epoch.jsonl (scripts/last-epoch-eval.ts). Then, for each
 * enrolment-*.json (scripts/enrolment-curve.ts), the UAR of speaker-normalised weights against the
 * number of enrolment clips and the prior's weight.
 *   npx tsx scripts/readme-results.ts
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

interface Saved {
  protocol: string;
  seed?: number;
  reports: { label: string; report: { accuracy: number; uar: number; n: number } }[];
}

const dir = 'bench/results/ser';
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.report.json')).sort() : [];
type Score = { accuracy: number; uar: number };
const byRecipe = new Map<string, { folds: Map<number, Score>; random?: Score }>();
for (const f of files) {
  const saved = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as Saved;
  // the recipe, as the file is named: "improved-without-validation-smoothing-fold2" → "improved
  // without validation, smoothing"; "improved-without-validation-with-mixup_0.2-fold1" → "improved
  // without validation, with mixup 0.2" (several -with- parts: several additions); a seed other
  // than 0 (read from the report; files are told apart by -seedN before -foldK) is named last
  const [base, ...additions] = f.replace(/-(fold\d|random)\.report\.json$/, '').replace(/-seed\d+$/, '').split('-with-') as [string, ...string[]];
  const name = base.replace(/-without-(.*)$/, (_, parts: string) => ` without ${parts.split('-').join(', ')}`) + additions.map((a) => `, with ${a.replaceAll('_', ' ')}`).join('')
    + (saved.seed ? `, seed ${saved.seed}` : '');
  const entry = byRecipe.get(name) ?? { folds: new Map<number, Score>() };
  byRecipe.set(name, entry);
  for (const { label, report } of saved.reports) {
    if (saved.protocol === 'folds') entry.folds.set(Number(/^fold (\d)/.exec(label)![1]), report);
    if (saved.protocol === 'random') entry.random = report;
  }
}
// last-epoch scores of recipes that keep the best validation epoch (scripts/last-epoch-eval.ts)
const lastFile = `${dir}/last-epoch.jsonl`;
if (existsSync(lastFile)) {
  for (const line of readFileSync(lastFile, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { recipe: string; fold: number; last: { accuracy: number; uar: number } };
    const name = `${r.recipe}, last epoch instead of the best validation epoch`;
    const entry = byRecipe.get(name) ?? { folds: new Map<number, Score>() };
    byRecipe.set(name, entry);
    entry.folds.set(r.fold, r.last);
  }
}
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const lines = [
  '| recipe (this library) | fold 1 | fold 2 | fold 3 | fold 4 | fold 5 | fold 6 | mean UAR | random 80/20 accuracy |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const [name, { folds, random }] of byRecipe) {
  const cells = [1, 2, 3, 4, 5, 6].map((k) => (folds.has(k) ? pct(folds.get(k)!.uar) : '–'));
  const uars = [...folds.values()].map((r) => r.uar);
  const mean = uars.length ? `${pct(uars.reduce((a, b) => a + b, 0) / uars.length)}${uars.length < 6 ? ` (${uars.length} of 6 folds)` : ''}` : '–';
  lines.push(`| ${name} | ${cells.join(' | ')} | ${mean} | ${random ? pct(random.accuracy) : '–'} |`);
}
console.log(lines.join('\n'));

// enrolment curves (scripts/enrolment-curve.ts): rows K clips, columns the prior's seconds
for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => /^enrolment-.*\.json$/.test(n)).sort() : []) {
  const { table } = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { table: { enrolment: string; uar: number; min: number; max: number }[] };
  const cells = new Map<string, Map<string, string>>();
  const priors = new Set<string>();
  for (const r of table) {
    const m = /^(\d+|self)(?: clips)?, prior (\d+) s$/.exec(r.enrolment);
    const [clips, prior] = m ? [m[1]!, m[2]!] : [r.enrolment, ''];
    if (prior) priors.add(prior);
    if (!cells.has(clips)) cells.set(clips, new Map());
    cells.get(clips)!.set(prior, r.min === r.max ? `${r.uar.toFixed(1)}%` : `${r.uar.toFixed(1)}% (${r.min.toFixed(1)}–${r.max.toFixed(1)})`);
  }
  const cols = [...priors].sort((a, b) => Number(a) - Number(b));
  const out = [`\n${f}:`, `| enrolment clips per speaker | ${cols.map((p) => (p === '0' ? 'alone' : `prior ${p} s`)).join(' | ')} |`, `| ---: | ${cols.map(() => '---:').join(' | ')} |`];
  for (const [clips, row] of cells) {
    // all of a speaker's clips: the statistics training used, no prior
    const label = clips === 'self' ? 'the clip itself only' : clips;
    out.push(clips === 'all' ? `| all (60) | ${[row.get(''), ...cols.slice(1).map(() => '–')].join(' | ')} |` : `| ${label} | ${cols.map((p) => row.get(p) ?? '–').join(' | ')} |`);
  }
  console.log(out.join('\n'));
}
