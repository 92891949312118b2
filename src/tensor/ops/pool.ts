/** Max pooling, as torch.nn.functional.max_pool2d (no padding, floor mode). */
import type { Pool2dGeometry } from '../backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { isGradEnabled } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { type Pair, pair } from './conv.js';

export function maxPool2d(x: Tensor, kernelSize: Pair, stride?: Pair): Tensor {
  if (x.ndim !== 4) throw new ShapeError(`maxPool2d: input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [kH, kW] = pair(kernelSize, 'maxPool2d: kernelSize');
  const [strideH, strideW] = pair(stride ?? kernelSize, 'maxPool2d: stride');
  if (kH < 1 || kW < 1 || strideH < 1 || strideW < 1) throw new ValueError('maxPool2d: kernel and stride must be at least 1');
  const [batch, channels, inH, inW] = x.shape as [number, number, number, number];
  const outH = Math.floor((inH - kH) / strideH) + 1;
  const outW = Math.floor((inW - kW) / strideW) + 1;
  if (inH < kH || inW < kW) throw new ShapeError(`maxPool2d: kernel ${kH}×${kW} is larger than the input ${inH}×${inW}`);
  const g: Pool2dGeometry = { batch, channels, inH, inW, kH, kW, strideH, strideW, outH, outW };
  const be = x._backend;
  // nothing will route a gradient back: the argmax positions need not be found
  if (!(isGradEnabled() && x.requiresGrad) && be.maxPool2dInfer) return new Tensor(be, be.maxPool2dInfer(x._handle, g), [batch, channels, outH, outW]);
  const { out, argmax } = be.maxPool2d(x._handle, g);
  return Tensor.fromOp(be, out, [batch, channels, outH, outW], 'maxPool2d', [x], (gy) => [
    new Tensor(be, be.maxPool2dBackward(gy._handle, argmax, g), x.shape),
  ]);
}
