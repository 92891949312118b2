/**
 * The training loop of the original project (Adam, cross-entropy, shuffled mini-batches), with
 * seeded shuffling and exact resume: a checkpoint holds the model, the optimiser state, the epoch,
 * the best validation epoch's weights, and the states of the shuffling/augmentation generator and
 * of the global one that draws dropout masks, so a killed run continues as if it had never stopped.
 *
 * What the improved recipe adds is an option that defaults to the original's behaviour: input
 * normalisation, other sources of training clips (noisy or enrolment-normalised copies),
 * augmentation, label smoothing and class weights, a cosine learning-rate schedule, and model
 * selection (with early stopping) on validation clips. `prepareRun` (pipeline.ts) builds these
 * options from a recipe.
 */
import { ValueError } from '../tensor/errors.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { Adam } from '../nn/optim/adam.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { EMOTIONS } from './labels.js';
import { type EmotionCNN, N_FRAMES, N_MFCC } from './model.js';
import { type AugmentOptions, augmentClip, c0PerDb, checkAugment } from './augment.js';
import { evaluate } from './metrics.js';
import { type InputNorm, contentFrames } from './normalize.js';
import { CLIP, argmax, argmaxRows, clipLogits } from './scoring.js';


export interface TrainData {
  /** Features of n clips, [n × 40 × 174] row-major. */
  features: Float32Array;
  labels: readonly number[];
}

export interface EpochStats {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  seconds: number;
  samplesPerSecond: number;
  /** The learning rate this epoch ran with. */
  lr: number;
  /** On the validation clips, when there are some. */
  valAccuracy?: number;
  valUar?: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  lr?: number;
  /** Seeds the shuffling (weights are seeded separately, through manualSeed, before the model is built). */
  seed?: number;
  onEpoch?: (stats: EpochStats, checkpoint: () => Uint8Array) => void;
  /** Bytes of a checkpoint to continue from. */
  resume?: Uint8Array;
  /** Applied to every clip the model sees (training, validation), after any noisy copy is drawn. */
  normalizer?: InputNorm | null;
  /** On-the-fly augmentation of training clips; null or absent: none. */
  augment?: AugmentOptions | null;
  /**
   * Per training clip, coefficient 0 of its features in raw c0 units (1 when absent): speaker
   * normalisation divides each speaker's c0 by that speaker's deviation, and a gain augmentation
   * must shrink with it.
   */
  c0Scale?: readonly number[] | null;
  /**
   * Other versions of the training clips (each copy in the layout of `features`): when a clip is
   * drawn, the sources are tried in order, each with its `prob`; the first that fires gives the
   * clip from one of its copies (drawn uniformly), and if none fires the clean clip is used.
   */
  sources?: readonly { copies: readonly Float32Array[]; prob: number }[];
  /** Cross-entropy label smoothing. Default 0. */
  labelSmoothing?: number;
  /**
   * A cross-entropy weight per class (as PyTorch's `weight`); `balancedClassWeights` gives each
   * class the same total weight, so the loss, like UAR, counts every class alike. Default: none.
   */
  classWeights?: readonly number[] | null;
  /** 'cosine': the learning rate follows a half cosine from lr to 0 over the epochs. Default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /**
   * Clips scored after every epoch (by UAR). When given, the weights of the best epoch are restored
   * at the end, and training stops after `patience` epochs without improvement.
   */
  validation?: TrainData | null;
  patience?: number;
}

/** What the improved recipe tracks across epochs for model selection. */
interface BestSoFar {
  epoch: number;
  uar: number;
  weights: Record<string, Tensor>;
}

export interface TrainState {
  optimizer: Adam;
  epoch: number;
  rng: Generator;
  best?: BestSoFar | null;
}

interface BatchRecipe {
  normalizer: InputNorm | null;
  augment: Required<AugmentOptions> | null;
  sources: readonly { copies: readonly Float32Array[]; prob: number }[];
  c0Scale: readonly number[] | null;
}

/** Which version of a training clip to draw: from the first source that fires, or the clean one. */
function sourceOf(data: TrainData, rng: Generator, r: BatchRecipe): Float32Array {
  for (const s of r.sources) {
    if (s.prob > 0 && rng.uniform() < s.prob) return s.copies.length === 1 ? s.copies[0]! : s.copies[rng.int(s.copies.length)]!;
  }
  return data.features;
}

