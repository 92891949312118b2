import { ValueError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** torch.optim.Adam: weight decay is L2 added to the gradient. */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts.lr ?? 1e-3);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const b of this.betas) if (!(b >= 0 && b < 1)) throw new ValueError(`Adam: betas must be in [0, 1), got ${this.betas.join(', ')}`);
    if (!(this.eps >= 0)) throw new ValueError(`Adam: eps must be non-negative, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new ValueError(`Adam: weightDecay must be non-negative, got ${this.weightDecay}`);
  }

  protected update(p: Tensor, g: Tensor, state: Map<string, Tensor>): void {
    const be = p._backend;
    const m = state.get('exp_avg') ?? new Tensor(be, be.zeros(p.size), p.shape);
    const v = state.get('exp_avg_sq') ?? new Tensor(be, be.zeros(p.size), p.shape);
    const r = be.adamStep(p._handle, g._handle, m._handle, v._handle, p.size, {
      lr: this.learningRate, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps,
      weightDecay: this.weightDecay, decoupled: this.decoupled, step: this.stepCount,
    });
    p._assign(r.p);
    m._assign(r.m);
    v._assign(r.v);
    state.set('exp_avg', m);
    state.set('exp_avg_sq', v);
  }
}

/** torch.optim.AdamW: decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...opts });
  }
}
