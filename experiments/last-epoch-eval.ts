/**
 * Scores a fold's last epoch (from the training checkpoint) beside the epoch that validation kept
 * (the weights file), for the ablation "best validation epoch vs last epoch" at no training cost:
 *   npx tsx scripts/last-epoch-eval.ts DATA_DIR FOLD WEIGHTS.safetensors [CHECKPOINT]
 * The input normaliser comes from the weights file; both share the same training clips.
 */
import { readFileSync } from 'node:fs';
import { EMOTIONS, EmotionCNN, evaluate, predictLabels } from '../src/ser/index.js';
import { FeatureCache, extractFeatures, foldSplit, loadModel, scanRavdess, subset } from '../src/node.js';
import { loadSafetensors } from '../src/nn/safetensors.js';

const [dir, foldArg, weights, ckptArg] = process.argv.slice(2);
if (!dir || !foldArg || !weights) throw new Error('usage: last-epoch-eval.ts DATA_DIR FOLD WEIGHTS [CHECKPOINT]');
const data = extractFeatures(scanRavdess(dir), { cache: new FeatureCache(process.env.CACHE ?? '.cache/features') });
const test = foldSplit(data.actors, Number(foldArg)).test;
const x = subset(data.features, test);
const y = test.map((j) => data.labels[j]!);
const kept = loadModel(weights);
const { tensors } = loadSafetensors(readFileSync(ckptArg ?? `${weights}.ckpt`));
const last = new EmotionCNN();
last.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('model.')).map(([k, t]) => [k.slice(6), t])));
const score = (m: EmotionCNN) => evaluate(y, predictLabels(m, x, 64, kept.normalizer), EMOTIONS.length);
const [a, b] = [score(kept.model), score(last)];
console.log(JSON.stringify({ fold: Number(foldArg), kept: { accuracy: a.accuracy, uar: a.uar }, last: { accuracy: b.accuracy, uar: b.uar } }));