/** The clips at `idx`, each drawn from its source, normalised and augmented, as [n × 40 × 174] values. */
function batchOf(data: TrainData, idx: number[], rng: Generator, r: BatchRecipe): { x: Float32Array; y: number[] } {
  const x = new Float32Array(idx.length * CLIP);
  idx.forEach((j, i) => {
    const src = sourceOf(data, rng, r);
    x.set(src.subarray(j * CLIP, (j + 1) * CLIP), i * CLIP);
    if (!r.normalizer && !r.augment) return;
    const frames = contentFrames(x, i * CLIP);
    r.normalizer?.applyClip(x, i * CLIP, frames);
    if (r.augment) augmentClip(x, i * CLIP, frames, rng, r.augment, c0PerDb(r.normalizer?.std[0] ?? 1) * (r.c0Scale?.[j] ?? 1));
  });
  return { x, y: idx.map((j) => data.labels[j]!) };
}

const copyWeights = (model: EmotionCNN): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, tensor(Float32Array.from(t.toArray()), [...t.shape])]));

/** The rate of `epoch` (0-based): constant, or a half cosine from `base` to 0 over the epochs. */
function learningRate(base: number, schedule: 'constant' | 'cosine', epoch: number, epochs: number): number {
  return schedule === 'cosine' ? (base * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2 : base;
}

export function checkData(data: TrainData, what: string): number {
  const n = data.labels.length;
  if (n === 0) throw new ValueError(`${what}: no clips`);
  if (data.features.length !== n * CLIP) throw new ValueError(`${what}: ${data.features.length} feature values for ${n} clips (expected ${n * CLIP})`);
  data.labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= EMOTIONS.length) throw new ValueError(`${what}: label ${l} of clip ${i} is not a class index`);
  });
  return n;
}

/** Serialises everything needed to resume into one safetensors file. */
export function saveCheckpoint(model: EmotionCNN, s: TrainState): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
  for (const [k, t] of Object.entries(s.optimizer.stateDict())) tensors[`optim.${k}`] = t;
  for (const [k, t] of Object.entries(s.best?.weights ?? {})) tensors[`best.${k}`] = t;
  return saveSafetensors(tensors, {
    isInteger: (k) => k.endsWith('num_batches_tracked'),
    metadata: {
      kind: 'ser-ts checkpoint', epoch: String(s.epoch), step: String(s.optimizer.stepCount), lr: String(s.optimizer.learningRate),
      rng: JSON.stringify(s.rng.getState()), dropoutRng: JSON.stringify(defaultGenerator.getState()),
      ...(s.best ? { bestEpoch: String(s.best.epoch), bestUar: String(s.best.uar) } : {}),
    },
  });
}

/** Restores a checkpoint into `model`; returns the optimiser, epoch and generator to continue with. */
export function loadCheckpoint(model: EmotionCNN, bytes: Uint8Array, lr: number): TrainState {
  const { tensors, metadata } = loadSafetensors(bytes);
  if (metadata.kind !== 'ser-ts checkpoint') throw new ValueError('resume: the file is not a ser-ts training checkpoint');
  // written by versions that had weight averaging or AdamW in training: continuing with plain Adam would be another run
  if (metadata.weightDecay !== undefined || metadata.swaCount !== undefined) throw new ValueError('resume: the checkpoint was trained with weight decay or weight averaging, which training no longer offers');
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  model.loadStateDict(pick('model.'));
  const optimizer = new Adam(model.parameters(), { lr });
  optimizer.loadStateDict(pick('optim.'), Number(metadata.step));
  const rng = new Generator();
  if (!metadata.rng) throw new ValueError('resume: the checkpoint holds no generator state');
  rng.setState(JSON.parse(metadata.rng) as number[]);
  if (metadata.dropoutRng) defaultGenerator.setState(JSON.parse(metadata.dropoutRng) as number[]);
  const best = metadata.bestEpoch ? { epoch: Number(metadata.bestEpoch), uar: Number(metadata.bestUar), weights: pick('best.') } : null;
  return { optimizer, epoch: Number(metadata.epoch), rng, best };
}

/**
 * Trains `model` in place; returns the per-epoch statistics. With validation clips, the model ends
 * with the weights of its best validation epoch.
 */
