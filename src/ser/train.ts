/**
 * The training loop of the original project (Adam, cross-entropy, shuffled mini-batches), with
 * seeded shuffling and exact resume: a checkpoint holds the model, the optimiser state, the epoch,
 * the best validation epoch's weights, and the states of the shuffling/augmentation generator and
 * of the global one that draws dropout masks, so a killed run continues as if it had never stopped.
 *
 * Everything the improved recipe adds is an option that defaults to the original's behaviour:
 * input normalisation, augmentation, noisy copies, label smoothing, a cosine learning-rate
 * schedule, model selection (with early stopping) on validation clips, weight averaging, and
 * decoupled weight decay (AdamW).
 */
import { ValueError } from '../tensor/errors.js';
import { noGrad } from '../tensor/autograd.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { add, mul } from '../tensor/ops/elementwise.js';
import { softmax } from '../tensor/ops/softmax.js';
import { Adam, AdamW } from '../nn/optim/adam.js';
import { WeightAverage, updateBatchNorm } from '../nn/swa.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { EMOTIONS } from './labels.js';
import { type EmotionCNN, N_FRAMES, N_MFCC } from './model.js';
import { type AugmentOptions, augmentClip, c0PerDb, checkAugment } from './augment.js';
import { evaluate } from './metrics.js';
import { type InputNorm, contentFrames } from './normalize.js';

const CLIP = N_MFCC * N_FRAMES;

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
  /** Noisy copies of the training clips (same layout as `features`), drawn with `noiseProb`. */
  noisy?: Float32Array | null;
  /** Chance that a training clip is drawn as its noisy copy. Default 0.5 when `noisy` is given. */
  noiseProb?: number;
  /**
   * Speed-perturbed copies of the training clips (each the layout of `features`), one per factor;
   * with `speedProb` a clip is drawn as one of them (uniformly), else clean or noisy as usual.
   */
  speed?: readonly Float32Array[] | null;
  /** Default 0.5 when `speed` is given. */
  speedProb?: number;
  /**
   * Copies of the training clips normalised with statistics of a few of their speaker's clips
   * (enrolmentNorms) instead of all of them, so that a model trained with speaker normalisation
   * sees the noisier statistics an enrolled speaker brings; drawn (uniformly) with `enrolledProb`,
   * before speed and noise are considered.
   */
  enrolled?: readonly Float32Array[] | null;
  /** Default 0.5 when `enrolled` is given. */
  enrolledProb?: number;
  /**
   * Speaker-statistics swap, an augmentation against speaker mismatch: with chance `prob` a
   * training clip is re-coloured (InputNorm.recolourClip) from its own speaker's statistics to
   * those of another training speaker drawn uniformly, so that the model meets each emotion under
   * many speakers' cepstral means and spreads, not only the 20 or so it trains on. Applied to the
   * raw clip, before `normalizer`; test clips are untouched, so scoring stays one clip at a time.
   * `speakers`: the speaker of each training clip; `norms`: every one of them's statistics
   * (speakerNorms of the raw training clips). Default: off.
   */
  speakerSwap?: { speakers: readonly number[]; norms: ReadonlyMap<number, InputNorm>; prob: number } | null;
  /** Cross-entropy label smoothing. Default 0. */
  labelSmoothing?: number;
  /**
   * A cross-entropy weight per class (as PyTorch's `weight`); `balancedClassWeights` gives each
   * class the same total weight, so the loss, like UAR, counts every class alike. Default: none.
   */
  classWeights?: readonly number[] | null;
  /**
   * Mixup: each batch is blended with a shuffled copy of itself, x = λ·x + (1 − λ)·x[perm], and the
   * loss is λ·CE(y) + (1 − λ)·CE(y[perm]), with λ ~ Beta(α, α) per batch. This is α; 0 or absent: off.
   */
  mixup?: number;
  /** 'cosine': the learning rate follows a half cosine from lr to 0 over the epochs. Default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /**
   * Clips scored after every epoch (by UAR). When given, the weights of the best epoch are restored
   * at the end, and training stops after `patience` epochs without improvement.
   */
  validation?: TrainData | null;
  patience?: number;
  /**
   * Stochastic weight averaging: the last `epochs` epochs run at the constant rate `lr` (the
   * schedule before them ends there instead of at 0), the weights at the end of each are averaged,
   * and the model ends with that average and batch-norm statistics recomputed for it on the clean
   * (normalised, unaugmented) training clips. Not with `validation`. Default: off.
   */
  swa?: { epochs: number; lr: number } | null;
  /**
   * Knowledge distillation (Hinton et al., 2015): the teachers score every training batch in eval
   * mode, on the very input the student sees (augmented, normalised), and the loss becomes
   * (1 − weight)·CE(labels) + weight·T²·CE(student logits / T, mean of the teachers' softmax(logits / T)).
   * Teachers trained on the same training clips (other seeds, say) pass on what an ensemble of
   * them knows without a test clip being involved. Default: off.
   */
  distill?: Distill | null;
  /**
   * Decoupled weight decay, as torch.optim.AdamW's `weight_decay`: every step also shrinks each
   * parameter by lr · weightDecay · p (all parameters, as PyTorch does for `model.parameters()`).
   * 0 or absent: plain Adam, the original's optimiser.
   */
  weightDecay?: number;
}

