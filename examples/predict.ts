/**
 * Predicts the emotion of WAV files with the bundled weights (or your own):
 *
 *   npx tsx examples/predict.ts examples/audio/*.wav [--weights FILE]
 */
import { readFileSync } from 'node:fs';
import { enableThreads, loadModel } from '../src/node.js';

const args = process.argv.slice(2);
const w = args.indexOf('--weights');
const weights = w >= 0 ? args.splice(w, 2)[1] : undefined;
if (!args.length) {
  console.error('usage: npx tsx examples/predict.ts FILE.wav... [--weights FILE]');
  process.exit(2);
}

enableThreads();
const recognizer = loadModel(weights); // default: the EmotionCNN trained on all 24 RAVDESS actors
for (const file of args) {
  const p = recognizer.predict(readFileSync(file));
  const ranked = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
  console.log(`${file}: ${p.label}`);
  for (const [emotion, prob] of ranked.slice(0, 3)) console.log(`  ${emotion.padEnd(10)} ${(100 * prob).toFixed(1)}%`);
  for (const win of p.windows) console.log(`  window ${win.start.toFixed(1)}–${win.end.toFixed(1)} s: ${win.label}`);
}
