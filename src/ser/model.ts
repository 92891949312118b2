import { BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { ShapeError, fmtShape } from '../tensor/errors.js';
import { relu } from '../tensor/ops/elementwise.js';
import { flatten } from '../tensor/ops/layout.js';
import type { Tensor } from '../tensor/tensor.js';
import { EMOTIONS } from './labels.js';

export const N_MFCC = 40;
export const N_FRAMES = 174;

export interface EmotionCNNOptions {
  numClasses?: number;
  dropout?: number;
}

/**
 * The original project's model: three blocks of Conv3×3(pad 1) → BatchNorm → ReLU → MaxPool 2
 * (channels 1→16→32→64) over a 40×174 MFCC image, then Linear(64·5·21 → 128) → ReLU → Dropout →
 * Linear(128 → 8). Field names match the PyTorch module, so its state dict loads unchanged.
 */
export class EmotionCNN extends Module {
  readonly conv1 = new Conv2d(1, 16, 3, { padding: 1 });
  readonly bn1 = new BatchNorm2d(16);
  readonly conv2 = new Conv2d(16, 32, 3, { padding: 1 });
  readonly bn2 = new BatchNorm2d(32);
  readonly conv3 = new Conv2d(32, 64, 3, { padding: 1 });
  readonly bn3 = new BatchNorm2d(64);
  readonly pool = new MaxPool2d(2);
  readonly fc1 = new Linear(64 * 5 * 21, 128);
  readonly dropout: Dropout;
  readonly fc2: Linear;

  constructor(opts: EmotionCNNOptions = {}) {
    super();
    this.dropout = new Dropout(opts.dropout ?? 0.3);
    this.fc2 = new Linear(128, opts.numClasses ?? EMOTIONS.length);
  }

  /** x: [N, 1, 40, 174] MFCC images → logits [N, classes]. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== 1 || x.shape[2] !== N_MFCC || x.shape[3] !== N_FRAMES) {
      throw new ShapeError(`EmotionCNN: input must be [N, 1, ${N_MFCC}, ${N_FRAMES}], got ${fmtShape(x.shape)}`);
    }
    let h = this.pool.forward(relu(this.bn1.forward(this.conv1.forward(x))));
    h = this.pool.forward(relu(this.bn2.forward(this.conv2.forward(h))));
    h = this.pool.forward(relu(this.bn3.forward(this.conv3.forward(h))));
    h = relu(this.fc1.forward(flatten(h, 1)));
    return this.fc2.forward(this.dropout.forward(h));
  }
}
