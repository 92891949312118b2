/**
 * conv2d → max-pool 2×2 → ReLU as one op for inference (as tf.fused.conv2d fuses an activation):
 * a backend with `conv2dMaxPool2` pools and rectifies each tile before it leaves the kernel, so the
 * full-resolution activations are never written out and read back. When a gradient is wanted, or
 * the backend has no fused kernel, it is the three differentiable ops in turn: the same values.
 */
import { isGradEnabled } from '../autograd.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { backendOf } from './common.js';
import { type Conv2dOptions, conv2d, conv2dGeometry } from './conv.js';
import { relu } from './elementwise.js';
import { maxPool2d } from './pool.js';

export interface FusedConv2dOptions extends Conv2dOptions {
  /** Max-pool 2×2 at stride 2 after the convolution (floor mode, as maxPool2d). */
  maxPool?: 2;
  /** Applied last, after the pool: for ReLU and max-pool both orders give the same values. */
  activation?: 'relu' | 'none';
}

export function fusedConv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: FusedConv2dOptions = {}): Tensor {
  const be = backendOf('fusedConv2d', x, weight, bias);
  const { maxPool, activation = 'none' } = opts;
  if (maxPool !== undefined && maxPool !== 2) throw new ValueError(`fusedConv2d: maxPool must be 2 or absent, got ${String(maxPool)}`);
  if (activation !== 'relu' && activation !== 'none') throw new ValueError(`fusedConv2d: activation must be 'relu' or 'none', got ${String(activation)}`);
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== g.outC)) {
    throw new ShapeError(`fusedConv2d: bias ${fmtShape(bias.shape)} must be [${g.outC}]`);
  }
  const wantsGrad = isGradEnabled() && (x.requiresGrad || weight.requiresGrad || !!bias?.requiresGrad);
  if (maxPool === 2 && !wantsGrad && be.conv2dMaxPool2 && g.outH >= 2 && g.outW >= 2) {
    const h = be.conv2dMaxPool2(x._handle, weight._handle, bias?._handle ?? null, g, activation === 'relu');
    return new Tensor(be, h, [g.batch, g.outC, g.outH >> 1, g.outW >> 1]);
  }
  let y = conv2d(x, weight, bias, opts);
  if (maxPool === 2) y = maxPool2d(y, 2);
  return activation === 'relu' ? relu(y) : y;
}
