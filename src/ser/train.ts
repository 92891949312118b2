/**
 * The training loop of the original project (Adam, cross-entropy, shuffled mini-batches), with
 * seeded shuffling and exact resume: a checkpoint holds the model, the optimiser state, the epoch,
 * and the states of the shuffling generator and of the global one that draws dropout masks, so a
 * killed run continues as if it had never stopped.
 */
import { ValueError } from '../tensor/errors.js';
import { noGrad } from '../tensor/autograd.js';
import { Generator, defaultGenerator } from '../tensor/random.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../tensor/ops/loss.js';
import { Adam } from '../nn/optim/adam.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { EMOTIONS } from './labels.js';
import { type EmotionCNN, N_FRAMES, N_MFCC } from './model.js';

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
}

export interface TrainState {
  optimizer: Adam;
  epoch: number;
  rng: Generator;
}

function batchOf(data: TrainData, idx: number[]): { x: Tensor; y: number[] } {
  const x = new Float32Array(idx.length * CLIP);
  idx.forEach((j, i) => x.set(data.features.subarray(j * CLIP, (j + 1) * CLIP), i * CLIP));
  return { x: tensor(x, [idx.length, 1, N_MFCC, N_FRAMES]), y: idx.map((j) => data.labels[j]!) };
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
  return saveSafetensors(tensors, {
    isInteger: (k) => k.endsWith('num_batches_tracked'),
    metadata: {
      kind: 'ser-ts checkpoint', epoch: String(s.epoch), step: String(s.optimizer.stepCount), lr: String(s.optimizer.learningRate),
      rng: JSON.stringify(s.rng.getState()), dropoutRng: JSON.stringify(defaultGenerator.getState()),
    },
  });
}

/** Restores a checkpoint into `model`; returns the optimiser, epoch and generator to continue with. */
export function loadCheckpoint(model: EmotionCNN, bytes: Uint8Array, lr: number): TrainState {
  const { tensors, metadata } = loadSafetensors(bytes);
  if (metadata.kind !== 'ser-ts checkpoint') throw new ValueError('resume: the file is not a ser-ts training checkpoint');
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  model.loadStateDict(pick('model.'));
  const optimizer = new Adam(model.parameters(), { lr });
  optimizer.loadStateDict(pick('optim.'), Number(metadata.step));
  const rng = new Generator();
  rng.setState(JSON.parse(metadata.rng ?? '[]') as number[]);
  if (metadata.dropoutRng) defaultGenerator.setState(JSON.parse(metadata.dropoutRng) as number[]);
  return { optimizer, epoch: Number(metadata.epoch), rng };
}

/** Trains `model` in place; returns the per-epoch statistics. */
export function train(model: EmotionCNN, data: TrainData, opts: TrainOptions): EpochStats[] {
  const n = checkData(data, 'train');
  const batchSize = opts.batchSize ?? 32;
  const lr = opts.lr ?? 5e-4;
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new ValueError(`train: epochs must be a positive integer, got ${opts.epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`train: batchSize must be a positive integer, got ${batchSize}`);
  const state: TrainState = opts.resume
    ? loadCheckpoint(model, opts.resume, lr)
    : { optimizer: new Adam(model.parameters(), { lr }), epoch: 0, rng: new Generator(opts.seed ?? 0) };
  const history: EpochStats[] = [];
  while (state.epoch < opts.epochs) {
    const t0 = performance.now();
    model.train();
    const order = state.rng.shuffle([...Array(n).keys()]);
    let lossSum = 0;
    let correct = 0;
    for (let b = 0; b < n; b += batchSize) {
      const { x, y } = batchOf(data, order.slice(b, b + batchSize));
      state.optimizer.zeroGrad();
      const logits = model.forward(x);
      const loss = crossEntropy(logits, y);
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
    const seconds = (performance.now() - t0) / 1000;
    const stats = { epoch: state.epoch, epochs: opts.epochs, loss: lossSum / n, accuracy: correct / n, seconds, samplesPerSecond: n / seconds };
    history.push(stats);
    opts.onEpoch?.(stats, () => saveCheckpoint(model, state));
  }
  return history;
}

/** Predicted class of every clip, in eval mode, in batches. */
export function predictLabels(model: EmotionCNN, features: Float32Array, batchSize = 64): number[] {
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
