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
import { tidy } from '../tensor/memory.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { Adam } from '../nn/optim/adam.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { crc32 } from '../nn/checksum.js';
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
  /** What the run depends on (trainSettings), stored in the checkpoint so a resume can be checked against it. */
  settings?: Record<string, string>;
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

/**
 * Everything a run's result depends on besides the model's initial weights, as short strings:
 * hyperparameters as they are, arrays (the clips, labels, copies, normaliser, class weights) by
 * their CRC-32. A checkpoint records them, and resuming with any of them changed is refused.
 */
export function trainSettings(data: TrainData, opts: TrainOptions): Record<string, string> {
  const f32 = (a: ArrayLike<number>) => crc32(Float32Array.from(a));
  return {
    clips: `${data.labels.length} clips, features ${crc32(data.features)}, labels ${f32(data.labels)}`,
    seed: String(opts.seed ?? 0), lr: String(opts.lr ?? 5e-4), batchSize: String(opts.batchSize ?? 32),
    // a constant rate makes a longer run the same run continued; a cosine one spreads over the epochs
    epochs: opts.schedule === 'cosine' ? String(opts.epochs) : 'any (constant rate)',
    schedule: opts.schedule ?? 'constant', labelSmoothing: String(opts.labelSmoothing ?? 0),
    classWeights: opts.classWeights ? opts.classWeights.join(',') : 'none',
    augment: opts.augment ? JSON.stringify(checkAugment(opts.augment)) : 'none',
    sources: (opts.sources ?? []).map((s) => `${s.prob}:${s.copies.map((c) => crc32(c)).join('+')}`).join(' ') || 'none',
    normalizer: opts.normalizer ? crc32(opts.normalizer.mean, opts.normalizer.std) : 'none',
    c0Scale: opts.c0Scale ? f32(opts.c0Scale) : 'none',
    validation: opts.validation ? `${opts.validation.labels.length} clips, ${crc32(opts.validation.features)}` : 'none',
  };
}

/** CRC-32 of a checkpoint's tensors (in key order) and its metadata other than the checksum itself. */
function checkpointChecksum(tensors: Record<string, Tensor>, metadata: Record<string, string>): string {
  const keys = Object.keys(tensors).sort();
  const meta = Object.keys(metadata).filter((k) => k !== 'checksum').sort().map((k) => [k, metadata[k]]);
  return crc32(JSON.stringify(keys), JSON.stringify(meta), ...keys.map((k) => tensors[k]!.toArray()));
}

/** Serialises everything needed to resume into one safetensors file, with a checksum over all of it. */
export function saveCheckpoint(model: EmotionCNN, s: TrainState): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
  for (const [k, t] of Object.entries(s.optimizer.stateDict())) tensors[`optim.${k}`] = t;
  for (const [k, t] of Object.entries(s.best?.weights ?? {})) tensors[`best.${k}`] = t;
  const metadata: Record<string, string> = {
    kind: 'ser-ts checkpoint', epoch: String(s.epoch), step: String(s.optimizer.stepCount), lr: String(s.optimizer.learningRate),
    rng: JSON.stringify(s.rng.getState()), dropoutRng: JSON.stringify(defaultGenerator.getState()),
    ...(s.best ? { bestEpoch: String(s.best.epoch), bestUar: String(s.best.uar) } : {}),
    ...(s.settings ? { settings: JSON.stringify(s.settings) } : {}),
  };
  metadata.checksum = checkpointChecksum(tensors, metadata);
  return saveSafetensors(tensors, { isInteger: (k) => k.endsWith('num_batches_tracked'), metadata });
}

/**
 * Restores a checkpoint into `model`; returns the optimiser, epoch and generator to continue with.
 * A checkpoint whose checksum does not match (damaged or edited) is refused, and so is one made with
 * other `settings` (trainSettings of this run), naming what differs.
 */
