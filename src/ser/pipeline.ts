/**
 * From a recipe, a corpus and a split to a trained model: the one path every training run takes
 * (`ser train`, `examples/train.ts`, tests). `prepareRun` fits everything the recipe fits on the
 * training side only (input normalisation, speaker statistics, validation actors), builds the
 * other sources of training clips, and says how to write the weights file; `runTraining` trains
 * and scores the test clips. No file access here: what needs the waveforms (noisy copies) comes
 * through `Waveforms`, which the Node layer implements with its feature cache.
 */
import { manualSeed } from '../tensor/random.js';
import { ValueError } from '../tensor/errors.js';
import { EMOTIONS } from './labels.js';
import { EmotionCNN } from './model.js';
import { subset } from './features.js';
import { evaluate, type Report } from './metrics.js';
import { InputNorm, applySpeakerNorms, enrolmentNorms, speakerNorms } from './normalize.js';
import { DEFAULT_PRIOR_SECONDS, secondsToFrames } from './predict.js';
import { type Recipe, augmentOptions, checkRecipe } from './recipe.js';
import { type Split, validationSplit } from './splits.js';
import { type EpochStats, type TrainData, type TrainOptions, balancedClassWeights, keptEpoch, predictLabels, train } from './train.js';
import { encodeWeights } from './weights-file.js';

/** Labelled clips: [n × 40 × 174] MFCC features, each clip's class and speaker. */
export interface Corpus {
  features: Float32Array;
  labels: readonly number[];
  actors: readonly number[];
}

/** What only the waveforms can give: copies of the clips at `indices` (raw MFCC features). */
export interface Waveforms {
  /** One copy of each clip with white noise. */
  noisy(indices: readonly number[], opts: { seed: number; snrDb: [number, number] }): Float32Array;
  /** `copies` copies of each clip under drawn recording conditions (babble from the other clips at `indices`, of other speakers). */
  degraded?(indices: readonly number[], opts: { seed: number; copies: number }): Float32Array[];
}

export interface RunOptions {
  /** Seeds the weights, the shuffling, the augmentation, the noise and the validation actors. Default 0. */
  seed?: number;
  /** What the split is called in logs and in the weights file ('fold 3 (test actors …)'). */
  label?: string;
  /** The protocol's name, for the weights file ('folds', 'random', 'actors', 'all'). */
  protocol?: string;
  /** Validation by whole actors (speaker-independent protocols) or a stratified 10% (random). Default true. */
  byActor?: boolean;
  /** The validation actors, instead of one male and one female drawn from the training side. */
  valActors?: readonly number[];
  /** Stop after this many epochs without a better validation UAR. */
  patience?: number;
  /** Required by recipes with a noisy source. */
  waveforms?: Waveforms;
}

/** A run ready to train: the data and options `train` takes, and what the weights file will record. */
export interface PreparedRun {
  recipe: Recipe;
  seed: number;
  label: string;
  protocol: string;
  trainIdx: number[];
  valIdx: number[];
  valActors: number[];
  testIdx: number[];
  data: TrainData;
  options: Omit<TrainOptions, 'onEpoch' | 'resume'>;
  normalizer: InputNorm | null;
  /** With speaker normalisation: the training speakers' pooled raw statistics (what enrolment shrinks toward). */
  speakerPrior: InputNorm | null;
  /** The test clips as the model sees them (standardised per speaker when the recipe says). */
  test: { features: Float32Array; labels: number[] };
  /** What was decided beyond the recipe, for the log (validation switched off, say). */
  notes: string[];
  /** A fresh model for this run, its weights seeded. */
  newModel(): EmotionCNN;
  /** The weights file for a model trained by this run. */
  encode(model: EmotionCNN): Uint8Array;
}

