/** Elementwise arithmetic with NumPy broadcasting, and the activations. */
import type { BinaryOp, UnaryOp } from '../backend.js';
import { type Shape, broadcastShapes, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backendOf, checkFiniteScalar } from './common.js';

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const b = g._backend;
  const reduced = axes.length ? b.reduce('sum', g._handle, g.shape, axes) : g._handle;
  return new Tensor(b, reduced, shape);
}

function binary(op: BinaryOp, a: Tensor, bT: Tensor, grad: (g: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  const be = backendOf(op, a, bT);
  const outShape = broadcastShapes(a.shape, bT.shape, op);
  const h = be.binary(op, a._handle, a.shape, bT._handle, bT.shape, outShape);
  return Tensor.fromOp(be, h, outShape, op, [a, bT], (g) => {
    const [ga, gb] = grad(g);
    return [a.requiresGrad && ga ? sumTo(ga, a.shape) : null, bT.requiresGrad && gb ? sumTo(gb, bT.shape) : null];
  });
}

/** y = x·scale + shift, differentiable in x. */
export function affine(x: Tensor, scale: number, shift: number): Tensor {
  checkFiniteScalar('affine', 'scale', scale);
  checkFiniteScalar('affine', 'shift', shift);
  const be = x._backend;
  return Tensor.fromOp(be, be.affine(x._handle, x.size, scale, shift), x.shape, 'affine', [x], (g) => [
    scale === 1 ? g : affine(g, scale, 0),
  ]);
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  return binary('add', a, b, (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  return binary('sub', a, b, (g) => [g, b.requiresGrad ? neg(g) : null]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  return binary('mul', a, b, (g) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    checkFiniteScalar('div', 'divisor', b);
    const be = a._backend;
    const h = be.binary('div', a._handle, a.shape, be.fill(1, b), [], a.shape);
    return Tensor.fromOp(be, h, a.shape, 'div', [a], (g) => [div(g, b)]);
  }
  return binary('div', a, b, (g) => [
    a.requiresGrad ? div(g, b) : null,
    b.requiresGrad ? neg(div(mul(g, a), mul(b, b))) : null,
  ]);
}

function unary(op: UnaryOp, x: Tensor, grad: (g: Tensor, y: Tensor) => Tensor): Tensor {
  const be = x._backend;
  const h = be.unary(op, x._handle, x.size);
  const y: Tensor = Tensor.fromOp(be, h, x.shape, op, [x], (g) => [grad(g, y.detach())]);
  return y;
}

export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => neg(g));
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, y) => mul(g, y));
export const log = (x: Tensor): Tensor => unary('log', x, (g) => div(g, x.detach()));
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, y) => div(g, mul(y, 2)));
export const abs = (x: Tensor): Tensor =>
  unary('abs', x, (g) => mul(g, new Tensor(x._backend, x._backend.unary('sign', x._handle, x.size), x.shape)));
export const square = (x: Tensor): Tensor => unary('square', x, (g) => mul(g, mul(x.detach(), 2)));
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, y) => mul(g, affine(mul(y, y), -1, 1)));
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, (g, y) => mul(g, mul(y, affine(y, -1, 1))));

export function relu(x: Tensor): Tensor {
  return unary('relu', x, (g) => {
    const be = g._backend;
    return new Tensor(be, be.binary('reluGrad', x._handle, x.shape, g._handle, g.shape, x.shape), x.shape);
  });
}

/** x^p for a scalar exponent. */
export function pow(x: Tensor, p: number): Tensor {
  checkFiniteScalar('pow', 'exponent', p);
  const be = x._backend;
  return Tensor.fromOp(be, be.powScalar(x._handle, x.size, p), x.shape, 'pow', [x], (g) => [
    mul(g, mul(pow(x.detach(), p - 1), p)),
  ]);
}
