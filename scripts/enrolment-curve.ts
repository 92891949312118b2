/**
 * How many enrolment clips speaker normalisation needs: for every EmoBox fold, weights trained
 * with `--speaker-norm` are scored on the fold's test clips with each test speaker standardised
 * from K of that speaker's clips drawn at random (unlabelled, any emotion), for several K and
 * several draws, against the statistics of all the speaker's clips (what `ser evaluate` uses).
 * Every test clip is scored, the enrolment clips among them.
 *   CACHE=/path/to/feature-cache npx tsx scripts/enrolment-curve.ts DATA_DIR 'runs/spk-fold{fold}.safetensors' [OUT.json]
 * Prints one JSON line per fold and K; writes the table (mean UAR over folds, per K) to OUT.json.
 */
import { writeFileSync } from 'node:fs';
import { EMOTIONS, applySpeakerNorms, enrolmentNorms, evaluate, predictLabels, speakerNorms } from '../src/ser/index.js';
import { FeatureCache, extractFeatures, foldSplit, loadModel, scanRavdess, subset } from '../src/node.js';

const [dir, pattern, out] = process.argv.slice(2);
if (!dir || !pattern) throw new Error("usage: enrolment-curve.ts DATA_DIR 'WEIGHTS-fold{fold}.safetensors' [OUT.json]");
const data = extractFeatures(scanRavdess(dir), { cache: new FeatureCache(process.env.CACHE ?? '.cache/features') });
const SIZES = [1, 2, 4, 8, 16, 32];
const DRAWS = 5;

const uar: Record<string, number[][]> = { all: [] }; // key → per fold → per draw
for (const k of SIZES) uar[k] = [];
for (let fold = 1; fold <= 6; fold++) {
  const weights = pattern.replaceAll('{fold}', String(fold));
  const { model, normalizer, speakerNormalized } = loadModel(weights);
  if (!speakerNormalized) throw new Error(`${weights} was not trained with --speaker-norm`);
  const test = foldSplit(data.actors, fold).test;
  const x = subset(data.features, test);
  const y = test.map((j) => data.labels[j]!);
  const speakers = test.map((j) => data.actors[j]!);
  const score = (norms: ReturnType<typeof speakerNorms>) => evaluate(y, predictLabels(model, applySpeakerNorms(x, speakers, norms), 64, normalizer), EMOTIONS.length).uar;
  uar.all!.push([score(speakerNorms(x, speakers))]);
  for (const k of SIZES) uar[k]!.push(Array.from({ length: DRAWS }, (_, d) => score(enrolmentNorms(x, speakers, k, d))));
  const line = Object.fromEntries(Object.entries(uar).map(([k, f]) => [k, f[fold - 1]!.map((u) => +(100 * u).toFixed(1))]));
  console.log(JSON.stringify({ fold, ...line }));
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
// mean over folds of each draw, then mean and range over draws
const table = Object.entries(uar).map(([k, folds]) => {
  const perDraw = folds[0]!.map((_, d) => mean(folds.map((f) => f[d]!)));
  return { enrolmentClips: k, uar: +(100 * mean(perDraw)).toFixed(1), min: +(100 * Math.min(...perDraw)).toFixed(1), max: +(100 * Math.max(...perDraw)).toFixed(1), draws: perDraw.length };
});
console.log(JSON.stringify({ pattern, table }));
if (out) writeFileSync(out, `${JSON.stringify({ command: `scripts/enrolment-curve.ts DATA_DIR '${pattern}'`, table, perFold: uar }, null, 1)}\n`);
