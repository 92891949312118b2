/**
 * How many enrolment clips speaker normalisation needs: for every EmoBox fold, weights trained
 * with `--speaker-norm` are scored on the fold's test clips with each test speaker standardised
 * from K of that speaker's clips drawn at random (unlabelled, any emotion), for several K and
 * several draws, each with the statistics shrunk toward the training speakers' as if those were
 * P seconds of speech (P = 0: the enrolment clips alone), against the statistics of all the
 * speaker's clips (what `ser evaluate` uses by default), and against each clip enrolled from
 * itself alone. Every test clip is scored, the enrolment clips among them. The prior is the weights' own (`ser train --speaker-norm` stores it), or for
 * weights from before that, the same statistics fitted here on the fold's training clips.
 *   CACHE=/path/to/feature-cache npx tsx scripts/enrolment-curve.ts DATA_DIR 'runs/spk-fold{fold}.safetensors' [OUT.json]
 * Prints one JSON line per fold; writes the table (mean UAR over folds, per K and P) to OUT.json.
 */
import { writeFileSync } from 'node:fs';
import { EMOTIONS, InputNorm, applySpeakerNorms, enrolmentNorms, evaluate, predictLabels, secondsToFrames, speakerNorms } from '../src/ser/index.js';
import { FeatureCache, extractFeatures, foldSplit, loadModel, scanRavdess, subset } from '../src/node.js';

const [dir, pattern, out] = process.argv.slice(2);
if (!dir || !pattern) throw new Error("usage: enrolment-curve.ts DATA_DIR 'WEIGHTS-fold{fold}.safetensors' [OUT.json]");
const data = extractFeatures(scanRavdess(dir), { cache: new FeatureCache(process.env.CACHE ?? '.cache/features') });
const SIZES = [1, 2, 4, 8, 16];
const PRIOR_SECONDS = [0, 4, 8, 16];
const DRAWS = 4;

const uar: Record<string, number[][]> = { all: [] }; // 'K clips, P s' → per fold → per draw
const key = (k: number, p: number) => `${k} clips, prior ${p} s`;
for (let fold = 1; fold <= 6; fold++) {
  const weights = pattern.replaceAll('{fold}', String(fold));
  const { model, normalizer, speakerNormalized, speakerPrior } = loadModel(weights);
  if (!speakerNormalized) throw new Error(`${weights} was not trained with --speaker-norm`);
  const split = foldSplit(data.actors, fold);
  const prior = speakerPrior ?? InputNorm.fit(subset(data.features, split.train));
  const x = subset(data.features, split.test);
  const y = split.test.map((j) => data.labels[j]!);
  const speakers = split.test.map((j) => data.actors[j]!);
  const score = (norms: Map<number, InputNorm>, who: number[] = speakers) => evaluate(y, predictLabels(model, applySpeakerNorms(x, who, norms), 64, normalizer), EMOTIONS.length).uar;
  uar.all!.push([score(speakerNorms(x, speakers))]);
  // each clip enrolled from itself alone: what a single clip can do for its own statistics
  const perClip = split.test.map((_, i) => i);
  const own = speakerNorms(x, perClip);
  for (const p of PRIOR_SECONDS) {
    const norms = p > 0 ? new Map([...own].map(([i, n]) => [i, n.shrinkToward(prior, secondsToFrames(p))])) : own;
    (uar[`self, prior ${p} s`] ??= []).push([score(norms, perClip)]);
  }
  for (const k of SIZES) {
    for (const p of PRIOR_SECONDS) {
      const shrink = p > 0 ? { norm: prior, frames: secondsToFrames(p) } : null;
      (uar[key(k, p)] ??= []).push(Array.from({ length: DRAWS }, (_, d) => score(enrolmentNorms(x, speakers, k, d, shrink))));
    }
  }
  const line = Object.fromEntries(Object.entries(uar).map(([k, f]) => [k, f[fold - 1]!.map((u) => +(100 * u).toFixed(1))]));
  console.log(JSON.stringify({ fold, ...line }));
}
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
// mean over folds of each draw, then mean and range over draws
const table = Object.entries(uar).map(([k, folds]) => {
  const perDraw = folds[0]!.map((_, d) => mean(folds.map((f) => f[d]!)));
  return { enrolment: k, uar: +(100 * mean(perDraw)).toFixed(1), min: +(100 * Math.min(...perDraw)).toFixed(1), max: +(100 * Math.max(...perDraw)).toFixed(1), draws: perDraw.length };
});
console.log(JSON.stringify({ pattern, table }));
if (out) writeFileSync(out, `${JSON.stringify({ command: `scripts/enrolment-curve.ts DATA_DIR '${pattern}'`, table, perFold: uar }, null, 1)}\n`);
