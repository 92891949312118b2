/** Train/test splits: the original random protocol, and speaker-independent folds. */
import { ValueError } from '../tensor/errors.js';
import { Generator } from '../tensor/random.js';
import { EMOBOX_FOLDS } from './labels.js';

export interface Split {
  train: number[];
  test: number[];
}

/** Stratified random split: round(testFraction · n_c) of each class to test, seeded. */
export function randomSplit(labels: readonly number[], testFraction = 0.2, seed = 42): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new ValueError(`randomSplit: testFraction must be in (0, 1), got ${testFraction}`);
  const rng = new Generator(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
  const train: number[] = [];
  const test: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byClass.get(c)!);
    const k = Math.round(idx.length * testFraction);
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Clips of the given test actors go to test, all others to train: no test speaker is ever trained on. */
export function actorSplit(actors: readonly number[], testActors: readonly number[]): Split {
  const held = new Set(testActors);
  const split: Split = { train: [], test: [] };
  actors.forEach((a, i) => (held.has(a) ? split.test : split.train).push(i));
  if (!split.test.length) throw new ValueError(`actorSplit: none of actors ${testActors.join(', ')} is in the data`);
  if (!split.train.length) throw new ValueError('actorSplit: every clip is held out; nothing left to train on');
  return split;
}

/** EmoBox fold k (1–6): its four test actors are held out. */
export function foldSplit(actors: readonly number[], fold: number): Split {
  const t = EMOBOX_FOLDS[fold - 1];
  if (!t) throw new ValueError(`fold must be 1–${EMOBOX_FOLDS.length}, got ${fold}`);
  return actorSplit(actors, t);
}
