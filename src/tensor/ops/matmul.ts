/** Matrix products and the fully connected layer. */
import { ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { backendOf } from './common.js';
import { add } from './elementwise.js';
import { reshape } from './layout.js';

/**
 * Batched C = op(A)·op(B) on [batch, rows, cols] tensors, op = transpose where flagged. Its
 * gradient is two more products of the same kind, so one kernel serves forward and backward.
 */
function bmm(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const be = backendOf('matmul', a, b);
  const [batch, ar, ac] = a.shape as [number, number, number];
  const [, br, bc] = b.shape as [number, number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  if (k !== k2) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape.slice(1))}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape.slice(1))}${transB ? 'ᵀ' : ''}`);
  }
  const h = be.matmul(a._handle, b._handle, batch, m, k, n, transA, transB);
  return Tensor.fromOp(be, h, [batch, m, n], 'matmul', [a, b], (g) => [
    a.requiresGrad ? (transA ? bmm(b, g, transB, true) : bmm(g, b, false, !transB)) : null,
    b.requiresGrad ? (transB ? bmm(g, a, true, transA) : bmm(a, g, !transA, false)) : null,
  ]);
}

/**
 * Matrix product: [m,k]·[k,n] → [m,n], or batched [b,m,k]·[b,k,n] → [b,m,n]; a 3-D left side
 * times a 2-D right side applies the same matrix to every batch item.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 2 && b.ndim === 2) {
    return reshape(bmm(reshape(a, [1, ...a.shape]), reshape(b, [1, ...b.shape]), false, false), [a.shape[0]!, b.shape[1]!]);
  }
  if (a.ndim === 3 && b.ndim === 2) {
    const [bs, m, k] = a.shape as [number, number, number];
    return reshape(matmul(reshape(a, [bs * m, k]), b), [bs, m, b.shape[1]!]);
  }
  if (a.ndim === 3 && b.ndim === 3) {
    if (a.shape[0] !== b.shape[0]) throw new ShapeError(`matmul: batch sizes differ: ${fmtShape(a.shape)} · ${fmtShape(b.shape)}`);
    return bmm(a, b, false, false);
  }
  throw new ShapeError(`matmul: expects 2-D or 3-D tensors, got ${fmtShape(a.shape)} · ${fmtShape(b.shape)}`);
}

/** y = x·Wᵀ + b, with W of shape [out, in] as in torch.nn.functional.linear; x is [..., in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${fmtShape(weight.shape)}`);
  const [out, inF] = weight.shape as [number, number];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`linear: input ${fmtShape(x.shape)} must end in ${inF} features to match weight ${fmtShape(weight.shape)}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== out)) {
    throw new ShapeError(`linear: bias ${fmtShape(bias.shape)} must be [${out}]`);
  }
  const rows = x.size / inF;
  const y = bmm(reshape(x, [1, rows, inF]), reshape(weight, [1, out, inF]), false, true);
  const y2 = reshape(y, [...x.shape.slice(0, -1), out]);
  return bias ? add(y2, bias) : y2;
}
