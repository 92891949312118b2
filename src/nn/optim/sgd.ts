import { ValueError } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD with optional momentum, dampening, Nesterov and L2 weight decay. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Iterable<Tensor>, opts: SgdOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new ValueError(`SGD: momentum must be non-negative, got ${this.momentum}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected update(p: Tensor, g: Tensor, state: Map<string, Tensor>): void {
    const be = p._backend;
    const buf = state.get('momentum_buffer') ?? null;
    const r = be.sgdStep(p._handle, g._handle, buf?._handle ?? null, p.size, {
      lr: this.learningRate, momentum: this.momentum, dampening: this.dampening,
      weightDecay: this.weightDecay, nesterov: this.nesterov, first: buf === null,
    });
    p._assign(r.p);
    if (r.buf) {
      if (buf) buf._assign(r.buf);
      else state.set('momentum_buffer', new Tensor(be, r.buf, p.shape));
    }
  }
}
