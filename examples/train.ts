/**
 * Reproduces the original project's training end to end with the library API: scan a RAVDESS
 * folder, extract (cached) MFCC features, hold out test actors, train EmotionCNN with Adam, and
 * report accuracy, UAR and the confusion matrix on speakers the model never heard.
 *
 *   npx tsx examples/train.ts /path/to/Audio_Speech_Actors_01-24 [--fold K] [--epochs N]
 *
 * `ser train` (src/node/cli.ts) does the same with checkpoints, resume and every protocol.
 */
import { manualSeed, ser } from '../src/index.js';
import { FeatureCache, enableThreads, extractFeatures, foldSplit, scanRavdess, subset } from '../src/node.js';

const [dir, ...rest] = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : dflt;
};
if (!dir) {
  console.error('usage: npx tsx examples/train.ts RAVDESS_DIR [--fold K] [--epochs N]');
  process.exit(2);
}

enableThreads();
const items = scanRavdess(dir, console.warn);
const data = extractFeatures(items, { cache: new FeatureCache('.cache/features'), warn: console.warn });
const fold = opt('fold', 1);
const { train, test } = foldSplit(data.actors, fold); // EmoBox fold: four actors held out
console.log(`${data.items.length} clips; fold ${fold}: ${train.length} to train, ${test.length} to test (unseen actors)`);

manualSeed(0);
const model = new ser.EmotionCNN();
ser.train(model, { features: subset(data.features, train), labels: train.map((i) => data.labels[i]!) }, {
  epochs: opt('epochs', 40), batchSize: 32, lr: 5e-4, seed: 0,
  onEpoch: (s) => console.log(`epoch ${s.epoch}/${s.epochs}: loss ${s.loss.toFixed(3)}, train accuracy ${(100 * s.accuracy).toFixed(1)}%, ${s.samplesPerSecond.toFixed(0)} samples/s`),
});

const predicted = ser.predictLabels(model, subset(data.features, test));
const report = ser.evaluate(test.map((i) => data.labels[i]!), predicted, ser.EMOTIONS.length);
console.log(ser.formatReport(report, ser.EMOTIONS));
