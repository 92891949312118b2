/** Loss functions, as torch.nn.functional. */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { mul, neg, square, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Mixes the one-hot target with the uniform distribution, as PyTorch's label_smoothing. */
  labelSmoothing?: number;
  /**
   * A weight per class, as PyTorch's `weight`: each class's term is scaled by its weight, and the
   * batch mean divides by the sum of the targets' weights (so it stays a weighted average).
   */
  weight?: Float32Array | readonly number[];
  reduction?: Reduction;
}

/** Checks class indices and turns them into a (possibly smoothed) target distribution. */
function targetDistribution(target: Int32Array | readonly number[], n: number, c: number, smoothing: number, op: string): Float32Array {
  if (target.length !== n) throw new ShapeError(`${op}: ${target.length} targets for a batch of ${n}`);
  const q = new Float32Array(n * c).fill(smoothing / c);
  for (let i = 0; i < n; i++) {
    const t = target[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= c) throw new ValueError(`${op}: target ${t} at position ${i} is not a class index in [0, ${c})`);
    q[i * c + t] += 1 - smoothing;
  }
  return q;
}

function reduce(perSample: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return perSample;
  return reduction === 'sum' ? sum(perSample) : mean(perSample);
}

/** Checks class probabilities [N, C] (rows of non-negative values) and smooths them as PyTorch does: q·(1 − ε) + ε/C. */
function probabilityTarget(target: Tensor, n: number, c: number, smoothing: number): Float32Array {
  if (target.ndim !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
    throw new ShapeError(`crossEntropy: probability targets must be [${n}, ${c}] like the logits, got ${fmtShape(target.shape)}`);
  }
  const q = Float32Array.from(target.toArray());
  for (let j = 0; j < q.length; j++) {
    if (!(q[j]! >= 0 && Number.isFinite(q[j]!))) throw new ValueError(`crossEntropy: probability target ${q[j]} at [${Math.floor(j / c)}, ${j % c}] is not a finite non-negative number`);
    q[j] = q[j]! * (1 - smoothing) + smoothing / c;
  }
  return q;
}

/**
 * Cross-entropy between logits [N, C] and targets, i.e. log-softmax followed by the negative
 * log-likelihood, averaged over the batch by default. Targets are class indices, or class
 * probabilities as a Tensor [N, C] (PyTorch's "soft" targets, e.g. a teacher's in distillation).
 */
export function crossEntropy(logits: Tensor, target: Int32Array | readonly number[] | Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { labelSmoothing = 0, reduction = 'mean', weight } = opts;
  if (logits.ndim !== 2) throw new ShapeError(`crossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const [n, c] = logits.shape as [number, number];
  const soft = target instanceof Tensor;
  const q = soft ? probabilityTarget(target, n, c, labelSmoothing) : targetDistribution(target, n, c, labelSmoothing, 'crossEntropy');
  // class weights scale every class's term (the smoothed ones too, as PyTorch does); with class
  // indices the mean is then over the targets' total weight, with probabilities over the batch
  let total = n;
  if (weight) {
    if (weight.length !== c) throw new ShapeError(`crossEntropy: ${weight.length} class weights for ${c} classes`);
    for (let k = 0; k < c; k++) if (!(weight[k]! >= 0 && Number.isFinite(weight[k]!))) throw new ValueError(`crossEntropy: class weight ${k} is ${weight[k]}; weights must be finite and non-negative`);
    if (!soft) total = 0;
    for (let i = 0; i < n; i++) {
      if (!soft) total += weight[(target as readonly number[])[i]!]!;
      for (let k = 0; k < c; k++) q[i * c + k]! *= weight[k]!;
    }
    if (reduction === 'mean' && !(total > 0)) throw new ValueError('crossEntropy: the targets\' class weights sum to 0, so their weighted mean is undefined');
  }
  const be = logits._backend;
  const qT = new Tensor(be, be.fromArray(q), [n, c]);
  const perSample = neg(sum(mul(logSoftmax(logits, 1), qT), 1));
  return weight && reduction === 'mean' ? mul(sum(perSample), 1 / total) : reduce(perSample, reduction);
}

/** Negative log-likelihood of log-probabilities [N, C] at the target classes. */
export function nllLoss(logProbs: Tensor, target: Int32Array | readonly number[], reduction: Reduction = 'mean'): Tensor {
  if (logProbs.ndim !== 2) throw new ShapeError(`nllLoss: input must be [N, C], got ${fmtShape(logProbs.shape)}`);
  const [n, c] = logProbs.shape as [number, number];
  const be = logProbs._backend;
  const oneHot = new Tensor(be, be.fromArray(targetDistribution(target, n, c, 0, 'nllLoss')), [n, c]);
  return reduce(neg(sum(mul(logProbs, oneHot), 1)), reduction);
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (input.size !== target.size) throw new ShapeError(`mseLoss: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} differ in size`);
  return reduce(square(sub(input, target)), reduction);
}
