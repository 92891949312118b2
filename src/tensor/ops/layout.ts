/** Shape and layout: reshape, flatten, transpose, permute, slicing, concatenation, broadcasting. */
import { ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes, normAxis, sameShape, sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backendOf } from './common.js';
import { sumTo } from './elementwise.js';

/** Same data, new shape (one dimension may be -1). Shares storage: kernels never mutate inputs. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer !== s.lastIndexOf(-1)) throw new ShapeError(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  if (infer >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    s[infer] = x.size / rest;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  if (sameShape(s, x.shape)) return x;
  return Tensor.fromOp(x._backend, x._handle, s, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** Merges dimensions startDim..endDim into one, as torch.flatten. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis(startDim, x.ndim, 'flatten');
  const e = normAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const merged = sizeOf(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis(dim, x.ndim + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normAxis(dim, x.ndim, 'squeeze');
  return x.shape[d] === 1 ? reshape(x, [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]) : x;
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normAxis(a, x.ndim, 'permute'));
  if (p.length !== x.ndim || new Set(p).size !== p.length) {
    throw new ShapeError(`permute: ${fmtShape(perm)} is not a permutation of the ${x.ndim} dimensions of ${fmtShape(x.shape)}`);
  }
  const be = x._backend;
  const outShape = p.map((a) => x.shape[a]!);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  return Tensor.fromOp(be, be.permute(x._handle, x.shape, p), outShape, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normAxis(dim0, x.ndim, 'transpose');
  const b = normAxis(dim1, x.ndim, 'transpose');
  [perm[a], perm[b]] = [perm[b]!, perm[a]!];
  return permute(x, perm);
}

/** The block [start, start+length) along `dim`, copied. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis(dim, x.ndim, 'narrow');
  const size = x.shape[d]!;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > size) {
    throw new ShapeError(`narrow: [${start}, ${start + length}) is outside dimension ${d} of size ${size} in ${fmtShape(x.shape)}`);
  }
  const be = x._backend;
  const outShape = x.shape.map((v, i) => (i === d ? length : v));
  return Tensor.fromOp(be, be.slice(x._handle, x.shape, d, start, length), outShape, 'narrow', [x], (g) => {
    const zerosOn = (n: number) => {
      const shape = x.shape.map((v, i) => (i === d ? n : v));
      return new Tensor(be, be.zeros(sizeOf(shape)), shape);
    };
    return [cat([zerosOn(start), g, zerosOn(size - start - length)], d)];
  });
}

/** Concatenation along `dim`; all other dimensions must agree. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('cat: needs at least one tensor');
  const first = xs[0]!;
  const d = normAxis(dim, first.ndim, 'cat');
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((v, i) => i !== d && v !== first.shape[i])) {
      throw new ShapeError(`cat: shapes ${xs.map((u) => fmtShape(u.shape)).join(', ')} differ outside dimension ${d}`);
    }
  }
  const be = backendOf('cat', ...xs);
  const outShape = first.shape.map((v, i) => (i === d ? xs.reduce((s, t) => s + t.shape[d]!, 0) : v));
  const h = be.concat(xs.map((t) => t._handle), xs.map((t) => t.shape), d);
  return Tensor.fromOp(be, h, outShape, 'cat', xs, (g) => {
    let at = 0;
    return xs.map((t) => {
      const part = t.requiresGrad ? narrow(g, d, at, t.shape[d]!) : null;
      at += t.shape[d]!;
      return part;
    });
  });
}

/** Broadcasts x to `shape` (copying), as torch.Tensor.expand followed by contiguous(). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes(x.shape, shape, 'expand');
  if (!sameShape(out, shape)) throw new ShapeError(`expand: ${fmtShape(x.shape)} cannot be expanded to ${fmtShape(shape)}`);
  const be = x._backend;
  return Tensor.fromOp(be, be.broadcastTo(x._handle, x.shape, shape), shape, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}
