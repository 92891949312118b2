/**
 * The op/kernel seam. An op (src/tensor/ops) is defined once: it checks shapes, calls kernels and
 * records its gradient. A backend owns arithmetic only: it stores data behind opaque handles and
 * implements the kernels below on them. The CPU backend's handles are Float32Arrays; a GPU backend's
 * are resident buffers that are read back only when the user asks for values.
 *
 * Kernels never mutate their inputs unless their name says so (`…InPlace`) and never keep references
 * to them, so a backend may return its input handle only where documented.
 */
import type { Shape } from './shape.js';
import { ValueError } from './errors.js';

/** An opaque reference to a backend's storage of float32 values. */
export type Handle = unknown;

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'relu' | 'tanh' | 'sigmoid' | 'square';
/** `reluGrad(x, g)` passes g where x > 0: the gradient of relu, fused. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'reluGrad';
export type ReduceOp = 'sum' | 'max';

export interface Conv2dGeometry {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

export interface Pool2dGeometry {
  batch: number;
  channels: number;
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  outH: number;
  outW: number;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** true: AdamW's decoupled decay (p -= lr·wd·p); false: L2 added to the gradient, as torch.optim.Adam. */
  decoupled: boolean;
  /** The 1-based step number, for bias correction. */
  step: number;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** True on the first step, when PyTorch initialises the momentum buffer with the gradient itself. */
  first: boolean;
}

export interface Backend {
  readonly name: string;

  // ── memory ────────────────────────────────────────────────────────────────────────────────────
  /** Takes ownership of `data` (the caller will not touch it again). */
  fromArray(data: Float32Array): Handle;
  zeros(size: number): Handle;
  fill(size: number, value: number): Handle;
  /** A fresh host copy of the values. */
  read(h: Handle, size: number): Float32Array;
  /**
   * Releases storage early; optional, the garbage collector does it otherwise. A backend that has it
   * reports every handle it makes, temporaries included, with `madeInScope` (src/tensor/memory.ts),
   * so that `tidy` can release the ones no tensor holds.
   */
  dispose?(h: Handle): void;

  // ── elementwise ───────────────────────────────────────────────────────────────────────────────
  unary(op: UnaryOp, x: Handle, size: number): Handle;
  /** Broadcasting binary op; `outShape` is the broadcast of both shapes. */
  binary(op: BinaryOp, a: Handle, aShape: Shape, b: Handle, bShape: Shape, outShape: Shape): Handle;
  /** y = x·scale + shift, the workhorse for scalar arithmetic. */
  affine(x: Handle, size: number, scale: number, shift: number): Handle;
  /** y = x^p for a scalar exponent. */
  powScalar(x: Handle, size: number, p: number): Handle;

  // ── layout ────────────────────────────────────────────────────────────────────────────────────
  /** Sums (or maxes) over `axes`; the result has those axes removed. */
  reduce(op: ReduceOp, x: Handle, shape: Shape, axes: readonly number[]): Handle;
  /** Repeats x (broadcast-compatible with outShape) to fill outShape. */
  broadcastTo(x: Handle, shape: Shape, outShape: Shape): Handle;
  permute(x: Handle, shape: Shape, perm: readonly number[]): Handle;
  /** Copies the block [start, start+len) of axis `axis` out of x. */
  slice(x: Handle, shape: Shape, axis: number, start: number, len: number): Handle;
  /** Concatenates along `axis`. */
  concat(xs: readonly Handle[], shapes: readonly Shape[], axis: number): Handle;

  // ── linear algebra and layers ─────────────────────────────────────────────────────────────────
  /** Batched C[b] = op(A[b])·op(B[b]) with op = transpose when the flag is set. A: [batch, m, k] (or [batch, k, m] transposed). */
  matmul(a: Handle, b: Handle, batch: number, m: number, k: number, n: number, transA: boolean, transB: boolean): Handle;
  conv2d(x: Handle, w: Handle, bias: Handle | null, g: Conv2dGeometry): Handle;
  /**
   * Inference only (optional: else conv2d, maxPool2dInfer and relu in turn): conv2d, then 2×2
   * max-pool at stride 2, then ReLU when `relu`. Output [N, outC, ⌊outH/2⌋, ⌊outW/2⌋].
   */
  conv2dMaxPool2?(x: Handle, w: Handle, bias: Handle | null, g: Conv2dGeometry, relu: boolean): Handle;
  conv2dBackwardInput(gy: Handle, w: Handle, g: Conv2dGeometry): Handle;
  conv2dBackwardWeight(gy: Handle, x: Handle, g: Conv2dGeometry): Handle;
  /** Returns the pooled output and a handle to the argmax positions that backward needs. */
  maxPool2d(x: Handle, g: Pool2dGeometry): { out: Handle; argmax: Handle };
  maxPool2dBackward(gy: Handle, argmax: Handle, g: Pool2dGeometry): Handle;
  /** The pooled output alone, when no gradient will be asked for (optional: else maxPool2d's `out`). */
  maxPool2dInfer?(x: Handle, g: Pool2dGeometry): Handle;
  /** Training-mode batch norm over N,H,W per channel. Returns per-channel batch mean and biased variance too. */
  batchNormTrain(
    x: Handle, gamma: Handle | null, beta: Handle | null, n: number, c: number, hw: number, eps: number,
  ): { out: Handle; mean: Handle; varBiased: Handle };
  batchNormBackward(
    gy: Handle, x: Handle, gamma: Handle | null, mean: Handle, varBiased: Handle, n: number, c: number, hw: number, eps: number,
  ): { gx: Handle; gGamma: Handle; gBeta: Handle };
  /** Per-channel y = (x − mean)/√(var+eps)·γ + β with given statistics (eval mode). */
  batchNormInfer(
    x: Handle, gamma: Handle | null, beta: Handle | null, mean: Handle, variance: Handle, n: number, c: number, hw: number, eps: number,
  ): Handle;

  // ── optimisers (return the new state; a backend may update in place and return the same handles) ─
  adamStep(p: Handle, g: Handle, m: Handle, v: Handle, size: number, h: AdamHyper): { p: Handle; m: Handle; v: Handle };
  sgdStep(p: Handle, g: Handle, buf: Handle | null, size: number, h: SgdHyper): { p: Handle; buf: Handle | null };
}

const registry = new Map<string, () => Backend>();
const instances = new Map<string, Backend>();
let current: Backend | null = null;
let defaultName = 'cpu';

/** Makes a backend available under `name`; the factory runs on first use. */
export function registerBackend(name: string, factory: () => Backend, opts: { makeDefault?: boolean } = {}): void {
  registry.set(name, factory);
  instances.delete(name);
  if (opts.makeDefault) defaultName = name;
}

export function listBackends(): string[] {
  return [...registry.keys()];
}

export function backendByName(name: string): Backend {
  let b = instances.get(name);
  if (!b) {
    const f = registry.get(name);
    if (!f) throw new ValueError(`unknown backend '${name}'; registered: ${listBackends().join(', ') || 'none'}`);
    b = f();
    instances.set(name, b);
  }
  return b;
}

/** Selects the backend new tensors are created on. */
export function setBackend(name: string): void {
  current = backendByName(name);
}

/** The name of the backend new tensors are created on. */
export function getBackend(): string {
  return currentBackend().name;
}

export function currentBackend(): Backend {
  if (!current) current = backendByName(defaultName);
  return current;
}
