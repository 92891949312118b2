/**
 * Training recipes as plain data: the original project's, kept exact, and the improved one that
 * stays within the EmotionCNN family and MFCC input. A report records its recipe as it is, and an
 * ablation switches parts off (`withoutComponents`). `checkRecipe` is the one place a recipe is
 * validated; the pipeline (`prepareRun`) turns a checked recipe into training inputs.
 */
import { ValueError } from '../tensor/errors.js';
import type { AugmentOptions } from './augment.js';
import { N_FRAMES, N_MFCC } from './model.js';

/**
 * A source of training clips besides the clean ones. When a clip is drawn, the sources are tried in
 * order, each with its probability; the first that fires gives one of its copies of the clip (drawn
 * uniformly), and if none does the clean clip is used.
 */
export type ClipSource =
  /** Copies with white noise at an SNR drawn from `snrDb` (computed once on the waveform). */
  | { kind: 'noisy'; prob: number; snrDb: [number, number] }
  /**
   * With speaker normalisation: `copies` copies normalised with the statistics of only 1, 2, 4 or 8
   * (copy e: the (e mod 4)-th) random clips of each speaker, shrunk toward the training speakers',
   * as an enrolled speaker's are.
   */
  | { kind: 'enrolled'; prob: number; copies: number }
  /**
   * `copies` copies of each clip, each under recording conditions drawn at random (a band limit, a
   * telephone line, a codec's low-pass, a room, noise, a level, a DC offset or a tilt, sometimes two:
   * `drawConditions` in conditions.ts), computed once on the waveform.
   */
  | { kind: 'degraded'; prob: number; copies: number };

/** An augmentation applied to every training clip each time it is drawn, on the (normalised) MFCC image. */
export type Augmentation =
  /** Time shift of up to `frames` either way; frames shifted in are padding. */
  | { kind: 'shift'; frames: number }
  /** Gain of up to `db` either way (exact in the MFCC domain: it moves c0 only). */
  | { kind: 'gain'; db: number }
  /** SpecAugment masks: `count` bands of up to `width` frames (time) or coefficients, set to 0. */
  | { kind: 'timeMask'; count: number; width: number }
  | { kind: 'coefMask'; count: number; width: number };

export interface Recipe {
  /** What the recipe is, for logs and reports: the base recipe and what was changed. */
  name: string;
  epochs: number;
  batchSize: number;
  /** Adam's learning rate (at the start, with the cosine schedule). */
  lr: number;
  schedule: 'constant' | 'cosine';
  /** Per-coefficient standardisation of the input, fitted on the training clips. */
  normalize: boolean;
  /** Each speaker's clips standardised with that speaker's own statistics (a speaker-adaptive protocol). */
  speakerNorm: boolean;
  /** Δ (1) or Δ and ΔΔ (2) of the MFCC as extra input channels of the model (EmotionCNN's `deltas`). */
  deltas: 0 | 1 | 2;
  /**
   * Every clip cut to its speech before its MFCC is windowed (`clipFeatures`' `trim`; training
   * copies too, each by its own voice activity), and so at prediction: the weights file records it.
   */
  trim: boolean;
  sources: ClipSource[];
  augment: Augmentation[];
  /** The cross-entropy: label smoothing, and class weights that count every class alike (`balance`). */
  loss: { labelSmoothing: number; balance: boolean };
  /** Hold two validation actors out of the training side and keep the best epoch by their UAR. */
  validation: boolean;
}

const NO_CHANGES = { speakerNorm: false, deltas: 0 as const, trim: false, loss: { labelSmoothing: 0, balance: false } };

export const RECIPES: Record<'original' | 'improved', Recipe> = {
  original: {
    ...NO_CHANGES, name: 'original', epochs: 40, batchSize: 32, lr: 5e-4, schedule: 'constant', normalize: false,
    sources: [], augment: [], validation: false,
  },
  improved: {
    ...NO_CHANGES, name: 'improved', epochs: 40, batchSize: 32, lr: 5e-4, schedule: 'cosine', normalize: true,
    sources: [{ kind: 'noisy', prob: 0.3, snrDb: [15, 35] }],
    augment: [{ kind: 'shift', frames: 10 }, { kind: 'gain', db: 6 }, { kind: 'timeMask', count: 1, width: 10 }, { kind: 'coefMask', count: 1, width: 3 }],
    loss: { labelSmoothing: 0.1, balance: false }, validation: true,
  },
};

/** Parts of the improved recipe that an ablation can switch off. */
export const COMPONENTS = ['normalize', 'noise', 'shift', 'gain', 'masks', 'smoothing', 'cosine', 'validation'] as const;
export type Component = (typeof COMPONENTS)[number];

export function recipeByName(name: string): Recipe {
  const r = (RECIPES as Record<string, Recipe>)[name];
  if (!r) throw new ValueError(`recipe must be one of ${Object.keys(RECIPES).join(', ')}, got '${name}'`);
  return structuredClone(r);
}

