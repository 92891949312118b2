import { BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { ShapeError, ValueError, fmtShape } from '../tensor/errors.js';
import { conv2d } from '../tensor/ops/conv.js';
import { fusedConv2d } from '../tensor/ops/fused.js';
import { add, div, mul, relu, sqrt, sub } from '../tensor/ops/elementwise.js';
import { cat, flatten, reshape } from '../tensor/ops/layout.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/memory.js';
import { isGradEnabled, noGrad } from '../tensor/autograd.js';
import { EMOTIONS } from './labels.js';

export const N_MFCC = 40;
export const N_FRAMES = 174;

export interface EmotionCNNOptions {
  numClasses?: number;
  dropout?: number;
  /**
   * Delta features as extra input channels, computed inside the model from its MFCC input:
   * 0 (the original: one channel), 1 (+ Δ) or 2 (+ Δ and ΔΔ). Only conv1's input channels change.
   */
  deltas?: number;
}

/** Frames either side that a delta looks at (HTK's and librosa's default window of 9). */
export const DELTA_HALF_WIDTH = 4;

/**
 * The regression filter of HTK's delta, d_t = Σ_{n=1..N} n·(c_{t+n} − c_{t−n}) / (2·Σ n²), as a
 * 1 × 9 cross-correlation kernel (for N = 4 it equals librosa.feature.delta's Savitzky-Golay
 * filter of width 9). ΔΔ is the same filter applied to Δ, as HTK computes accelerations.
 */
export function deltaKernel(halfWidth = DELTA_HALF_WIDTH): Float32Array {
  let norm = 0;
  for (let n = 1; n <= halfWidth; n++) norm += 2 * n * n;
  return Float32Array.from({ length: 2 * halfWidth + 1 }, (_, i) => (i - halfWidth) / norm);
}

/**
 * The original project's model: three blocks of Conv3×3(pad 1) → BatchNorm → ReLU → MaxPool 2
 * (channels 1→16→32→64) over a 40×174 MFCC image, then Linear(64·5·21 → 128) → ReLU → Dropout →
 * Linear(128 → 8). Field names match the PyTorch module, so its state dict loads unchanged.
 * With `deltas`, conv1 also sees the MFCC's Δ (and ΔΔ), computed from the input in `withDeltas`.
 */
export class EmotionCNN extends Module {
  /** Delta orders added as input channels (0: the original model). */
  readonly deltas: number;
  // built in the constructor in this order, which is the order they draw their initial weights
  // from the global generator (as in PyTorch's __init__): a seed gives the same original model
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly pool: MaxPool2d;
  readonly fc1: Linear;
  readonly dropout: Dropout;
  readonly fc2: Linear;
  /** The delta filter as a tensor on the backend of the last input (see withDeltas). */
  private deltaFilter: Tensor | null = null;
  /** Each block's eval-mode folded weight and bias, and what they were folded from (see block). */
  private readonly folded = new Map<Conv2d, { from: readonly (Tensor | null)[]; versions: string; w: Tensor; b: Tensor }>();

  constructor(opts: EmotionCNNOptions = {}) {
    super();
    const deltas = opts.deltas ?? 0;
    if (!Number.isInteger(deltas) || deltas < 0 || deltas > 2) throw new ValueError(`EmotionCNN: deltas must be 0, 1 or 2, got ${deltas}`);
    this.deltas = deltas;
    this.conv1 = new Conv2d(1 + deltas, 16, 3, { padding: 1 });
    this.bn1 = new BatchNorm2d(16);
    this.conv2 = new Conv2d(16, 32, 3, { padding: 1 });
    this.bn2 = new BatchNorm2d(32);
    this.conv3 = new Conv2d(32, 64, 3, { padding: 1 });
    this.bn3 = new BatchNorm2d(64);
    this.pool = new MaxPool2d(2);
    this.fc1 = new Linear(64 * 5 * 21, 128);
    this.dropout = new Dropout(opts.dropout ?? 0.3);
    this.fc2 = new Linear(128, opts.numClasses ?? EMOTIONS.length);
  }

  /** x: [N, 1, 40, 174] MFCC images → logits [N, classes]. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== 1 || x.shape[2] !== N_MFCC || x.shape[3] !== N_FRAMES) {
      throw new ShapeError(`EmotionCNN: input must be [N, 1, ${N_MFCC}, ${N_FRAMES}], got ${fmtShape(x.shape)}`);
    }
    let h = this.block(this.conv1, this.bn1, this.withDeltas(x));
    h = this.block(this.conv2, this.bn2, h);
    h = this.block(this.conv3, this.bn3, h);
    h = relu(this.fc1.forward(flatten(h, 1)));
    return this.fc2.forward(this.dropout.forward(h));
  }

  /**
   * conv → batch norm → ReLU → max-pool 2. In eval mode the batch norm is an affine map per channel
   * with fixed statistics, folded into the convolution: W' = W·γ/√(σ² + ε),
   * b' = (b − μ)·γ/√(σ² + ε) + β, and the block is one fused op (conv, pool, then ReLU: ReLU is
   * monotone, so max(relu(a), relu(b)) = relu(max(a, b)) exactly, on a quarter of the values).
   * Folded once and kept while the six tensors it comes from are the same tensors at the same
   * `version` on the same backend (an optimiser step, a loaded state dict or a move bumps it); when
   * gradients are wanted through them, folded on the call, so they flow back to conv and batch norm.
   * Training pools before the ReLU too, for the same reason: the same values and the same
   * gradients (the window's maximum is the same element, and where it is not positive both
   * orders pass no gradient), on a quarter of the elements.
   */
  private block(conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
    if (this.training || bn.training) return relu(this.pool.forward(bn.forward(conv.forward(x))));
    const from = [conv.weight, conv.bias, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
    const fold = () => {
      const scale = div(bn.weight, sqrt(add(bn.runningVar, bn.eps)));
      const w = mul(conv.weight, reshape(scale, [conv.outChannels, 1, 1, 1]));
      const b = add(mul(conv.bias ? sub(conv.bias, bn.runningMean) : mul(bn.runningMean, -1), scale), bn.bias);
      return { w, b };
    };
    const geometry = { stride: conv.stride, padding: conv.padding, maxPool: 2 as const, activation: 'relu' as const };
    if (isGradEnabled() && from.some((t) => t?.requiresGrad)) {
      const { w, b } = fold();
      return fusedConv2d(x, w, b, geometry);
    }
    const versions = `${x.device}:${from.map((t) => t?.version ?? '-').join(',')}`;
    let f = this.folded.get(conv);
    if (!f || f.versions !== versions || f.from.some((t, i) => t !== from[i]) || f.w.isDisposed || f.b.isDisposed) {
      f?.w.dispose();
      f?.b.dispose();
      // kept: it outlives the tidy scope of whichever call folded it
      const { w, b } = noGrad(fold);
      f = { from, versions, w: keep(w), b: keep(b) };
      this.folded.set(conv, f);
    }
    return fusedConv2d(x, f.w, f.b, geometry);
  }

  /**
   * The input with its delta channels: [N, 1 + deltas, 40, 174]. Frames beyond the image's edges
   * count as zero, which for normalised input is the mean frame. The filter is a constant, not a
   * parameter: it is not trained and not in the state dict.
   */
  withDeltas(x: Tensor): Tensor {
    if (this.deltas === 0) return x;
    // made once, and again only when the input lives on another backend (no upload per call)
    // (kept: it outlives the tidy scope of whichever call made it)
    if (this.deltaFilter?.device !== x.device || this.deltaFilter.isDisposed) this.deltaFilter = keep(tensor(deltaKernel(), [1, 1, 1, 2 * DELTA_HALF_WIDTH + 1]).to(x.device));
    const k = this.deltaFilter;
    const channels = [x];
    for (let d = 0; d < this.deltas; d++) channels.push(conv2d(channels.at(-1)!, k, null, { padding: [0, DELTA_HALF_WIDTH] }));
    return cat(channels, 1);
  }
}