export interface Distill {
  teachers: readonly EmotionCNN[];
  /** The soft targets' share of the loss, in [0, 1]. */
  weight: number;
  /** T > 0; 1 is the teachers' own probabilities, larger flattens them. */
  temperature: number;
}

function checkDistill(d: TrainOptions['distill']): Distill | null {
  if (!d) return null;
  if (!d.teachers.length) throw new ValueError('train: distill needs at least one teacher');
  if (!(d.weight >= 0 && d.weight <= 1)) throw new ValueError(`train: distill.weight must be in [0, 1], got ${d.weight}`);
  if (!(d.temperature > 0 && Number.isFinite(d.temperature))) throw new ValueError(`train: distill.temperature must be a positive number, got ${d.temperature}`);
  for (const t of d.teachers) t.eval();
  return d;
}

/** The teachers' mean softened probabilities for a batch, [n, classes], as a constant. */
function teacherTargets(d: Distill, x: Tensor): Tensor {
  return noGrad(() => {
    const probs = d.teachers.map((t) => softmax(mul(t.forward(x), 1 / d.temperature), 1).toArray());
    const mean = new Float32Array(probs[0]!.length);
    for (const p of probs) for (let j = 0; j < mean.length; j++) mean[j]! += p[j]! / probs.length;
    return tensor(mean, [x.shape[0]!, mean.length / x.shape[0]!]);
  });
}

function checkSwa(swa: TrainOptions['swa'], epochs: number, validation: boolean): { epochs: number; lr: number } | null {
  if (!swa) return null;
  if (!Number.isInteger(swa.epochs) || swa.epochs < 1 || swa.epochs > epochs) throw new ValueError(`train: swa.epochs must be an integer in [1, ${epochs}] (the epochs), got ${swa.epochs}`);
  if (!(swa.lr > 0 && Number.isFinite(swa.lr))) throw new ValueError(`train: swa.lr must be a positive number, got ${swa.lr}`);
  if (validation) throw new ValueError('train: swa averages the last epochs, validation keeps the best one: use one or the other');
  return swa;
}

/** Validates TrainOptions.speakerSwap and lists, for every speaker, the other speakers' statistics; null when off. */
function checkSpeakerSwap(swap: TrainOptions['speakerSwap'], n: number): BatchRecipe['swap'] {
  if (!swap || swap.prob === 0) return null;
  if (!(swap.prob > 0 && swap.prob <= 1)) throw new ValueError(`train: speakerSwap.prob must be in [0, 1], got ${swap.prob}`);
  if (swap.speakers.length !== n) throw new ValueError(`train: speakerSwap has ${swap.speakers.length} speakers for ${n} clips`);
  const ids = [...new Set(swap.speakers)].sort((a, b) => a - b);
  for (const s of ids) if (!swap.norms.has(s)) throw new ValueError(`train: speakerSwap has no statistics for speaker ${s}`);
  if (ids.length < 2) throw new ValueError(`train: speakerSwap needs clips of at least two speakers, got ${ids.length}`);
  const others = new Map(ids.map((s) => [s, ids.filter((o) => o !== s).map((o) => swap.norms.get(o)!)]));
  return { ...swap, others };
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
  /** With swa: the average so far. */
  average?: WeightAverage | null;
}