export function train(model: EmotionCNN, data: TrainData, opts: TrainOptions): EpochStats[] {
  const n = checkData(data, 'train');
  const batchSize = opts.batchSize ?? 32;
  const lr = opts.lr ?? 5e-4;
  const schedule = opts.schedule ?? 'constant';
  const patience = opts.patience ?? Infinity;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new ValueError(`train: epochs must be a positive integer, got ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`train: batchSize must be a positive integer, got ${batchSize}`);
  if (schedule !== 'constant' && schedule !== 'cosine') throw new ValueError(`train: schedule must be 'constant' or 'cosine', got '${String(schedule)}'`);
  if (!(patience >= 1)) throw new ValueError(`train: patience must be at least 1, got ${patience}`);
  if (opts.validation) checkData(opts.validation, 'validation');
  const sources = opts.sources ?? [];
  sources.forEach((s, i) => {
    if (!(s.prob >= 0 && s.prob <= 1)) throw new ValueError(`train: source ${i + 1}'s prob must be in [0, 1], got ${s.prob}`);
    if (!s.copies.length) throw new ValueError(`train: source ${i + 1} has no copies`);
    if (s.copies.some((c) => c.length !== data.features.length)) throw new ValueError(`train: every copy of source ${i + 1} needs ${data.features.length} feature values, as many as the clean clips`);
  });
  if (opts.c0Scale && opts.c0Scale.length !== n) throw new ValueError(`train: ${opts.c0Scale.length} c0 scales for ${n} clips`);
  if (opts.classWeights && opts.classWeights.length !== EMOTIONS.length) throw new ValueError(`train: ${opts.classWeights.length} class weights for ${EMOTIONS.length} classes`);
  const recipe: BatchRecipe = { normalizer: opts.normalizer ?? null, augment: opts.augment ? checkAugment(opts.augment) : null, sources, c0Scale: opts.c0Scale ?? null };
  const state: TrainState = opts.resume ? loadCheckpoint(model, opts.resume, lr) : { optimizer: new Adam(model.parameters(), { lr }), epoch: 0, rng: new Generator(opts.seed ?? 0), best: null };
  const history: EpochStats[] = [];
  while (state.epoch < opts.epochs && !(state.best && state.epoch - state.best.epoch >= patience)) {
    const t0 = performance.now();
    state.optimizer.learningRate = learningRate(lr, schedule, state.epoch, opts.epochs);
    model.train();
    const order = state.rng.shuffle([...Array(n).keys()]);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b < n; b += batchSize) {
      const { x, y } = batchOf(data, order.slice(b, b + batchSize), state.rng, recipe);
      state.optimizer.zeroGrad();
      const logits = model.forward(tensor(x, [y.length, 1, N_MFCC, N_FRAMES]));
      const loss = crossEntropy(logits, y, { labelSmoothing: opts.labelSmoothing ?? 0, weight: opts.classWeights ?? undefined });
      loss.backward();
      state.optimizer.step();
      lossSum += loss.item() * y.length;
      const l = logits.toArray();
      y.forEach((t, i) => (correct += Number(argmax(l, i * EMOTIONS.length, EMOTIONS.length) === t)));
    }
    state.epoch++;
    const seconds = (performance.now() - t0) / 1000;
    const stats: EpochStats = {
      epoch: state.epoch, epochs: opts.epochs, loss: lossSum / n, accuracy: correct / n, seconds, samplesPerSecond: n / seconds,
      lr: state.optimizer.learningRate,
    };
    if (opts.validation) {
      const v = opts.validation;
      const report = evaluate([...v.labels], predictLabels(model, v.features, 64, recipe.normalizer), EMOTIONS.length);
      stats.valAccuracy = report.accuracy;
      stats.valUar = report.uar;
      if (!state.best || report.uar > state.best.uar) state.best = { epoch: state.epoch, uar: report.uar, weights: copyWeights(model) };
    }
    history.push(stats);
    opts.onEpoch?.(stats, () => saveCheckpoint(model, state));
  }
  if (state.best) model.loadStateDict(state.best.weights);
  return history;
}

/**
 * Class weights n / (classes · n_c), scikit-learn's "balanced": every class then weighs the same in
 * the loss (RAVDESS has half as many neutral clips as any other emotion). A class without clips
 * gets weight 0.
 */
export function balancedClassWeights(labels: readonly number[], classes: number = EMOTIONS.length): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new ValueError(`balancedClassWeights: label ${l} is not a class index in [0, ${classes})`);
    counts[l]!++;
  }
  return counts.map((c) => (c ? labels.length / (classes * c) : 0));
}

/** The epoch whose weights `train` kept: the best validation epoch, or the last one. */
export function keptEpoch(history: readonly EpochStats[]): EpochStats | undefined {
  if (!history.some((h) => h.valUar !== undefined)) return history.at(-1);
  return history.reduce((b, h) => ((h.valUar ?? -1) > (b.valUar ?? -1) ? h : b));
}

/** Predicted class of every clip, in eval mode, in batches. */
export function predictLabels(model: EmotionCNN, features: Float32Array, batchSize = 64, normalizer: InputNorm | null = null): number[] {
  return argmaxRows(clipLogits(model, features, batchSize, normalizer), EMOTIONS.length);
}