/** `recipe` with the named components switched off; the name records what was removed. */
export function withoutComponents(recipe: Recipe, components: readonly string[]): Recipe {
  const r = structuredClone(recipe);
  for (const c of components) {
    if (!(COMPONENTS as readonly string[]).includes(c)) throw new ValueError(`unknown recipe component '${c}' (known: ${COMPONENTS.join(', ')})`);
    if (c === 'normalize') r.normalize = false;
    if (c === 'noise') r.sources = r.sources.filter((s) => s.kind !== 'noisy');
    if (c === 'shift') r.augment = r.augment.filter((a) => a.kind !== 'shift');
    if (c === 'gain') r.augment = r.augment.filter((a) => a.kind !== 'gain');
    if (c === 'masks') r.augment = r.augment.filter((a) => a.kind !== 'timeMask' && a.kind !== 'coefMask');
    if (c === 'smoothing') r.loss.labelSmoothing = 0;
    if (c === 'cosine') r.schedule = 'constant';
    if (c === 'validation') r.validation = false;
  }
  if (components.length) r.name = `${r.name} without ${[...components].sort().join(', ')}`;
  return r;
}

const isProb = (p: number) => p >= 0 && p <= 1;
const isCount = (n: number) => Number.isInteger(n) && n >= 0;

/** Throws a ValueError naming the first thing wrong with `r`; returns it when it is sound. */
export function checkRecipe(r: Recipe): Recipe {
  const bad = (what: string): never => {
    throw new ValueError(`recipe '${r.name}': ${what}`);
  };
  if (!Number.isInteger(r.epochs) || r.epochs < 1) bad(`epochs must be a positive integer, got ${r.epochs}`);
  if (!Number.isInteger(r.batchSize) || r.batchSize < 1) bad(`batchSize must be a positive integer, got ${r.batchSize}`);
  if (!(r.lr > 0 && Number.isFinite(r.lr))) bad(`lr must be a positive number, got ${r.lr}`);
  if (r.schedule !== 'constant' && r.schedule !== 'cosine') bad(`schedule must be 'constant' or 'cosine', got '${String(r.schedule)}'`);
  if (![0, 1, 2].includes(r.deltas)) bad(`deltas must be 0, 1 or 2, got ${r.deltas}`);
  if (typeof r.trim !== 'boolean') bad(`trim must be true or false, got ${String(r.trim)}`);
  if (!(r.loss.labelSmoothing >= 0 && r.loss.labelSmoothing < 1)) bad(`loss.labelSmoothing must be in [0, 1), got ${r.loss.labelSmoothing}`);
  for (const s of r.sources) {
    if (!isProb(s.prob)) bad(`source '${s.kind}': prob must be in [0, 1], got ${s.prob}`);
    if (s.kind === 'noisy' && !(Number.isFinite(s.snrDb[0]) && s.snrDb[0] <= s.snrDb[1] && Number.isFinite(s.snrDb[1]))) bad(`source 'noisy': snrDb must be [low, high] in dB, got [${s.snrDb.join(', ')}]`);
    if (s.kind !== 'noisy' && !(Number.isInteger(s.copies) && s.copies >= 1 && s.copies <= 16)) bad(`source '${s.kind}': copies must be an integer from 1 to 16, got ${s.copies}`);
    if (s.kind === 'enrolled' && !r.speakerNorm) bad("source 'enrolled' (enrolment copies) needs speaker normalisation");
  }
  if (new Set(r.sources.map((s) => s.kind)).size !== r.sources.length) bad('each kind of source may appear once');
  for (const a of r.augment) {
    if (a.kind === 'shift' && !(isCount(a.frames) && a.frames < N_FRAMES)) bad(`augmentation 'shift': frames must be an integer in [0, ${N_FRAMES}), got ${a.frames}`);
    if (a.kind === 'gain' && !(a.db >= 0 && Number.isFinite(a.db))) bad(`augmentation 'gain': db must be a non-negative number, got ${a.db}`);
    if ((a.kind === 'timeMask' || a.kind === 'coefMask') && !(isCount(a.count) && isCount(a.width) && a.width <= (a.kind === 'timeMask' ? N_FRAMES : N_MFCC))) {
      bad(`augmentation '${a.kind}': count and width must be non-negative integers, the width at most the image's`);
    }
  }
  if (new Set(r.augment.map((a) => a.kind)).size !== r.augment.length) bad('each kind of augmentation may appear once');
  return r;
}

/** The augmentation list as the options `augmentClip` takes (absent kinds: 0), or null when there is none. */
export function augmentOptions(list: readonly Augmentation[]): Required<AugmentOptions> | null {
  if (!list.length) return null;
  const o: Required<AugmentOptions> = { maxShift: 0, maxGainDb: 0, timeMasks: 0, maxTimeMask: 0, coefMasks: 0, maxCoefMask: 0 };
  for (const a of list) {
    if (a.kind === 'shift') o.maxShift = a.frames;
    if (a.kind === 'gain') o.maxGainDb = a.db;
    if (a.kind === 'timeMask') [o.timeMasks, o.maxTimeMask] = [a.count, a.width];
    if (a.kind === 'coefMask') [o.coefMasks, o.maxCoefMask] = [a.count, a.width];
  }
  return o;
}