interface BatchRecipe {
  normalizer: InputNorm | null;
  augment: Required<AugmentOptions> | null;
  noisy: Float32Array | null;
  noiseProb: number;
  speed: readonly Float32Array[];
  speedProb: number;
  enrolled: readonly Float32Array[];
  enrolledProb: number;
  c0Scale: readonly number[] | null;
  swap: { speakers: readonly number[]; norms: ReadonlyMap<number, InputNorm>; others: Map<number, InputNorm[]>; prob: number } | null;
}

/** Which copy of a training clip to draw: an enrolment-normalised one, a speed-perturbed one, the noisy one, or the clean one. */
function sourceOf(data: TrainData, rng: Generator, r: BatchRecipe): Float32Array {
  if (r.enrolled.length && rng.uniform() < r.enrolledProb) return r.enrolled[rng.int(r.enrolled.length)]!;
  if (r.speed.length && rng.uniform() < r.speedProb) return r.speed[rng.int(r.speed.length)]!;
  return r.noisy && r.noiseProb > 0 && rng.uniform() < r.noiseProb ? r.noisy : data.features;
}

/** The clips at `idx`, each drawn clean or noisy, normalised and augmented, as [n × 40 × 174] values. */
function batchOf(data: TrainData, idx: number[], rng: Generator, r: BatchRecipe): { x: Float32Array; y: number[] } {
  const x = new Float32Array(idx.length * CLIP);
  idx.forEach((j, i) => {
    const src = sourceOf(data, rng, r);
    x.set(src.subarray(j * CLIP, (j + 1) * CLIP), i * CLIP);
    if (!r.normalizer && !r.augment && !r.swap) return;
    const frames = contentFrames(x, i * CLIP);
    if (r.swap && rng.uniform() < r.swap.prob) {
      const own = r.swap.speakers[j]!;
      const others = r.swap.others.get(own)!;
      r.swap.norms.get(own)!.recolourClip(x, i * CLIP, others[rng.int(others.length)]!, frames);
    }
    r.normalizer?.applyClip(x, i * CLIP, frames);
    if (r.augment) augmentClip(x, i * CLIP, frames, rng, r.augment, c0PerDb(r.normalizer?.std[0] ?? 1) * (r.c0Scale?.[j] ?? 1));
  });
  return { x, y: idx.map((j) => data.labels[j]!) };
}

/**
 * Blends the batch with a shuffled copy of itself, in place; returns λ and the partner labels.
 * λ is folded into [0.5, 1] so that `y` stays the dominant label (what training accuracy counts).
 */
export function mixBatch(x: Float32Array, y: number[], alpha: number, rng: Generator): { lambda: number; yPartner: number[] } {
  const b = rng.beta(alpha, alpha);
  const lambda = Math.max(b, 1 - b);
  const perm = rng.shuffle([...y.keys()]);
  const src = x.slice();
  for (let i = 0; i < y.length; i++) {
    const a = i * CLIP;
    const p = perm[i]! * CLIP;
    for (let k = 0; k < CLIP; k++) x[a + k] = lambda * src[a + k]! + (1 - lambda) * src[p + k]!;
  }
  return { lambda, yPartner: perm.map((j) => y[j]!) };
}

const copyWeights = (model: EmotionCNN): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, tensor(Float32Array.from(t.toArray()), [...t.shape])]));

/** The rate of `epoch` (0-based): the schedule, which with swa ends at swa.lr after epochs − swa.epochs epochs and stays there. */
function learningRate(base: number, schedule: 'constant' | 'cosine', epoch: number, epochs: number, swa: { epochs: number; lr: number } | null): number {
  const end = swa ? swa.lr : 0;
  const span = swa ? epochs - swa.epochs : epochs;
  if (swa && epoch >= span) return swa.lr;
  return schedule === 'cosine' ? end + ((base - end) * (1 + Math.cos((Math.PI * epoch) / span))) / 2 : base;
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
  for (const [k, t] of Object.entries(s.average?.stateDict() ?? {})) tensors[`swa.${k}`] = t;
  return saveSafetensors(tensors, {
    isInteger: (k) => k.endsWith('num_batches_tracked'),
    metadata: {
      kind: 'ser-ts checkpoint', epoch: String(s.epoch), step: String(s.optimizer.stepCount), lr: String(s.optimizer.learningRate),
      rng: JSON.stringify(s.rng.getState()), dropoutRng: JSON.stringify(defaultGenerator.getState()),
      ...(s.best ? { bestEpoch: String(s.best.epoch), bestUar: String(s.best.uar) } : {}),
      ...(s.average ? { swaCount: String(s.average.count) } : {}),
      ...(s.optimizer.weightDecay > 0 ? { weightDecay: String(s.optimizer.weightDecay) } : {}),
    },
  });
}

