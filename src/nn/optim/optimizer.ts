import { StateDictError, ValueError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { keep } from '../../tensor/memory.js';

/**
 * Base of the optimisers: holds the parameters and per-parameter state tensors (named as in
 * PyTorch's optimizer state: exp_avg, exp_avg_sq, momentum_buffer) and saves them as a flat record
 * ("state.<index>.<name>") that fits a safetensors file, so training resumes exactly.
 */
export abstract class Optimizer {
  readonly params: Tensor[];
  /** Steps taken so far. */
  stepCount = 0;
  protected readonly state: Map<string, Tensor>[];

  /** The learning rate the next step uses; schedulers change it between steps. */
  learningRate: number;

  constructor(params: Iterable<Tensor>, lr: number) {
    this.learningRate = lr;
    this.params = [...params];
    if (this.params.length === 0) throw new ValueError('optimizer got an empty parameter list');
    if (!(lr >= 0)) throw new ValueError(`optimizer: lr must be a non-negative number, got ${lr}`);
    for (const p of this.params) {
      if (!p.isLeaf || !p.requiresGrad) throw new ValueError('optimizer: every parameter must be a leaf tensor with requiresGrad');
    }
    this.state = this.params.map(() => new Map());
  }

  /** Sets every gradient to null, as zero_grad(set_to_none=True). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** One update from the current gradients; parameters without a gradient are skipped. */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      this.update(p, p.grad, this.state[i]!);
      // the state lives as long as the optimiser, whatever tidy scope the step ran in
      for (const t of this.state[i]!.values()) keep(t);
    });
  }

  protected abstract update(p: Tensor, g: Tensor, state: Map<string, Tensor>): void;

  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    this.state.forEach((s, i) => {
      for (const [k, t] of s) sd[`state.${i}.${k}`] = t.detach();
    });
    return sd;
  }

  /** Restores state saved by `stateDict`, checking indices and shapes. */
  loadStateDict(sd: Record<string, Tensor>, stepCount: number): void {
    const next = this.params.map(() => new Map<string, Tensor>());
    for (const [key, t] of Object.entries(sd)) {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      const p = this.params[i];
      if (!m || !p) throw new StateDictError(`optimizer state: unexpected key '${key}' for ${this.params.length} parameters`);
      if (t.size !== p.size) {
        throw new StateDictError(`optimizer state: '${key}' has shape ${fmtShape(t.shape)} but parameter ${i} is ${fmtShape(p.shape)}`);
      }
      next[i]!.set(m[2]!, new Tensor(p._backend, p._backend.fromArray(t.toArray()), p.shape));
    }
    next.forEach((s, i) => {
      this.state[i] = s;
    });
    this.stepCount = stepCount;
  }
}