export function prepareRun(recipe: Recipe, corpus: Corpus, split: Split, opts: RunOptions = {}): PreparedRun {
  checkRecipe(recipe);
  const seed = opts.seed ?? 0;
  const n = corpus.labels.length;
  if (corpus.features.length !== n * 40 * 174 || corpus.actors.length !== n) throw new ValueError(`prepareRun: the corpus has ${corpus.features.length} feature values, ${n} labels and ${corpus.actors.length} speakers`);
  const notes: string[] = [];
  // every clip is standardised with its own speaker's statistics (test speakers' from their unlabelled clips)
  const spk = recipe.speakerNorm ? speakerNorms(corpus.features, corpus.actors) : null;
  const features = spk ? applySpeakerNorms(corpus.features, corpus.actors, spk) : corpus.features;
  const perClip = (copies: Float32Array, idx: readonly number[]) => (spk ? applySpeakerNorms(copies, idx.map((j) => corpus.actors[j]!), spk) : copies);

  let validation = recipe.validation;
  if (validation && !split.test.length && !opts.valActors) {
    notes.push('every clip is a training clip; without validation actors there is no validation, the last epoch is kept');
    validation = false;
  }
  const val = validation
    ? validationSplit(split.train, corpus.labels, corpus.actors, { byActor: opts.byActor ?? true, valActors: opts.valActors, seed })
    : { train: split.train, validation: [], valActors: [] };
  const trainLabels = val.train.map((j) => corpus.labels[j]!);
  const trainSpeakers = val.train.map((j) => corpus.actors[j]!);
  const trainFeatures = subset(features, val.train);
  const normalizer = recipe.normalize ? InputNorm.fit(trainFeatures) : null;
  const speakerPrior = spk ? InputNorm.fit(subset(corpus.features, val.train)) : null;

  const sources: NonNullable<TrainOptions['sources']>[number][] = recipe.sources.map((s) => {
    if (s.kind === 'noisy') {
      if (!opts.waveforms) throw new ValueError(`recipe '${recipe.name}' draws noisy copies, which need the waveforms (RunOptions.waveforms)`);
      return { prob: s.prob, copies: [perClip(opts.waveforms.noisy(val.train, { seed, snrDb: s.snrDb }), val.train)] };
    }
    if (s.kind === 'degraded') {
      if (!opts.waveforms?.degraded) throw new ValueError(`recipe '${recipe.name}' draws degraded copies, which need the waveforms (RunOptions.waveforms.degraded)`);
      return { prob: s.prob, copies: opts.waveforms.degraded(val.train, { seed, copies: s.copies }).map((c) => perClip(c, val.train)) };
    }
    // normalised as an enrolled speaker is: statistics from 1, 2, 4 or 8 clips, shrunk toward the training speakers'
    const raw = subset(corpus.features, val.train);
    const prior = { norm: speakerPrior!, frames: secondsToFrames(DEFAULT_PRIOR_SECONDS) };
    const copies = Array.from({ length: s.copies }, (_, e) => applySpeakerNorms(raw, trainSpeakers, enrolmentNorms(raw, trainSpeakers, [1, 2, 4, 8][e % 4]!, seed * 1000 + e, prior)));
    return { prob: s.prob, copies };
  });

  const label = opts.label ?? 'split';
  const protocol = opts.protocol ?? 'custom';
  return {
    recipe, seed, label, protocol, notes,
    trainIdx: val.train, valIdx: val.validation, valActors: val.valActors, testIdx: split.test,
    data: { features: trainFeatures, labels: trainLabels },
    options: {
      epochs: recipe.epochs, batchSize: recipe.batchSize, lr: recipe.lr, seed, schedule: recipe.schedule, patience: opts.patience,
      normalizer, sources, augment: augmentOptions(recipe.augment),
      // speaker normalisation divides each speaker's c0 by that speaker's deviation: a gain must shrink with it
      c0Scale: spk ? trainSpeakers.map((s) => 1 / spk.get(s)!.std[0]!) : null,
      labelSmoothing: recipe.loss.labelSmoothing, classWeights: recipe.loss.balance ? balancedClassWeights(trainLabels) : null,
      validation: val.validation.length ? { features: subset(features, val.validation), labels: val.validation.map((j) => corpus.labels[j]!) } : null,
    },
    normalizer, speakerPrior,
    test: { features: subset(features, split.test), labels: split.test.map((j) => corpus.labels[j]!) },
    newModel: () => {
      manualSeed(seed);
      return new EmotionCNN({ deltas: recipe.deltas });
    },
    encode: (model) => encodeWeights(model, { normalizer, trim: recipe.trim, speakerNorm: !!speakerPrior, speakerPrior, training: { recipe, protocol, split: label, seed } }),
  };
}

export interface TrainedRun {
  model: EmotionCNN;
  history: EpochStats[];
  /** The epoch whose weights the model ends with (the best validation epoch, or the last). */
  kept: EpochStats | undefined;
  /** On the test clips, when the split has some. */
  report: Report | null;
}

/** Trains a prepared run (resuming from `resume`, a checkpoint's bytes) and scores its test clips. */
export function runTraining(run: PreparedRun, opts: Pick<TrainOptions, 'onEpoch' | 'resume'> = {}): TrainedRun {
  const model = run.newModel();
  const history = train(model, run.data, { ...run.options, ...opts });
  const report = run.testIdx.length ? evaluate(run.test.labels, predictLabels(model, run.test.features, 64, run.normalizer), EMOTIONS.length) : null;
  return { model, history, kept: keptEpoch(history), report };
}
