/** 2-D convolution (cross-correlation, NCHW), as torch.nn.functional.conv2d. */
import type { Conv2dGeometry } from '../backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { backendOf } from './common.js';

export type Pair = number | readonly [number, number];

export function pair(v: Pair, what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= 0)) throw new ValueError(`${what} must be a non-negative integer or a pair of them, got ${String(v)}`);
  return p;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
}

export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): Conv2dGeometry {
  if (xShape.length !== 4) throw new ShapeError(`conv2d: input must be 4-D [N, C, H, W], got ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`conv2d: weight must be 4-D [out, in, kH, kW], got ${fmtShape(wShape)}`);
  const [batch, inC, inH, inW] = xShape as [number, number, number, number];
  const [outC, wC, kH, kW] = wShape as [number, number, number, number];
  if (wC !== inC) {
    throw new ShapeError(`conv2d: input ${fmtShape(xShape)} has ${inC} channels but weight ${fmtShape(wShape)} expects ${wC}`);
  }
  const [strideH, strideW] = pair(opts.stride ?? 1, 'conv2d: stride');
  const [padH, padW] = pair(opts.padding ?? 0, 'conv2d: padding');
  if (strideH < 1 || strideW < 1) throw new ValueError('conv2d: stride must be at least 1');
  const outH = Math.floor((inH + 2 * padH - kH) / strideH) + 1;
  const outW = Math.floor((inW + 2 * padW - kW) / strideW) + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(`conv2d: kernel ${kH}×${kW} is larger than the padded input ${inH + 2 * padH}×${inW + 2 * padW}`);
  }
  return { batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, outH, outW };
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const be = backendOf('conv2d', x, weight, bias);
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== g.outC)) {
    throw new ShapeError(`conv2d: bias ${fmtShape(bias.shape)} must be [${g.outC}]`);
  }
  const h = be.conv2d(x._handle, weight._handle, bias?._handle ?? null, g);
  const outShape = [g.batch, g.outC, g.outH, g.outW];
  return Tensor.fromOp(be, h, outShape, 'conv2d', [x, weight, bias], (gy) => [
    x.requiresGrad ? new Tensor(be, be.conv2dBackwardInput(gy._handle, weight._handle, g), x.shape) : null,
    weight.requiresGrad ? new Tensor(be, be.conv2dBackwardWeight(gy._handle, x._handle, g), weight.shape) : null,
    bias?.requiresGrad ? new Tensor(be, be.reduce('sum', gy._handle, outShape, [0, 2, 3]), bias.shape) : null,
  ]);
}
