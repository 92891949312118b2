/**
 * Stochastic weight averaging (Izmailov et al., 2018, "Averaging Weights Leads to Wider Optima and
 * Better Generalization"), after torch.optim.swa_utils: `WeightAverage` keeps the running mean of a
 * model's parameters over the points where `update()` is called (PyTorch's AveragedModel with its
 * default equal-weight average), and `updateBatchNorm` recomputes batch-norm statistics for the
 * averaged weights, as update_bn does: the running statistics gathered during training belong to
 * none of the averaged points.
 */
import { StateDictError, ValueError, fmtShape } from '../tensor/errors.js';
import { noGrad } from '../tensor/autograd.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from './layers.js';
import type { Module } from './module.js';

export class WeightAverage {
  private readonly params: [string, Tensor][];
  private means: Float32Array[] | null = null;
  /** How many points the average holds. */
  count = 0;

  constructor(model: Module) {
    this.params = model.namedParameters();
  }

  /** Adds the parameters' current values to the average: mean += (p − mean) / (count + 1). */
  update(): void {
    const values = this.params.map(([, p]) => p.toArray());
    if (!this.means) this.means = values.map((v) => Float32Array.from(v));
    else {
      const k = this.count + 1;
      this.means.forEach((m, i) => {
        const v = values[i]!;
        for (let j = 0; j < m.length; j++) m[j]! += (v[j]! - m[j]!) / k;
      });
    }
    this.count++;
  }

  /** Copies the average into the model's parameters (its buffers are left alone: see updateBatchNorm). */
  apply(): void {
    if (!this.means) throw new ValueError('WeightAverage.apply: the average is empty (call update() first)');
    const means = this.means;
    noGrad(() => this.params.forEach(([, p], i) => p._assign(p._backend.fromArray(means[i]!))));
  }

  /** The averaged parameters by PyTorch key (empty while the average is). */
  stateDict(): Record<string, Tensor> {
    if (!this.means) return {};
    return Object.fromEntries(this.params.map(([k, p], i) => [k, tensor(Float32Array.from(this.means![i]!), [...p.shape])]));
  }

  /** Restores an average saved with stateDict() and its count (a checkpoint's). */
  loadStateDict(sd: Record<string, Tensor>, count: number): void {
    if (!(Number.isInteger(count) && count >= 0)) throw new ValueError(`WeightAverage.loadStateDict: count must be a non-negative integer, got ${count}`);
    if (count === 0) {
      this.means = null;
      this.count = 0;
      return;
    }
    const means = this.params.map(([k, p]) => {
      const t = sd[k];
      if (!t) throw new StateDictError(`WeightAverage.loadStateDict: no average for parameter ${k}`);
      if (t.size !== p.size) throw new StateDictError(`WeightAverage.loadStateDict: ${k} is ${fmtShape(t.shape)}, the parameter ${fmtShape(p.shape)}`);
      return Float32Array.from(t.toArray());
    });
    this.means = means;
    this.count = count;
  }
}

/**
 * Recomputes the running mean and variance of every BatchNorm2d in `model` as the plain average of
 * their batch statistics over `batches` (forward passes in training mode, no gradients), then puts
 * back each layer's momentum and the model's training mode. Dropout is active during these passes,
 * as in PyTorch's update_bn; it does not touch the statistics of a batch norm that comes before it.
 */
export function updateBatchNorm(model: Module, batches: Iterable<Tensor>): void {
  const list = [...batches];
  if (!list.length) throw new ValueError('updateBatchNorm: no batches');
  const norms = model.namedModules().map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  if (!norms.length) return;
  const momenta = norms.map((m) => m.momentum);
  const training = model.training;
  for (const m of norms) {
    noGrad(() => {
      m.runningMean._assign(m.runningMean._backend.fromArray(new Float32Array(m.numFeatures)));
      m.runningVar._assign(m.runningVar._backend.fromArray(new Float32Array(m.numFeatures).fill(1)));
      m.numBatchesTracked._assign(m.numBatchesTracked._backend.fromArray(new Float32Array(1)));
    });
    m.momentum = null;
  }
  try {
    model.train();
    for (const x of list) noGrad(() => model.forward(x));
  } finally {
    norms.forEach((m, i) => (m.momentum = momenta[i]!));
    model.train(training);
  }
}
