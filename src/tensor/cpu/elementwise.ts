import type { BinaryOp, UnaryOp } from '../backend.js';
import { type Shape, sizeOf, stridesOf } from '../shape.js';

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: Math.sign,
  relu: (x) => (x > 0 ? x : 0),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  square: (x) => x * x,
};

export function unary(op: UnaryOp, x: Float32Array, size: number): Float32Array {
  const out = new Float32Array(size);
  if (op === 'relu') {
    // branchless: with random signs a `v > 0 ? v : 0` mispredicts half the time (8× slower here);
    // exact, and NaN stays NaN as in PyTorch
    for (let i = 0; i < size; i++) {
      const v = x[i]!;
      out[i] = (v + Math.abs(v)) * 0.5;
    }
    return out;
  }
  const f = unaryFns[op];
  for (let i = 0; i < size; i++) out[i] = f(x[i]!);
  return out;
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // gradient of relu: passes b where a (the relu input) was positive
  reluGrad: (a, b) => (a > 0 ? b : 0),
};

/** Same-shape fast paths for the ops that dominate training. */
function sameShape(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
  const n = out.length;
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
      return true;
    case 'sub':
      for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
      return true;
    case 'mul':
      for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
      return true;
    case 'reluGrad': {
      // branchless select on the bit patterns: keeps b exactly where a > 0, else +0
      const bi = new Int32Array(b.buffer, b.byteOffset, n);
      const oi = new Int32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) oi[i] = bi[i]! & -(a[i]! > 0);
      return true;
    }
    default:
      return false;
  }
}

/** Strides of `shape` seen through `outShape`: 0 along broadcast dimensions. */
function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const nd = outShape.length;
  const own = stridesOf(shape);
  const s = new Array<number>(nd).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const d = nd - shape.length + i;
    s[d] = shape[i] === 1 ? 0 : own[i]!;
  }
  return s;
}

/**
 * Walks outShape in row-major order, calling `inner(outOffset, aOffset, bOffset)` once per run of the
 * last dimension; the odometer moves the input offsets by their (possibly zero) strides.
 */
function walk(
  outShape: Shape, aStr: number[], bStr: number[],
  inner: (o: number, ao: number, bo: number) => void,
): void {
  const nd = outShape.length;
  if (nd === 0) {
    inner(0, 0, 0);
    return;
  }
  const last = outShape[nd - 1]!;
  const total = sizeOf(outShape);
  if (total === 0) return;
  const idx = new Array<number>(nd).fill(0);
  let ao = 0;
  let bo = 0;
  for (let o = 0; o < total; o += last) {
    inner(o, ao, bo);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      ao += aStr[d]!;
      bo += bStr[d]!;
      if (idx[d]! < outShape[d]!) break;
      ao -= aStr[d]! * outShape[d]!;
      bo -= bStr[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

export function binary(
  op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, outShape: Shape,
): Float32Array {
  const size = sizeOf(outShape);
  const out = new Float32Array(size);
  const aSize = sizeOf(aShape);
  const bSize = sizeOf(bShape);
  if (aSize === size && bSize === size && sameShape(op, a, b, out)) return out;
  const f = binaryFns[op];
  if (aSize === size && bSize === size) {
    for (let i = 0; i < size; i++) out[i] = f(a[i]!, b[i]!);
    return out;
  }
  if (bSize === 1) {
    const s = b[0]!;
    for (let i = 0; i < size; i++) out[i] = f(a[i]!, s);
    return out;
  }
  if (aSize === 1) {
    const s = a[0]!;
    for (let i = 0; i < size; i++) out[i] = f(s, b[i]!);
    return out;
  }
  const nd = outShape.length;
  const aStr = broadcastStrides(aShape, outShape);
  const bStr = broadcastStrides(bShape, outShape);
  const last = outShape[nd - 1]!;
  const ai = aStr[nd - 1]!;
  const bi = bStr[nd - 1]!;
  walk(outShape, aStr, bStr, (o, ao, bo) => {
    for (let j = 0; j < last; j++) out[o + j] = f(a[ao + j * ai]!, b[bo + j * bi]!);
  });
  return out;
}

export function affine(x: Float32Array, size: number, scale: number, shift: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = x[i]! * scale + shift;
  return out;
}

export function powScalar(x: Float32Array, size: number, p: number): Float32Array {
  const out = new Float32Array(size);
  if (p === 2) for (let i = 0; i < size; i++) out[i] = x[i]! * x[i]!;
  else if (p === 0.5) for (let i = 0; i < size; i++) out[i] = Math.sqrt(x[i]!);
  else for (let i = 0; i < size; i++) out[i] = Math.pow(x[i]!, p);
  return out;
}

export function broadcastTo(x: Float32Array, shape: Shape, outShape: Shape): Float32Array {
  const out = new Float32Array(sizeOf(outShape));
  const nd = outShape.length;
  if (nd === 0) {
    out[0] = x[0]!;
    return out;
  }
  const xStr = broadcastStrides(shape, outShape);
  const zero = new Array<number>(nd).fill(0);
  const last = outShape[nd - 1]!;
  const xi = xStr[nd - 1]!;
  walk(outShape, xStr, zero, (o, xo) => {
    for (let j = 0; j < last; j++) out[o + j] = x[xo + j * xi]!;
  });
  return out;
}
