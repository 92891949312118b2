/** The layers, with PyTorch's constructor arguments, parameter names and default initialisation. */
import { ShapeError, ValueError, fmtShape } from '../tensor/errors.js';
import { relu } from '../tensor/ops/elementwise.js';
import { conv2d } from '../tensor/ops/conv.js';
import { type Pair, pair } from '../tensor/ops/conv.js';
import { dropout } from '../tensor/ops/dropout.js';
import { flatten } from '../tensor/ops/layout.js';
import { linear } from '../tensor/ops/matmul.js';
import { batchNorm } from '../tensor/ops/norm.js';
import { maxPool2d } from '../tensor/ops/pool.js';
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor, full, ones, zeros } from '../tensor/tensor.js';
import { biasUniform, fanIn, kaimingUniform } from './init.js';
import { Module } from './module.js';

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new ValueError(`${what} must be a positive integer, got ${v}`);
  return v;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  bias?: boolean;
  generator?: Generator;
}

/** 2-D convolution over NCHW input; weight [out, in, kH, kW]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    positiveInt(inChannels, 'Conv2d: inChannels');
    positiveInt(outChannels, 'Conv2d: outChannels');
    const [kH, kW] = pair(kernelSize, 'Conv2d: kernelSize');
    positiveInt(kH, 'Conv2d: kernel height');
    positiveInt(kW, 'Conv2d: kernel width');
    this.stride = pair(opts.stride ?? 1, 'Conv2d: stride');
    this.padding = pair(opts.padding ?? 0, 'Conv2d: padding');
    const shape = [outChannels, inChannels, kH, kW];
    this.weight = this.registerParameter('weight', kaimingUniform(shape, Math.sqrt(5), opts.generator));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', biasUniform(outChannels, fanIn(shape), opts.generator));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** Weight of a batch's statistics in the running ones (default 0.1); null: their cumulative average, as PyTorch's momentum=None. */
  momentum?: number | null;
}

/**
 * Batch normalisation over the channels of NCHW input. Training mode normalises with the batch's
 * statistics and updates the running ones; eval mode uses the running ones.
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  /** Mutable, as in PyTorch: updateBatchNorm sets it to null while it recomputes the statistics. */
  momentum: number | null;

  constructor(readonly numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    positiveInt(numFeatures, 'BatchNorm2d: numFeatures');
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (!(this.eps > 0)) throw new ValueError(`BatchNorm2d: eps must be positive, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`BatchNorm2d: momentum must be in [0, 1], got ${this.momentum}`);
    this.weight = this.registerParameter('weight', ones([numFeatures]));
    this.bias = this.registerParameter('bias', zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', full([], 0));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm2d: input ${fmtShape(x.shape)} has ${x.shape[1]} channels, expected ${this.numFeatures}`);
    }
    let momentum = this.momentum ?? 0;
    if (this.training) {
      const b = this.numBatchesTracked._backend;
      this.numBatchesTracked._assign(b.affine(this.numBatchesTracked._handle, 1, 1, 1));
      // momentum null: the k-th batch weighs 1/k, so the running statistics are the plain mean over batches
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked.item();
    }
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training, momentum, eps: this.eps,
    });
  }
}

/** Max pooling; stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly stride: Pair = kernelSize) {
    super();
    pair(kernelSize, 'MaxPool2d: kernelSize');
    pair(stride, 'MaxPool2d: stride');
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.stride);
  }
}

export interface LinearOptions {
  bias?: boolean;
  generator?: Generator;
}

/** y = x·Wᵀ + b with W [out, in]. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    positiveInt(inFeatures, 'Linear: inFeatures');
    positiveInt(outFeatures, 'Linear: outFeatures');
    this.weight = this.registerParameter('weight', kaimingUniform([outFeatures, inFeatures], Math.sqrt(5), opts.generator));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', biasUniform(outFeatures, inFeatures, opts.generator));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Zeroes elements with probability p in training, scaling the rest by 1/(1−p). */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Flattens dimensions startDim..endDim (by default all but the batch). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/** Runs modules in order; children are named '0', '1', … as in PyTorch. */
export class Sequential extends Module {
  private readonly _layers: Module[];

  constructor(...modules: Module[]) {
    super();
    this._layers = modules;
    modules.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this._layers.length;
  }

  at(i: number): Module | undefined {
    return this._layers.at(i);
  }

  forward(x: Tensor): Tensor {
    return this._layers.reduce((h, m) => m.forward(h), x);
  }
}
