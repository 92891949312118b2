/** Reductions. */
import { normAxis, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

function axesOf(x: Tensor, axes: number | readonly number[] | undefined, op: string): number[] {
  if (axes === undefined) return x.shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const norm = [...new Set(list.map((a) => normAxis(a, x.ndim, op)))];
  return norm.sort((a, b) => a - b);
}

function keptShape(x: Tensor, axes: number[], keepDim: boolean): number[] {
  return keepDim ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const ax = axesOf(x, axes, 'sum');
  const be = x._backend;
  const outShape = keptShape(x, ax, keepDim);
  const h = ax.length ? be.reduce('sum', x._handle, x.shape, ax) : be.affine(x._handle, x.size, 1, 0);
  return Tensor.fromOp(be, h, outShape, 'sum', [x], (g) => {
    const gk = keptShape(x, ax, true);
    return [new Tensor(be, be.broadcastTo(g._handle, gk, x.shape), x.shape)];
  });
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const ax = axesOf(x, axes, 'mean');
  const count = sizeOf(ax.map((a) => x.shape[a]!));
  return sum(x, ax, keepDim).div(count);
}

/**
 * Maximum over `axes`. Not differentiable: the result is detached (used for numerical shifts such
 * as log-sum-exp, whose gradient does not depend on the shift).
 */
export function amax(x: Tensor, axes?: number | readonly number[], keepDim = false): Tensor {
  const ax = axesOf(x, axes, 'amax');
  const be = x._backend;
  return new Tensor(be, be.reduce('max', x._handle, x.shape, ax), keptShape(x, ax, keepDim));
}
