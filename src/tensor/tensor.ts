import './cpu/register.js';
import { backward as runBackward, isGradEnabled, type GradNode } from './autograd.js';
import { type Backend, type Handle, backendByName, currentBackend } from './backend.js';
import { GradError, SerTsError, ShapeError, fmtShape } from './errors.js';
import { release, retain, track, untrack } from './memory.js';
import * as E from './ops/elementwise.js';
import * as L from './ops/layout.js';
import * as M from './ops/matmul.js';
import * as R from './ops/reduce.js';
import { type Shape, checkShape, sizeOf } from './shape.js';

/**
 * An n-dimensional float32 array on a backend, with optional gradient tracking. Data lives behind
 * the backend's handle and is read back to the host only by `toArray`/`item`.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** Whether gradients flow to this tensor. Settable on leaves only. */
  requiresGrad: boolean;
  /** Accumulated gradient after `backward()` (leaves only), as in PyTorch. */
  grad: Tensor | null = null;
  /** @internal the op that produced this tensor; null for leaves. */
  _node: GradNode | null;
  /** @internal */
  _backend: Backend;
  private handle: Handle | null;
  private writes = 0;

  /** @internal use `tensor()` or the factories; ops use `Tensor.fromHandle`. */
  constructor(backend: Backend, handle: Handle, shape: Shape, requiresGrad = false, node: GradNode | null = null) {
    this._backend = backend;
    this.handle = handle;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.requiresGrad = requiresGrad;
    this._node = node;
    retain(handle);
    track(this, 4 * this.size);
  }

  /** @internal The backend's handle to the values; a disposed tensor has none. */
  get _handle(): Handle {
    if (this.handle === null) throw new DisposedError(`a tensor of shape ${fmtShape(this.shape)} was used after it was disposed (by dispose(), or by the tidy() it was made in; keep() it, or return it from tidy, to use it later)`);
    return this.handle;
  }

  /**
   * How many times the storage was replaced in place (optimiser steps, running statistics, a loaded
   * state dict, a move to another backend), as PyTorch's `_version`: what a cache of values derived
   * from this tensor compares to know it is stale.
   */
  get version(): number {
    return this.writes;
  }

  get isDisposed(): boolean {
    return this.handle === null;
  }

  /**
   * Gives the storage back to the backend now (on the GPU: deletes the texture) when no other
   * tensor shares it (a view, a detached copy). Using the tensor afterwards is an error; disposing
   * twice is not. The gradient, if any, stays: dispose it too if nothing else holds it.
   */
  dispose(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    untrack(this, 4 * this.size);
    release(this._backend, h);
  }

  /**
   * @internal Wraps a kernel's output. When recording is on and some parent requires a gradient,
   * the result joins the graph with `backward` as its local gradient.
   */
  static fromOp(
    backend: Backend, handle: Handle, shape: Shape, op: string,
    parents: readonly (Tensor | null)[], backward: GradNode['backward'],
  ): Tensor {
    const needs = isGradEnabled() && parents.some((p) => p?.requiresGrad);
    if (!needs) return new Tensor(backend, handle, shape);
    return new Tensor(backend, handle, shape, true, { op, parents, backward });
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** True for tensors made by the user (not by an op); only leaves keep `.grad`. */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** Name of the backend the data lives on. */
  get device(): string {
    return this._backend.name;
  }

  /** A host copy of the values, row-major. */
  toArray(): Float32Array {
    return this._backend.read(this._handle, this.size);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.toArray()[0]!;
  }

  /** Back-propagates from this tensor; `gradient` is required unless it holds one element. */
  backward(gradient?: Tensor): void {
    runBackward(this, gradient ?? null, (t) => fullLike(t, 1), E.add);
  }

  /** Marks a leaf as trainable (chainable). */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf) throw new GradError('requiresGrad_: only leaf tensors can change requiresGrad (use detach())');
    this.requiresGrad = flag;
    return this;
  }

  /** The same data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this._backend, this._handle, this.shape);
  }

  /** A copy with its own storage, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this._backend, this._backend.affine(this._handle, this.size, 1, 0), this.shape);
  }

  /** This tensor's data on another backend (a copy unless it is already there). */
  to(backendName: string): Tensor {
    const b = backendByName(backendName);
    if (b === this._backend) return this;
    return new Tensor(b, b.fromArray(this.toArray()), this.shape, this.requiresGrad && this.isLeaf);
  }

  /**
   * @internal Replaces this tensor's storage in place (optimisers, running statistics, loading a
   * state dict), keeping identity so modules and optimisers that hold it see the new values.
   */
  _assign(handle: Handle): void {
    const old = this._handle;
    retain(handle); // first: a backend that updates in place returns the same handle
    this.handle = handle;
    this.writes++;
    release(this._backend, old);
  }

  /** @internal Moves this tensor's storage to another backend in place (Module.to). Drops its gradient. */
  _moveTo(b: Backend): void {
    if (b === this._backend) return;
    const values = this.toArray();
    const old = this._handle;
    const from = this._backend;
    this._backend = b;
    this.handle = b.fromArray(values);
    this.writes++;
    retain(this.handle);
    release(from, old);
    this.grad = null;
  }

  toString(): string {
    const v = this.size <= 8 ? ` [${Array.from(this.toArray()).map((x) => +x.toPrecision(5)).join(', ')}]` : '';
    return `Tensor(shape=${fmtShape(this.shape)}${v}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ── method forms of common ops (see src/tensor/ops for docs) ──────────────────────────────
  add(o: Tensor | number): Tensor { return E.add(this, o); }
  sub(o: Tensor | number): Tensor { return E.sub(this, o); }
  mul(o: Tensor | number): Tensor { return E.mul(this, o); }
  div(o: Tensor | number): Tensor { return E.div(this, o); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  pow(p: number): Tensor { return E.pow(this, p); }
  relu(): Tensor { return E.relu(this); }
  sum(axes?: number | number[], keepDim = false): Tensor { return R.sum(this, axes, keepDim); }
  mean(axes?: number | number[], keepDim = false): Tensor { return R.mean(this, axes, keepDim); }
  reshape(shape: readonly number[]): Tensor { return L.reshape(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return L.flatten(this, startDim, endDim); }
  transpose(dim0: number, dim1: number): Tensor { return L.transpose(this, dim0, dim1); }
  permute(perm: readonly number[]): Tensor { return L.permute(this, perm); }
  matmul(o: Tensor): Tensor { return M.matmul(this, o); }
}

/** A tensor used after `dispose()` or after the `tidy` scope it was made in ended. */
export class DisposedError extends SerTsError {}

export interface TensorOptions {
  requiresGrad?: boolean;
}

/** Creates a tensor from values (copied) and a shape; shape defaults to [data.length]. */
export function tensor(data: Float32Array | readonly number[], shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  const s = shape ?? [data.length];
  checkShape(s);
  if (sizeOf(s) !== data.length) {
    throw new ShapeError(`tensor: ${data.length} values cannot fill shape ${fmtShape(s)} (${sizeOf(s)} elements)`);
  }
  const b = currentBackend();
  return new Tensor(b, b.fromArray(Float32Array.from(data)), s, opts.requiresGrad ?? false);
}

/** A one-element tensor of shape []. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor([value], [], opts);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  const b = currentBackend();
  return new Tensor(b, b.zeros(sizeOf(shape)), shape, opts.requiresGrad ?? false);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape(shape);
  const b = currentBackend();
  return new Tensor(b, b.fill(sizeOf(shape), value), shape, opts.requiresGrad ?? false);
}

export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A tensor of `value` with t's shape, on t's backend. */
export function fullLike(t: Tensor, value: number): Tensor {
  return new Tensor(t._backend, t._backend.fill(t.size, value), t.shape);
}
