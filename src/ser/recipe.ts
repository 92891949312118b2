/**
 * Training recipes: the original project's, kept exact, and the improved one that stays within the
 * EmotionCNN family and MFCC input. A recipe is plain data so that a report can record it and an
 * ablation can switch single components off (`withoutComponents`).
 */
import { ValueError } from '../tensor/errors.js';
import { type AugmentOptions, DEFAULT_AUGMENT } from './augment.js';

export interface Recipe {
  name: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Per-coefficient standardisation fitted on the training clips. */
  normalize: boolean;
  /** Noisy copies of training clips (white noise at an SNR drawn from `noiseSnrDb`), drawn with `noiseProb`. */
  noise: boolean;
  noiseProb: number;
  noiseSnrDb: [number, number];
  augment: AugmentOptions | null;
  labelSmoothing: number;
  /** Mixup's α (0: off); see TrainOptions.mixup. */
  mixup: number;
  /** Speed-perturbation factors (none: off), drawn with `speedProb`; see TrainOptions.speed. */
  speed: number[];
  speedProb: number;
  /** Each speaker's clips standardised with that speaker's own statistics (speakerNorms). */
  speakerNorm: boolean;
  /**
   * With speakerNorm: this many extra copies of the training clips, copy e normalised with
   * statistics of only 1, 2, 4 or 8 (e mod 4) random clips of each speaker, shrunk toward the
   * training speakers' as enrolment does; drawn half the time (0: off).
   */
  enrolmentCopies?: number;
  /** Cross-entropy class weights that count every class alike (balancedClassWeights of the training labels); absent: off. */
  balance?: boolean;
  /** Δ (1) or Δ and ΔΔ (2) of the MFCC as extra input channels of the model (EmotionCNN's `deltas`); absent: 0. */
  deltas?: number;
  /** Chance that a training clip is re-coloured with another training speaker's statistics (TrainOptions.speakerSwap); absent: off. */
  speakerSwap?: number;
  /** Stochastic weight averaging over the last `epochs` epochs at the constant rate `lr` (TrainOptions.swa); absent: off. */
  swa?: { epochs: number; lr: number };
  /**
   * Distillation from teacher weights files (TrainOptions.distill); `{fold}` in a path stands for
   * the fold number, so each fold's student learns from teachers trained on its own training side.
   */
  distill?: { teachers: string[]; weight: number; temperature: number };
  /** AdamW's decoupled weight decay (TrainOptions.weightDecay); absent: plain Adam. */
  weightDecay?: number;
  /** The dropout before fc2 (EmotionCNN's `dropout`); absent: the model's default, 0.3. */
  dropout?: number;
  schedule: 'constant' | 'cosine';
  /** Hold validation clips out of the training side and keep the best epoch by validation UAR. */
  validation: boolean;
}

export const RECIPES: Record<'original' | 'improved' | 'heavy', Recipe> = {
  original: {
    name: 'original', epochs: 40, batchSize: 32, lr: 5e-4, normalize: false, noise: false, noiseProb: 0, noiseSnrDb: [10, 30],
    augment: null, labelSmoothing: 0, mixup: 0, speed: [], speedProb: 0, speakerNorm: false, schedule: 'constant', validation: false,
  },
  improved: {
    name: 'improved', epochs: 40, batchSize: 32, lr: 5e-4, normalize: true, noise: true, noiseProb: 0.3, noiseSnrDb: [15, 35],
    augment: { maxShift: 10, maxGainDb: 6, timeMasks: 1, maxTimeMask: 10, coefMasks: 1, maxCoefMask: 3 },
    labelSmoothing: 0.1, mixup: 0, speed: [], speedProb: 0, speakerNorm: false, schedule: 'cosine', validation: true,
  },
  /** The first improved recipe tried: stronger augmentation, 30 epochs. It underfitted (see the README). */
  heavy: {
    name: 'heavy', epochs: 30, batchSize: 32, lr: 5e-4, normalize: true, noise: true, noiseProb: 0.5, noiseSnrDb: [10, 30],
    augment: { ...DEFAULT_AUGMENT }, labelSmoothing: 0.1, mixup: 0, speed: [], speedProb: 0, speakerNorm: false, schedule: 'cosine', validation: true,
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
  const aug = { ...DEFAULT_AUGMENT, ...(r.augment ?? {}) };
  for (const c of components) {
    if (!(COMPONENTS as readonly string[]).includes(c)) throw new ValueError(`unknown recipe component '${c}' (known: ${COMPONENTS.join(', ')})`);
    if (c === 'normalize') r.normalize = false;
    if (c === 'noise') r.noise = false;
    if (c === 'shift') aug.maxShift = 0;
    if (c === 'gain') aug.maxGainDb = 0;
    if (c === 'masks') aug.timeMasks = aug.coefMasks = 0;
    if (c === 'smoothing') r.labelSmoothing = 0;
    if (c === 'cosine') r.schedule = 'constant';
    if (c === 'validation') r.validation = false;
  }
  if (r.augment) r.augment = aug.maxShift || aug.maxGainDb || aug.timeMasks || aug.coefMasks ? aug : null;
  if (components.length) r.name = `${r.name} without ${[...components].sort().join(', ')}`;
  return r;
}
