/**
 * Scores ensembles of fold models at no training cost: for every EmoBox fold, each weights file's
 * softmax probabilities on the fold's test clips (through its own input normaliser), alone and
 * averaged over all of them.
 *   CACHE=/path/to/feature-cache npx tsx scripts/ensemble-eval.ts DATA_DIR 'runs/a-fold{fold}.safetensors' 'runs/b-fold{fold}.safetensors' …
 * Prints one JSON line per fold and the mean UARs.
 * SHIFTS=-8,0,8 also averages each model over copies of every clip shifted by that many frames
 * (test-time augmentation; zeros shifted in, as the training shift does). Default: 0 only.
 * FOLDS=1,2 scores only those folds (default: all six).
 */
import { EMOTIONS, EmotionRecognizer, applySpeakerNorms, evaluate, speakerNorms } from '../src/ser/index.js';
import { FeatureCache, extractFeatures, foldSplit, loadModel, scanRavdess, subset } from '../src/node.js';

const [dir, ...patterns] = process.argv.slice(2);
if (!dir || !patterns.length) throw new Error("usage: ensemble-eval.ts DATA_DIR 'WEIGHTS-fold{fold}.safetensors'...");
const data = extractFeatures(scanRavdess(dir), { cache: new FeatureCache(process.env.CACHE ?? '.cache/features') });
const CLIP = 40 * 174;
const C = EMOTIONS.length;
const FOLDS = (process.env.FOLDS ?? '1,2,3,4,5,6').split(',').map(Number);
if (FOLDS.some((k) => !Number.isInteger(k) || k < 1 || k > 6)) throw new Error(`FOLDS must list folds 1-6, got ${process.env.FOLDS}`);
const SHIFTS = (process.env.SHIFTS ?? '0').split(',').map(Number);
if (SHIFTS.some((s) => !Number.isInteger(s) || Math.abs(s) >= 174)) throw new Error(`SHIFTS must be whole frame counts, got ${process.env.SHIFTS}`);

/** Clips [n × 40 × 174] moved `s` frames later (earlier when negative), zeros shifted in. */
function shifted(x: Float32Array, s: number): Float32Array {
  if (s === 0) return x;
  const out = new Float32Array(x.length);
  for (let row = 0; row < x.length / 174; row++) {
    const o = row * 174;
    for (let t = Math.max(0, s); t < Math.min(174, 174 + s); t++) out[o + t] = x[o + t - s]!;
  }
  return out;
}

/**
 * Softmax probabilities [n × 8] of one weights file on clips x of `speakers` (weights trained with
 * --speaker-norm see each speaker standardised with all of that speaker's clips, as in evaluate).
 */
function probabilities(weights: string, x: Float32Array, speakers: number[]): Float32Array {
  const { model, normalizer, speakerNormalized } = loadModel(weights);
  const own = speakerNormalized ? applySpeakerNorms(x, speakers, speakerNorms(x, speakers)) : x;
  const normalised = normalizer ? normalizer.apply(own) : own;
  // the shifts act on the normalised clips, as the training shift does: score them unnormalised
  const plain = new EmotionRecognizer(model);
  const out = new Float32Array((x.length / CLIP) * C);
  for (const s of SHIFTS) plain.scoreClips(shifted(normalised, s)).forEach((v, k) => (out[k] += v / SHIFTS.length));
  return out;
}

const argmax = (p: Float32Array, n: number) => Array.from({ length: n }, (_, i) => {
  let best = 0;
  for (let c = 1; c < C; c++) if (p[i * C + c]! > p[i * C + best]!) best = c;
  return best;
});

const singles: number[][] = patterns.map(() => []);
const ensemble: number[] = [];
for (const fold of FOLDS) {
  const test = foldSplit(data.actors, fold).test;
  const x = subset(data.features, test);
  const y = test.map((j) => data.labels[j]!);
  const sum = new Float32Array(test.length * C);
  const uars = patterns.map((pattern, i) => {
    const p = probabilities(pattern.replaceAll('{fold}', String(fold)), x, test.map((j) => data.actors[j]!));
    p.forEach((v, k) => (sum[k] += v));
    const uar = evaluate(y, argmax(p, test.length), C).uar;
    singles[i]!.push(uar);
    return uar;
  });
  const uar = evaluate(y, argmax(sum, test.length), C).uar;
  ensemble.push(uar);
  console.log(JSON.stringify({ fold, singles: uars.map((u) => +(100 * u).toFixed(1)), ensemble: +(100 * uar).toFixed(1) }));
}
const mean = (a: number[]) => (100 * a.reduce((s, v) => s + v, 0)) / a.length;
console.log(JSON.stringify({ mean: { singles: singles.map((s) => +mean(s).toFixed(1)), ensemble: +mean(ensemble).toFixed(1) }, patterns, folds: FOLDS, shifts: SHIFTS }));