export function loadCheckpoint(model: EmotionCNN, bytes: Uint8Array, lr: number, settings?: Record<string, string>): TrainState {
  const { tensors, metadata } = loadSafetensors(bytes);
  if (metadata.kind !== 'ser-ts checkpoint') throw new ValueError('resume: the file is not a ser-ts training checkpoint');
  // written by versions that had weight averaging or AdamW in training: continuing with plain Adam would be another run
  if (metadata.weightDecay !== undefined || metadata.swaCount !== undefined) throw new ValueError('resume: the checkpoint was trained with weight decay or weight averaging, which training no longer offers');
  if (metadata.checksum === undefined) throw new ValueError('resume: the checkpoint has no checksum (written by an older version): start the run again');
  if (metadata.checksum !== checkpointChecksum(tensors, metadata)) throw new ValueError('resume: the checkpoint is damaged or was edited (its checksum does not match)');
  if (settings) {
    let saved: Record<string, string>;
    try {
      saved = JSON.parse(metadata.settings ?? '{}') as Record<string, string>;
    } catch {
      throw new ValueError('resume: the checkpoint\'s settings are not JSON');
    }
    const changed = Object.keys(settings).filter((k) => saved[k] !== settings[k]);
    if (changed.length) {
      throw new ValueError(`resume: the checkpoint was made with other settings: ${changed.map((k) => `${k} ${saved[k] ?? '(unrecorded)'}, this run ${settings[k]}`).join('; ')}`);
    }
  }
  const epoch = Number(metadata.epoch);
  const step = Number(metadata.step);
  if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(step) || step < 0) throw new ValueError(`resume: the checkpoint's epoch '${metadata.epoch}' or step '${metadata.step}' is not a count`);
  for (const [k, t] of Object.entries(tensors)) {
    if (!t.toArray().every(Number.isFinite)) throw new ValueError(`resume: the checkpoint's ${k} holds values that are not finite`);
  }
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  model.loadStateDict(pick('model.'));
  const optimizer = new Adam(model.parameters(), { lr });
  optimizer.loadStateDict(pick('optim.'), step);
  const rng = new Generator();
  if (!metadata.rng) throw new ValueError('resume: the checkpoint holds no generator state');
  rng.setState(JSON.parse(metadata.rng) as number[]);
  if (metadata.dropoutRng) defaultGenerator.setState(JSON.parse(metadata.dropoutRng) as number[]);
  const best = metadata.bestEpoch ? { epoch: Number(metadata.bestEpoch), uar: Number(metadata.bestUar), weights: pick('best.') } : null;
  return { optimizer, epoch, rng, best, settings };
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
  const settings = trainSettings(data, opts);
  const state: TrainState = opts.resume
    ? loadCheckpoint(model, opts.resume, lr, settings)
    : { optimizer: new Adam(model.parameters(), { lr }), epoch: 0, rng: new Generator(opts.seed ?? 0), best: null, settings };
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
      // one scope per step: the step's activations, gradients and temporaries are released at its end (on the GPU, textures)
      const { lossValue, l } = tidy(() => {
        state.optimizer.zeroGrad();
        const logits = model.forward(tensor(x, [y.length, 1, N_MFCC, N_FRAMES]));
        const loss = crossEntropy(logits, y, { labelSmoothing: opts.labelSmoothing ?? 0, weight: opts.classWeights ?? undefined });
        const value = loss.item();
        // a step on a NaN or infinite loss would spread it through every weight: stop and say where
        if (!Number.isFinite(value)) throw new ValueError(`train: the loss is ${value} at epoch ${state.epoch + 1}, batch ${b / batchSize + 1} (training clips ${order.slice(b, b + batchSize).slice(0, 8).join(', ')}${y.length > 8 ? ', …' : ''}): the input or the weights hold values that are not finite, or the learning rate is too high`);
        loss.backward();
        state.optimizer.step();
        state.optimizer.zeroGrad();
        return { lossValue: value, l: logits.toArray() };
      });
      lossSum += lossValue * y.length;
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
