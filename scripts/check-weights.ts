/**
 * Checks the bundled weights after they are retrained: they load with what their metadata says,
 * and they classify the two bundled clips (which they were trained on) with a clear lead. A check
 * of these files, not of the code, so it is a script and not a test; run it after writing new
 * weights to src/ser/weights:
 *
 *   npx tsx scripts/check-weights.ts
 */
import { readFileSync } from 'node:fs';
import { Generator, audio, ser } from '../src/index.js';
import { BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS, loadModel } from '../src/node.js';

const clips = ['03-01-04-02-01-01-02', '03-01-05-02-01-01-01'].map((name) => ({
  name, emotion: ser.parseRavdessName(`${name}.wav`)!.emotion, bytes: readFileSync(new URL(`../examples/audio/${name}.wav`, import.meta.url)),
}));
const failures: string[] = [];
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const ranked = (p: ser.Probabilities) => Object.entries(p).sort((a, b) => b[1] - a[1]) as [ser.Emotion, number][];

// the default ensemble: every member has Δ/ΔΔ channels, an input normaliser and speech trimming; each clip right, with a lead
const ensemble = loadModel(BUNDLED_ENSEMBLE);
check(ensemble.members.length === BUNDLED_ENSEMBLE.length && ensemble.members.length > 1, `the ensemble has ${ensemble.members.length} members`);
for (const [i, m] of ensemble.members.entries()) check(m.model.deltas === 2 && m.normalizer !== null && !m.speakerNormalized && m.trim, `member ${i + 1}: deltas 2, input normaliser, not speaker-normalised, trained on clips cut to their speech`);
for (const c of [...clips]) {
  for (const [who, model] of [['ensemble', ensemble], ['member 1', ensemble.members[0]!]] as const) {
    const r = ranked(model.predict(c.bytes).probabilities!);
    check(r[0]![0] === c.emotion && r[0]![1] - r[1]![1] > 0.05 && r[0]![1] > 2 / 8, `${who}: ${c.name} is ${c.emotion} (${r[0]![0]} ${(100 * r[0]![1]).toFixed(1)}%, next ${(100 * r[1]![1]).toFixed(1)}%)`);
  }
  // the same clip after a second of silence, and cut to its speech: the same answer
  const y = audio.load(c.bytes, { sampleRate: ser.SAMPLE_RATE });
  const ctx = { sampleRate: ser.SAMPLE_RATE, rng: new Generator(0) };
  for (const cond of [{ kind: 'lead', seconds: 1 }, { kind: 'speechOnly' }] as const) {
    const r = ranked(ensemble.predict(ser.applyCondition(y, cond, ctx), { sampleRate: ser.SAMPLE_RATE }).probabilities!);
    check(r[0]![0] === c.emotion, `ensemble: ${c.name} under ${ser.conditionName(cond)} is ${c.emotion} (${r[0]![0]} ${(100 * r[0]![1]).toFixed(1)}%)`);
  }
}

// the speaker-normalised model: refuses without enrolment; each clip enrolling itself ranks its emotion in the top two
const spk = loadModel(BUNDLED_SPEAKER_NORM_WEIGHTS);
check(spk.speakerNormalized && spk.speakerPrior !== null, 'speaker-normalised, with the training speakers\' statistics');
// raw c0 sits hundreds below zero with a deviation in the hundreds (standardised values would be near 0 and 1);
// the plain models' input mean is of trimmed clips, which hold less silence, so it is not the reference
const [c0, sd0] = [spk.speakerPrior!.mean[0]!, spk.speakerPrior!.std[0]!];
check(c0 < -100 && sd0 > 50, `its prior is raw MFCC statistics (c0 mean ${c0.toFixed(0)}, deviation ${sd0.toFixed(0)})`);
for (const c of clips) {
  let refused = false;
  try {
    spk.predict(c.bytes);
  } catch {
    refused = true;
  }
  const r = ranked(spk.predict(c.bytes, { speaker: spk.enroll([c.bytes]) }).probabilities!);
  check(refused && r.slice(0, 2).some(([e]) => e === c.emotion), `speaker-normalised: ${c.name} refused without enrolment; enrolled on itself, ${c.emotion} in the top two (${r.slice(0, 2).map(([e, p]) => `${e} ${(100 * p).toFixed(1)}%`).join(', ')})`);
}

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nthe bundled weights pass');
