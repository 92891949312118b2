/**
 * Predicts the emotion of WAV files with the bundled weights (or your own; repeat --weights for
 * an ensemble):
 *
 *   npx tsx examples/predict.ts examples/audio/*.wav [--weights FILE]...
 *
 * With --enroll FILE (repeatable) the files are taken to be one speaker, enrolled from those
 * clips, and scored with the bundled speaker-normalised weights (or --weights trained with
 * --speaker-norm):
 *
 *   npx tsx examples/predict.ts today.wav --enroll me-1.wav --enroll me-2.wav --enroll today.wav
 */
import { readFileSync } from 'node:fs';
import { BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS, enableThreads, loadModel } from '../src/node.js';

const args = process.argv.slice(2);
const option = (name: string): string[] => {
  const found: string[] = [];
  for (let i = args.indexOf(name); i >= 0; i = args.indexOf(name)) found.push(...args.splice(i, 2).slice(1));
  return found;
};
const weights = option('--weights');
const enrolment = option('--enroll');
if (!args.length) {
  console.error('usage: npx tsx examples/predict.ts FILE.wav... [--weights FILE]... [--enroll FILE]...');
  process.exit(2);
}

enableThreads();
// default: the bundled ensemble (the best recipe trained on all 24 RAVDESS actors with several
// seeds, probabilities averaged); with enrolment, the speaker-normalised model
const files = weights.length ? weights : enrolment.length ? [BUNDLED_SPEAKER_NORM_WEIGHTS] : BUNDLED_ENSEMBLE;
const recognizer = files.length === 1 ? loadModel(files[0]) : loadModel(files);
// a speaker's statistics from a few of their clips (unlabelled), for speaker-normalised weights
const speaker = enrolment.length ? recognizer.enroll(enrolment.map((f) => readFileSync(f))) : undefined;
for (const file of args) {
  const p = recognizer.predict(readFileSync(file), { speaker });
  if (!p.probabilities) {
    console.log(`${file}: no speech detected`); // silence, noise or a tone: no emotion is made up
    continue;
  }
  const ranked = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
  console.log(`${file}: ${p.label}`);
  for (const [emotion, prob] of ranked.slice(0, 3)) console.log(`  ${emotion.padEnd(10)} ${(100 * prob).toFixed(1)}%`);
  for (const win of p.windows) console.log(`  window ${win.start.toFixed(1)}–${win.end.toFixed(1)} s: ${win.label ?? 'no speech'}`);
}
