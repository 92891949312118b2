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

/**
 * Two validation actors from the training side (one male: odd number, one female: even), drawn
 * with a seeded shuffle, so model selection never looks at a test speaker nor at a training one.
 */
export function pickValidationActors(trainActors: readonly number[], seed = 0): number[] {
  const rng = new Generator(seed + 1);
  const unique = rng.shuffle([...new Set(trainActors)].sort((a, b) => a - b));
  const picked = [unique.find((a) => a % 2 === 1), unique.find((a) => a % 2 === 0)].filter((a): a is number => a !== undefined);
  if (unique.length - picked.length < 1) throw new ValueError(`validation: the training side has only actors ${unique.join(', ')}; none would be left to train on`);
  return picked.sort((a, b) => a - b);
}

/**
 * Splits a protocol's training indices into training and validation. `byActor`: whole actors (for
 * speaker-independent protocols; `valActors` or two picked ones); otherwise a stratified 10%.
 */
export function validationSplit(
  trainIdx: readonly number[], labels: readonly number[], actors: readonly number[],
  opts: { byActor: boolean; valActors?: readonly number[]; seed?: number },
): { train: number[]; validation: number[]; valActors: number[] } {
  const seed = opts.seed ?? 0;
  if (opts.byActor) {
    const valActors = opts.valActors ? [...opts.valActors] : pickValidationActors(trainIdx.map((i) => actors[i]!), seed);
    const held = new Set(valActors);
    const validation = trainIdx.filter((i) => held.has(actors[i]!));
    const train = trainIdx.filter((i) => !held.has(actors[i]!));
    if (!validation.length) throw new ValueError(`validation: none of actors ${valActors.join(', ')} is on the training side`);
    if (!train.length) throw new ValueError('validation: every training clip would be held out');
    return { train, validation, valActors };
  }
  const inner = randomSplit(trainIdx.map((i) => labels[i]!), 0.1, seed + 1);
  return { train: inner.train.map((k) => trainIdx[k]!), validation: inner.test.map((k) => trainIdx[k]!), valActors: [] };
}

/** The evaluation protocols: EmoBox folds, the original's random split, held-out actors, or every clip. */
export const PROTOCOLS = ['folds', 'random', 'actors', 'all'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export interface Protocol {
  name: ProtocolName;
  /** With folds: only this fold (1–6); default all six in turn. */
  fold?: number;
  /** With actors: the held-out actors. */
  testActors?: readonly number[];
}

/** Throws a ValueError naming what is wrong with a protocol, before any data is read. */
export function checkProtocol(p: Protocol): Protocol {
  if (!(PROTOCOLS as readonly string[]).includes(p.name)) throw new ValueError(`protocol must be ${PROTOCOLS.join(', ')}, got '${p.name}'`);
  if (p.fold !== undefined && p.name !== 'folds') throw new ValueError('a fold goes with the folds protocol');
  if (p.fold !== undefined && !(Number.isInteger(p.fold) && p.fold >= 1 && p.fold <= EMOBOX_FOLDS.length)) throw new ValueError(`fold must be 1–${EMOBOX_FOLDS.length}, got ${p.fold}`);
  if (p.testActors !== undefined && p.name !== 'actors') throw new ValueError('test actors go with the actors protocol');
  if (p.name === 'actors' && !p.testActors?.length) throw new ValueError('the actors protocol needs test actors');
  if (p.testActors?.some((a) => !Number.isInteger(a) || a < 1 || a > 24)) throw new ValueError(`test actors must be actor numbers 1–24, got ${p.testActors.join(', ')}`);
  return p;
}

/** The protocol's splits, each with the label reports give it. */
export function protocolSplits(p: Protocol, labels: readonly number[], actors: readonly number[]): { label: string; fold?: number; split: Split }[] {
  checkProtocol(p);
  if (p.name === 'actors') return [{ label: `test actors ${p.testActors!.join(', ')}`, split: actorSplit(actors, p.testActors!) }];
  if (p.name === 'all') return [{ label: 'all clips', split: { train: labels.map((_, i) => i), test: [] } }];
  if (p.name === 'random') return [{ label: 'random 80/20', split: randomSplit(labels, 0.2, 42) }];
  const folds = p.fold === undefined ? EMOBOX_FOLDS.map((_, i) => i + 1) : [p.fold];
  return folds.map((k) => ({ label: `fold ${k} (test actors ${EMOBOX_FOLDS[k - 1]!.join(', ')})`, fold: k, split: foldSplit(actors, k) }));
}
