import type { ReduceOp } from '../backend.js';
import { type Shape, sizeOf, stridesOf } from '../shape.js';

/**
 * Sum or max over `axes`. Sums accumulate in float64, so a bias gradient summed over 200k
 * activations keeps float32 precision.
 */
export function reduce(op: ReduceOp, x: Float32Array, shape: Shape, axes: readonly number[]): Float32Array {
  const nd = shape.length;
  const reduced = new Set(axes);
  const outShape = shape.filter((_, i) => !reduced.has(i));
  const outSize = sizeOf(outShape);
  const inSize = sizeOf(shape);
  // stride in the output for each input dimension (0 where reduced)
  const outStr = stridesOf(outShape);
  const map = new Array<number>(nd).fill(0);
  for (let i = 0, k = 0; i < nd; i++) if (!reduced.has(i)) map[i] = outStr[k++]!;

  const acc = new Float64Array(outSize).fill(op === 'max' ? -Infinity : 0);
  if (inSize > 0 && nd > 0) {
    const last = shape[nd - 1]!;
    const li = map[nd - 1]!;
    const idx = new Array<number>(nd).fill(0);
    let o = 0;
    for (let i = 0; i < inSize; i += last) {
      if (op === 'sum') {
        if (li === 0) {
          let s = 0;
          for (let j = 0; j < last; j++) s += x[i + j]!;
          acc[o] += s;
        } else {
          for (let j = 0; j < last; j++) acc[o + j * li] += x[i + j]!;
        }
      } else {
        for (let j = 0; j < last; j++) {
          const v = x[i + j]!;
          const t = o + j * li;
          if (v > acc[t]! || Number.isNaN(v)) acc[t] = v;
        }
      }
      for (let d = nd - 2; d >= 0; d--) {
        idx[d]!++;
        o += map[d]!;
        if (idx[d]! < shape[d]!) break;
        o -= map[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  } else if (nd === 0) {
    acc[0] = x[0]!;
  }
  return Float32Array.from(acc);
}

export function permute(x: Float32Array, shape: Shape, perm: readonly number[]): Float32Array {
  const nd = shape.length;
  const size = sizeOf(shape);
  const out = new Float32Array(size);
  if (nd === 0 || size === 0) {
    if (size) out[0] = x[0]!;
    return out;
  }
  const inStr = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  // input stride for each output dimension
  const str = perm.map((p) => inStr[p]!);
  const last = outShape[nd - 1]!;
  const ls = str[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let xo = 0;
  for (let o = 0; o < size; o += last) {
    for (let j = 0; j < last; j++) out[o + j] = x[xo + j * ls]!;
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      xo += str[d]!;
      if (idx[d]! < outShape[d]!) break;
      xo -= str[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

export function slice(x: Float32Array, shape: Shape, axis: number, start: number, len: number): Float32Array {
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const dim = shape[axis]!;
  const out = new Float32Array(outer * len * inner);
  for (let o = 0; o < outer; o++) {
    const src = (o * dim + start) * inner;
    out.set(x.subarray(src, src + len * inner), o * len * inner);
  }
  return out;
}

export function concat(xs: readonly Float32Array[], shapes: readonly Shape[], axis: number): Float32Array {
  const first = shapes[0]!;
  const outer = sizeOf(first.slice(0, axis));
  const inner = sizeOf(first.slice(axis + 1));
  const total = shapes.reduce((s, sh) => s + sh[axis]!, 0);
  const out = new Float32Array(outer * total * inner);
  for (let o = 0; o < outer; o++) {
    let at = o * total * inner;
    for (let k = 0; k < xs.length; k++) {
      const block = shapes[k]![axis]! * inner;
      out.set(xs[k]!.subarray(o * block, (o + 1) * block), at);
      at += block;
    }
  }
  return out;
}