/** The training optimiser: Adam (the original's), or AdamW when there is weight decay. */
function makeOptimizer(model: EmotionCNN, lr: number, weightDecay: number): Adam {
  return weightDecay > 0 ? new AdamW(model.parameters(), { lr, weightDecay }) : new Adam(model.parameters(), { lr });
}

/**
 * Restores a checkpoint into `model`; returns the optimiser, epoch and generator to continue with.
 * `weightDecay` must be the one the checkpoint was trained with (TrainOptions.weightDecay).
 */
export function loadCheckpoint(model: EmotionCNN, bytes: Uint8Array, lr: number, weightDecay = 0): TrainState {
  const { tensors, metadata } = loadSafetensors(bytes);
  if (metadata.kind !== 'ser-ts checkpoint') throw new ValueError('resume: the file is not a ser-ts training checkpoint');
  const saved = Number(metadata.weightDecay ?? 0);
  if (saved !== weightDecay) throw new ValueError(`resume: the checkpoint was trained with weight decay ${saved}, this run asks for ${weightDecay}`);
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  model.loadStateDict(pick('model.'));
  const optimizer = makeOptimizer(model, lr, weightDecay);
  optimizer.loadStateDict(pick('optim.'), Number(metadata.step));
  const rng = new Generator();
  if (!metadata.rng) throw new ValueError('resume: the checkpoint holds no generator state');
  rng.setState(JSON.parse(metadata.rng) as number[]);
  if (metadata.dropoutRng) defaultGenerator.setState(JSON.parse(metadata.dropoutRng) as number[]);
  const best = metadata.bestEpoch ? { epoch: Number(metadata.bestEpoch), uar: Number(metadata.bestUar), weights: pick('best.') } : null;
  let average: WeightAverage | null = null;
  if (metadata.swaCount !== undefined) {
    average = new WeightAverage(model);
    average.loadStateDict(pick('swa.'), Number(metadata.swaCount));
  }
  return { optimizer, epoch: Number(metadata.epoch), rng, best, average };
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
  if (opts.noisy && opts.noisy.length !== data.features.length) throw new ValueError(`train: ${opts.noisy.length} noisy feature values for ${data.features.length} clean ones`);
  const noiseProb = opts.noiseProb ?? (opts.noisy ? 0.5 : 0);
  if (!(noiseProb >= 0 && noiseProb <= 1)) throw new ValueError(`train: noiseProb must be in [0, 1], got ${noiseProb}`);
  if (opts.validation) checkData(opts.validation, 'validation');
  const mixup = opts.mixup ?? 0;
  if (!(mixup >= 0 && Number.isFinite(mixup))) throw new ValueError(`train: mixup must be a non-negative number (the Beta distribution's α), got ${mixup}`);
  const speed = opts.speed ?? [];
  if (speed.some((f) => f.length !== data.features.length)) throw new ValueError('train: every speed-perturbed copy needs as many feature values as the clean clips');
  const speedProb = opts.speedProb ?? (speed.length ? 0.5 : 0);
  if (opts.c0Scale && opts.c0Scale.length !== n) throw new ValueError(`train: ${opts.c0Scale.length} c0 scales for ${n} clips`);
  if (!(speedProb >= 0 && speedProb <= 1)) throw new ValueError(`train: speedProb must be in [0, 1], got ${speedProb}`);
  const enrolled = opts.enrolled ?? [];
  if (enrolled.some((f) => f.length !== data.features.length)) throw new ValueError('train: every enrolment-normalised copy needs as many feature values as the clean clips');
  const enrolledProb = opts.enrolledProb ?? (enrolled.length ? 0.5 : 0);
  if (!(enrolledProb >= 0 && enrolledProb <= 1)) throw new ValueError(`train: enrolledProb must be in [0, 1], got ${enrolledProb}`);
  if (opts.classWeights && opts.classWeights.length !== EMOTIONS.length) throw new ValueError(`train: ${opts.classWeights.length} class weights for ${EMOTIONS.length} classes`);
  const recipe: BatchRecipe = {
    normalizer: opts.normalizer ?? null, augment: opts.augment ? checkAugment(opts.augment) : null, noisy: opts.noisy ?? null, noiseProb,
    speed, speedProb, enrolled, enrolledProb, c0Scale: opts.c0Scale ?? null, swap: checkSpeakerSwap(opts.speakerSwap, n),
  };
  const swa = checkSwa(opts.swa, opts.epochs, !!opts.validation);
  const distill = checkDistill(opts.distill);
  const weightDecay = opts.weightDecay ?? 0;
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new ValueError(`train: weightDecay must be a non-negative number, got ${weightDecay}`);
  const state: TrainState = opts.resume
    ? loadCheckpoint(model, opts.resume, lr, weightDecay)
    : { optimizer: makeOptimizer(model, lr, weightDecay), epoch: 0, rng: new Generator(opts.seed ?? 0), best: null };
  if (swa && !state.average) state.average = new WeightAverage(model);
  if (!swa && state.average) throw new ValueError('train: the checkpoint holds a weight average, but swa is off');
  const history: EpochStats[] = [];
  while (state.epoch < opts.epochs && !(state.best && state.epoch - state.best.epoch >= patience)) {
    const t0 = performance.now();
    state.optimizer.learningRate = learningRate(lr, schedule, state.epoch, opts.epochs, swa);
    model.train();
    const order = state.rng.shuffle([...Array(n).keys()]);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b < n; b += batchSize) {
      const { x, y } = batchOf(data, order.slice(b, b + batchSize), state.rng, recipe);
      const mix = mixup > 0 ? mixBatch(x, y, mixup, state.rng) : null;
      state.optimizer.zeroGrad();
      const input = tensor(x, [y.length, 1, N_MFCC, N_FRAMES]);
      const logits = model.forward(input);
      const ce = (labels: number[]) => crossEntropy(logits, labels, { labelSmoothing: opts.labelSmoothing ?? 0, weight: opts.classWeights ?? undefined });
      let loss = mix ? add(mul(ce(y), mix.lambda), mul(ce(mix.yPartner), 1 - mix.lambda)) : ce(y);
      if (distill) {
        const t = distill.temperature;
        const soft = crossEntropy(mul(logits, 1 / t), teacherTargets(distill, input));
        loss = add(mul(loss, 1 - distill.weight), mul(soft, distill.weight * t * t));
      }
      loss.backward();
      state.optimizer.step();
      lossSum += loss.item() * y.length;
      const l = logits.toArray();
      y.forEach((t, i) => {
        let best = 0;
        for (let c = 1; c < EMOTIONS.length; c++) if (l[i * EMOTIONS.length + c]! > l[i * EMOTIONS.length + best]!) best = c;
        correct += Number(best === t);
      });
    }
    state.epoch++;
    if (swa && state.epoch > opts.epochs - swa.epochs) state.average!.update();
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
  if (swa) {
    state.average!.apply();
    updateBatchNorm(model, cleanBatches(data.features, batchSize, recipe.normalizer));
  }
  return history;
}

/** The clips as model input in batches, normalised, unaugmented. */
function* cleanBatches(features: Float32Array, batchSize: number, normalizer: InputNorm | null): IterableIterator<Tensor> {
  const x = normalizer ? normalizer.apply(features) : features;
  const n = x.length / CLIP;
  for (let b = 0; b < n; b += batchSize) {
    const m = Math.min(batchSize, n - b);
    yield tensor(x.subarray(b * CLIP, (b + m) * CLIP), [m, 1, N_MFCC, N_FRAMES]);
  }
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
  if (normalizer) features = normalizer.apply(features);
  const n = features.length / CLIP;
  model.eval();
  const out: number[] = [];
  for (let b = 0; b < n; b += batchSize) {
    const m = Math.min(batchSize, n - b);
    const logits = noGrad(() => model.forward(tensor(features.subarray(b * CLIP, (b + m) * CLIP), [m, 1, N_MFCC, N_FRAMES]))).toArray();
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let c = 1; c < EMOTIONS.length; c++) if (logits[i * EMOTIONS.length + c]! > logits[i * EMOTIONS.length + best]!) best = c;
      out.push(best);
    }
  }
  return out;
}
