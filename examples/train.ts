/**
 * Trains the EmotionCNN with the library API, end to end: scan a RAVDESS folder, extract (cached)
 * MFCC features, hold out an EmoBox fold's four actors, train with a recipe, and report accuracy,
 * UAR and the confusion matrix on speakers the model never heard.
 *
 *   npx tsx examples/train.ts /path/to/Audio_Speech_Actors_01-24 [--recipe original|improved] [--fold K] [--epochs N] [--balance] [--deltas 2]
 *
 * Any recipe runs through the same two calls, `prepareRun` and `runTraining`, that `ser train` uses
 * (it adds checkpoints, resume, reports and every protocol: src/node/experiment.ts).
 */
import { ser } from '../src/index.js';
import { FeatureCache, enableThreads, extractFeatures, noisyFeatures, scanRavdess } from '../src/node.js';

const [dir, ...rest] = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
if (!dir) {
  console.error('usage: npx tsx examples/train.ts RAVDESS_DIR [--recipe original|improved] [--fold K] [--epochs N] [--balance] [--deltas 1|2]');
  process.exit(2);
}

// the recipe is data: start from a named one and change what you like, then check it
const recipe = ser.recipeByName(opt('recipe') ?? 'original');
if (opt('epochs')) recipe.epochs = Number(opt('epochs'));
if (rest.includes('--balance')) recipe.loss.balance = true;
if (opt('deltas')) recipe.deltas = Number(opt('deltas')) as 1 | 2;
ser.checkRecipe(recipe);

enableThreads();
const cache = new FeatureCache('.cache/features');
const data = extractFeatures(scanRavdess(dir, console.warn), { cache, warn: console.warn });
const fold = Number(opt('fold') ?? 1);
const [{ label, split }] = ser.protocolSplits({ name: 'folds', fold }, data.labels, data.actors); // four actors held out
const run = ser.prepareRun(recipe, data, split, {
  seed: 0, label, protocol: 'folds',
  // noisy copies need the waveforms, which only the Node side can read
  waveforms: { noisy: (idx, o) => noisyFeatures(idx.map((j) => data.items[j]!), { ...o, cache }) },
});
console.log(`${data.items.length} clips; ${label}: ${run.trainIdx.length} to train, ${run.valIdx.length} to validate, ${run.testIdx.length} to test; recipe ${recipe.name}`);

const { report } = ser.runTraining(run, {
  onEpoch: (s) => console.log(`epoch ${s.epoch}/${s.epochs}: loss ${s.loss.toFixed(3)}, train accuracy ${(100 * s.accuracy).toFixed(1)}%${s.valUar === undefined ? '' : `, validation UAR ${(100 * s.valUar).toFixed(1)}%`}, ${s.samplesPerSecond.toFixed(0)} samples/s`),
});
console.log(ser.formatReport(report!, ser.EMOTIONS));
