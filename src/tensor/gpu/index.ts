/**
 * The GPU backend: the same kernels as the CPU backend, written for gpu.js, which compiles them for
 * a real GPU (headless-gl in Node, WebGL2/WebGL in browsers) or, where no GPU context exists, to
 * WebAssembly with SIMD. Handles are whatever gpu.js's pipeline mode returns: textures that stay on
 * the GPU between kernels on GL backends, plain Float32Arrays on WebAssembly (which has no device
 * memory). Values come back to the host only through `read`, which is counted.
 *
 * gpu.js's WebGPU mode is asynchronous only (its kernels return Promises), and this backend
 * implements the synchronous kernel seam, so it is not offered; `mode: 'async'` likewise.
 */
import type { AdamHyper, Backend, BinaryOp, Conv2dGeometry, Handle, Pool2dGeometry, ReduceOp, SgdHyper, UnaryOp } from '../backend.js';
import { ShapeError, ValueError } from '../errors.js';
import { type Shape, sizeOf, stridesOf } from '../shape.js';
import * as K from './kernels.js';
import { madeInScope, release } from '../memory.js';
import { glRenderer } from './renderer.js';

const inBrowser = () => typeof (globalThis as { document?: unknown }).document !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

/** The gpu.js modes this backend runs on (synchronous ones). */
export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

/** The slice of gpu.js's API this backend uses (typed here so gpu.js stays an implementation detail). */
export interface GpuJsModule {
  GPU: (new (settings: { mode?: string }) => GpuInstance) & Record<string, unknown>;
}
interface GpuInstance {
  mode: string;
  createKernel(fn: (...args: never[]) => number | number[], settings: Record<string, unknown>): KernelFn;
  createKernelMap(subKernels: Record<string, (...args: never[]) => number[]>, fn: (...args: never[]) => number[], settings: Record<string, unknown>): KernelFn;
  destroy(): void;
}
type KernelFn = ((...args: unknown[]) => unknown) & { kernel?: { constructor: { name: string }; fallbackReason?: string | null } };
interface Texture {
  toArray(): Float32Array | number[];
  delete?(): void;
}
type Kernel = KernelFn & { destroy?(removeCanvasReferences?: boolean): void };

export interface GpuStats {
  /** Host → backend copies (fromArray). */
  uploads: number;
  /** Backend → host copies (read). */
  readbacks: number;
  /** Kernels compiled (one per op and shape). */
  compiled: number;
  /** Kernel launches. */
  launches: number;
  /** Output textures alive now: made by kernels and not yet disposed (with tidy/dispose, flat across training steps). */
  textures: number;
  /** Compiled kernels held now (at most `maxKernels`; the least recently used is destroyed beyond it). */
  kernels: number;
}

export interface GpuBackend extends Backend {
  /** The gpu.js mode the kernels run in. */
  readonly mode: GpuMode;
  /** The GL renderer the kernels run on (WEBGL_debug_renderer_info), or null in gpu.js's emulated modes. */
  renderer(): string | null;
  stats(): GpuStats;
  resetStats(): void;
  /** Frees the compiled kernels and gpu.js's context. */
  destroy(): void;
}

const UNARY_CODES: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, relu: 6, tanh: 7, sigmoid: 8, square: 9 };
const BINARY_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, reluGrad: 4 };
/** Index arithmetic runs in float32 on GPUs: exact below 2²⁴. */
const MAX_CELLS = 1 << 24;
const MAX_RANK = 6;
/** conv3x3BlockKernel's outputs beside the one it returns. */
const BLOCK_OUTPUTS = { lane1: K.output1, lane2: K.output2, lane3: K.output3 };
/** matmul4x4Kernel's outputs beside the one it returns. */
const TILE_OUTPUTS = { row1: K.output1, row2: K.output2, row3: K.output3 };

/** The first mode of `preference` that gpu.js can run here. */
export function availableModes(gpujs: GpuJsModule): GpuMode[] {
  const G = gpujs.GPU as unknown as Record<string, boolean>;
  const supported: Record<GpuMode, boolean> = {
    headlessgl: Boolean(G.isHeadlessGLSupported),
    webgl2: Boolean(G.isWebGL2Supported),
    webgl: Boolean(G.isWebGLSupported),
    webasm: Boolean(G.isWebAssemblySupported),
    cpu: true,
  };
  return GPU_MODES.filter((m) => supported[m]);
}

export interface GpuBackendOptions {
  /** A gpu.js mode, or 'auto' (default): the first available of headlessgl, webgl2, webgl, webasm, cpu. */
  mode?: GpuMode | 'auto';
  /** Compiled kernels kept, one per op and shape; beyond it the least recently used is destroyed. Default 256. */
  maxKernels?: number;
}

export function createGpuBackend(gpujs: GpuJsModule, opts: GpuBackendOptions = {}): GpuBackend {
  const available = availableModes(gpujs);
  const requested = opts.mode ?? 'auto';
  if (requested !== 'auto' && !GPU_MODES.includes(requested)) {
    throw new ValueError(`gpu backend: mode must be 'auto' or one of ${GPU_MODES.join(', ')}, got '${String(requested)}'`);
  }
  const mode: GpuMode = requested === 'auto' ? available[0]! : requested;
  if (!available.includes(mode)) throw new ValueError(`gpu backend: gpu.js mode '${mode}' is not available here (available: ${available.join(', ')})`);
  // in a page, gpu.js's WebAssembly mode gives every kernel a WebAssembly memory of its own, and
  // browsers refuse the hundred-odd that a training step needs: refuse it up front
  if (mode === 'webasm' && inBrowser()) throw new ValueError("gpu backend: gpu.js's 'webasm' mode runs out of WebAssembly memory in browsers (one memory per kernel); use WebGL ('webgl2', 'webgl') or the cpu backend");
  const maxKernels = opts.maxKernels ?? 256;
  if (!(Number.isInteger(maxKernels) && maxKernels >= 1)) throw new ValueError(`gpu backend: maxKernels must be a positive integer, got ${opts.maxKernels}`);
  const gpu = new gpujs.GPU({ mode });
  // insertion order is recency order: a hit moves the kernel to the end, eviction takes the first
  const kernels = new Map<string, Kernel>();
  const stats: GpuStats = { uploads: 0, readbacks: 0, compiled: 0, launches: 0, textures: 0, kernels: 0 };

  /** The compiled kernel for `key`, made by `make` on first use; the least recently used goes beyond `maxKernels`. */
  function cached(key: string, make: () => Kernel): Kernel {
    let k = kernels.get(key);
    if (k) {
      kernels.delete(key);
    } else {
      k = make();
      stats.compiled++;
      if (kernels.size >= maxKernels) {
        const [oldKey, old] = kernels.entries().next().value!;
        kernels.delete(oldKey);
        // its program and its own output texture go; the textures it returned are clones that keep theirs
        old.destroy?.(false);
      }
    }
    kernels.set(key, k);
    stats.kernels = kernels.size;
    return k;
  }

  /** A texture a kernel returned: counted, and released by tidy if no tensor comes to hold it. */
  function made(out: Handle): Handle {
    if (!(out instanceof Float32Array)) {
      stats.textures++;
      madeInScope(backend, out);
    }
    return out;
  }

  const settings = (size: number, constants: Record<string, number>, vec4: boolean) => ({
    output: [size], constants, pipeline: true, immutable: true, precision: 'single', tactic: 'precision',
    loopMaxIterations: 1 << 24, dynamicOutput: false, ...(vec4 ? { returnType: 'Array(4)' } : {}),
  });

  /**
   * Runs `fn` over `size` cells with `constants`, compiling it on first use for that shape. A
   * kernel that returns four values a cell (`vec4`) writes a packed texture (see kernels.ts).
   */
  function run(name: string, fn: (...args: never[]) => number | number[], size: number, constants: Record<string, number>, args: unknown[], vec4 = false): Handle {
    if (size >= MAX_CELLS) throw new ShapeError(`gpu backend: ${name} would write ${size} values; kernels are limited to ${MAX_CELLS - 1}`);
    if (size === 0) return new Float32Array(0);
    const k = cached(`${name}|${size}|${JSON.stringify(constants)}`, () => gpu.createKernel(fn, settings(size, constants, vec4)) as Kernel);
    stats.launches++;
    return made(k(...args) as Handle);
  }

  /**
   * A kernel with more than one output (gpu.js's kernel map, WebGL's multiple render targets): the
   * texture `fn` returns, then one per function of `subs` that `fn` calls, in their order.
   */
  function runMap(name: string, fn: (...args: never[]) => number[], subs: Record<string, (...args: never[]) => number[]>, size: number, constants: Record<string, number>, args: unknown[]): Handle[] {
    if (size >= MAX_CELLS) throw new ShapeError(`gpu backend: ${name} would write ${size} values; kernels are limited to ${MAX_CELLS - 1}`);
    if (size === 0) return [fn, ...Object.keys(subs)].map(() => new Float32Array(0));
    const k = cached(`${name}|${size}|${JSON.stringify(constants)}`, () => gpu.createKernelMap(subs, fn, settings(size, constants, true)) as Kernel);
    stats.launches++;
    const out = k(...args) as Record<string, Handle>;
    return [made(out.result!), ...Object.keys(subs).map((s) => made(out[s]!))];
  }

  const empty = new Float32Array(1);
  const toArray = (h: Handle): Float32Array => {
    if (h instanceof Float32Array) return h;
    const a = (h as Texture).toArray();
    return a instanceof Float32Array ? a : Float32Array.from(a);
  };

  /** Constants for a gather over `outShape` through `strides` (rank ≤ 6, padded on the left). */
  function gatherConstants(outShape: Shape, strides: readonly number[], prefix: string, into: Record<string, number>): void {
    if (outShape.length > MAX_RANK) throw new ShapeError(`gpu backend: tensors of rank ${outShape.length} are not supported (at most ${MAX_RANK})`);
    const pad = MAX_RANK - outShape.length;
    for (let d = 0; d < MAX_RANK; d++) {
      const src = d - pad;
      into[`o${d}`] = src >= 0 ? outShape[src]! : 1;
      into[`${prefix}${d}`] = src >= 0 ? strides[src]! : 0;
    }
  }

  /** Strides of `shape` read as broadcast to `outShape` (0 along broadcast axes). */
  function broadcastStrides(shape: Shape, outShape: Shape): number[] {
    const s = stridesOf(shape);
    const off = outShape.length - shape.length;
    return outShape.map((d, i) => (i < off || shape[i - off] === 1 ? 0 : s[i - off]!));
  }

  function reduceInner(op: ReduceOp, x: Handle, outer: number, n: number): Handle {
    return run('reduceInner', K.reduceInnerKernel, outer, { n, op: op === 'sum' ? 0 : 1 }, [x]);
  }

  function permute(x: Handle, shape: Shape, perm: readonly number[]): Handle {
    const s = stridesOf(shape);
    const outShape = perm.map((p) => shape[p]!);
    const c: Record<string, number> = {};
    gatherConstants(outShape, perm.map((p) => s[p]!), 'a', c);
    return run('gather', K.gatherKernel, sizeOf(outShape), c, [x]);
  }

  /** Per-channel totals of a [n, c, hw] layout: partial sums per (sample, channel), then over samples. */
  function channelSums(op: number, x: Handle, shift: Handle, gy: Handle, n: number, c: number, hw: number, scale: number): Handle {
    const partial = run('channelPartial', K.channelPartialKernel, n * c, { c, hw, op }, [x, shift, gy]);
    return run('channelTotal', K.channelTotalKernel, c, { n, c }, [partial, scale]);
  }

  // On GL the heavy kernels run on packed textures, four values a texel (kernels.ts says why);
  // gpu.js's WebAssembly mode cannot read them, and there a fetch costs no more than a value.
  const packs = mode === 'headlessgl' || mode === 'webgl2' || mode === 'webgl';
  const pack4 = (x: Handle, outer: number, c: number, inner: number) => run('pack4', K.pack4Kernel, outer * (c / 4) * inner, { c, inner }, [x], true);
  /** `out`, once the temporaries `used` (packed operands) are released. */
  const thenFree = <T>(used: Handle | Handle[], out: T): T => {
    for (const h of Array.isArray(used) ? used : [used]) release(backend, h);
    return out;
  };
  /** Whether a convolution runs as conv3x3BlockKernel: 3×3 at stride 1, `channels` (the ones it packs) in fours. */
  const blocked = (g: Conv2dGeometry, channels: number) => packs && g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && channels % 4 === 0;
  const blockDims = (h: number, w: number) => ({ blkH: Math.ceil(h / 2), blkW: Math.ceil(w / 2) });

  /** (x − μ)/√(σ² + eps)·γ + β per channel; on GL from one packed texel of coefficients a channel. */
  function batchNormApply(x: Handle, gamma: Handle | null, beta: Handle | null, mean: Handle, variance: Handle, n: number, c: number, hw: number, eps: number): Handle {
    const affine = gamma ? 1 : 0;
    if (!packs) return run('batchNormApply', K.batchNormApplyKernel, n * c * hw, { c, hw, affine }, [x, mean, variance, gamma ?? empty, beta ?? empty, eps]);
    const coef = run('batchNormCoef', K.batchNormCoefKernel, c, { affine }, [mean, variance, gamma ?? empty, beta ?? empty, eps], true);
    return thenFree(coef, run('batchNormApplyPacked', K.batchNormApplyPackedKernel, n * c * hw, { c, hw }, [x, coef]));
  }

  const backend: GpuBackend = {
    name: 'gpu',
    mode,
    renderer: () => {
      if (mode === 'webasm' || mode === 'cpu') return null;
      // gpu.js makes its context with the first kernel
      if (!(gpu as unknown as { context?: unknown }).context) backend.read(backend.affine(backend.fromArray(new Float32Array(4)), 4, 1, 0), 4);
      return glRenderer((gpu as unknown as { context?: unknown }).context);
    },
    stats: () => ({ ...stats }),
    resetStats: () => Object.assign(stats, { uploads: 0, readbacks: 0, launches: 0 }),
    destroy: () => {
      kernels.clear();
      stats.kernels = 0;
      gpu.destroy();
    },

    fromArray: (data) => {
      stats.uploads++;
      return data;
    },
    zeros: (size) => run('fill', K.fillKernel, size, {}, [0]),
    fill: (size, value) => run('fill', K.fillKernel, size, {}, [value]),
    read: (h, size) => {
      stats.readbacks++;
      return toArray(h).slice(0, size);
    },
    dispose: (h) => {
      if (h instanceof Float32Array) return;
      (h as Texture).delete?.();
      stats.textures--;
    },

    unary: (op, x, size) => run('unary', K.unaryKernel, size, { op: UNARY_CODES[op] }, [x]),
    binary: (op, a, aShape, b, bShape, outShape) => {
      const size = sizeOf(outShape);
      const same = (s: Shape) => s.length === outShape.length && s.every((d, i) => d === outShape[i]);
      if (same(aShape) && same(bShape)) return run('binarySame', K.binarySameKernel, size, { op: BINARY_CODES[op] }, [a, b]);
      const c: Record<string, number> = { op: BINARY_CODES[op] };
      gatherConstants(outShape, broadcastStrides(aShape, outShape), 'a', c);
      gatherConstants(outShape, broadcastStrides(bShape, outShape), 'b', c);
      return run('binaryBroadcast', K.binaryBroadcastKernel, size, c, [a, b]);
    },
    affine: (x, size, scale, shift) => run('affine', K.affineKernel, size, {}, [x, scale, shift]),
    powScalar: (x, size, p) => run('pow', K.powKernel, size, {}, [x, p]),

    reduce: (op, x, shape, axes) => {
      const reduced = new Set(axes.map((a) => (a < 0 ? a + shape.length : a)));
      const keep = shape.map((_, i) => i).filter((i) => !reduced.has(i));
      const inner = [...reduced].sort((a, b) => a - b);
      const n = inner.reduce((p, i) => p * shape[i]!, 1);
      const outer = keep.reduce((p, i) => p * shape[i]!, 1);
      if (n === 0) return backend.fill(outer, op === 'sum' ? 0 : -Infinity);
      const contiguous = inner.every((a, i) => a === shape.length - inner.length + i);
      const src = contiguous ? x : permute(x, shape, [...keep, ...inner]);
      return reduceInner(op, src, outer, n);
    },
    broadcastTo: (x, shape, outShape) => {
      const c: Record<string, number> = {};
      gatherConstants(outShape, broadcastStrides(shape, outShape), 'a', c);
      return run('gather', K.gatherKernel, sizeOf(outShape), c, [x]);
    },
    permute,
    slice: (x, shape, axis, start, len) => {
      const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
      return run('slice', K.sliceKernel, outer * len * inner, { inner, len, axis: shape[axis]!, start }, [x]);
    },
    concat: (xs, shapes, axis) => {
      const inner = shapes[0]!.slice(axis + 1).reduce((p, d) => p * d, 1);
      const outer = shapes[0]!.slice(0, axis).reduce((p, d) => p * d, 1);
      let acc: Handle = xs[0];
      let na = shapes[0]![axis]!;
      for (let i = 1; i < xs.length; i++) {
        const nb = shapes[i]![axis]!;
        acc = run('concat2', K.concat2Kernel, outer * (na + nb) * inner, { inner, na, nb }, [acc, xs[i]]);
        na += nb;
      }
      return xs.length === 1 ? run('affine', K.affineKernel, outer * na * inner, {}, [acc, 1, 0]) : acc;
    },

    matmul: (a, b, batch, m, k, n, transA, transB) => {
      const strides = { ai: transA ? 1 : k, ak: transA ? m : 1, bj: transB ? k : 1, bk: transB ? 1 : n };
      // a row or three (batch-1 inference) would pack all of B for a quarter-empty tile: read it as it is
      if (!packs || m < 4) return run('matmul', K.matmulKernel, batch * m * n, { m, k, n, ...strides }, [a, b]);
      const m4 = Math.ceil(m / 4);
      const n4 = Math.ceil(n / 4);
      const dims = { m, k, n, m4, n4, ...strides };
      const a4 = run('packMatmul4', K.packMatmul4Kernel, batch * m4 * k, { ...dims, side: 0, count: m }, [a], true);
      const b4 = run('packMatmul4', K.packMatmul4Kernel, batch * k * n4, { ...dims, side: 1, count: n }, [b], true);
      const rows = thenFree([a4, b4], runMap('matmul4x4', K.matmul4x4Kernel, TILE_OUTPUTS, batch * m4 * n4, { m4, n4, k }, [a4, b4]));
      return thenFree(rows, run('mergeTiles', K.mergeTilesKernel, batch * m * n, { m, n, m4, n4 }, rows));
    },
    conv2d: (x, w, bias, g) => {
      const hasBias = bias ? 1 : 0;
      if (!blocked(g, g.outC)) return run('conv2d', K.conv2dKernel, g.batch * g.outC * g.outH * g.outW, { ...convConstants(g), hasBias }, [x, w, bias ?? empty]);
      const c = { ...convConstants(g), ...blockDims(g.outH, g.outW), hasBias };
      const w4 = pack4(w, 1, g.outC, g.inC * 9);
      const blocks = thenFree(w4, runMap('conv3x3Block', K.conv3x3BlockKernel, BLOCK_OUTPUTS, g.batch * (g.outC / 4) * c.blkH * c.blkW, c, [x, w4, bias ?? empty]));
      return thenFree(blocks, run('mergeBlocks', K.mergeBlocksKernel, g.batch * g.outC * g.outH * g.outW, { outC: g.outC, outH: g.outH, outW: g.outW, blkH: c.blkH, blkW: c.blkW }, blocks));
    },
    conv2dMaxPool2: (x, w, bias, g, relu) => {
      const poolH = g.outH >> 1;
      const poolW = g.outW >> 1;
      const hasBias = bias ? 1 : 0;
      if (!blocked(g, g.outC)) {
        return run('conv2dMaxPool2', K.conv2dMaxPool2Kernel, g.batch * g.outC * poolH * poolW, { ...convConstants(g), poolH, poolW, hasBias, relu: relu ? 1 : 0 }, [x, w, bias ?? empty]);
      }
      // only the blocks that make whole pool windows (floor mode drops an odd last row or column)
      const c = { ...convConstants(g), blkH: poolH, blkW: poolW, hasBias };
      const w4 = pack4(w, 1, g.outC, g.inC * 9);
      const blocks = thenFree(w4, runMap('conv3x3Block', K.conv3x3BlockKernel, BLOCK_OUTPUTS, g.batch * (g.outC / 4) * poolH * poolW, c, [x, w4, bias ?? empty]));
      return thenFree(blocks, run('poolBlocks', K.poolBlocksKernel, g.batch * g.outC * poolH * poolW, { outC: g.outC, poolH, poolW, blkH: poolH, blkW: poolW, relu: relu ? 1 : 0 }, blocks));
    },
    conv2dBackwardInput: (gy, w, g) => {
      if (!blocked(g, g.inC) || g.padH > 2 || g.padW > 2) return run('conv2dBackwardInput', K.conv2dBackwardInputKernel, g.batch * g.inC * g.inH * g.inW, convConstants(g), [gy, w]);
      // the convolution of dy with the turned, channel-swapped weights (packFlipped4Kernel)
      const t: Conv2dGeometry = { ...g, inC: g.outC, inH: g.outH, inW: g.outW, outC: g.inC, outH: g.inH, outW: g.inW, padH: 2 - g.padH, padW: 2 - g.padW };
      const c = { ...convConstants(t), ...blockDims(t.outH, t.outW), hasBias: 0 };
      const w4 = run('packFlipped4', K.packFlipped4Kernel, (g.inC / 4) * g.outC * 9, { inC: g.inC, outC: g.outC }, [w], true);
      const blocks = thenFree(w4, runMap('conv3x3Block', K.conv3x3BlockKernel, BLOCK_OUTPUTS, g.batch * (t.outC / 4) * c.blkH * c.blkW, c, [gy, w4, empty]));
      return thenFree(blocks, run('mergeBlocks', K.mergeBlocksKernel, g.batch * g.inC * g.inH * g.inW, { outC: t.outC, outH: t.outH, outW: t.outW, blkH: c.blkH, blkW: c.blkW }, blocks));
    },
    conv2dBackwardWeight: (gy, x, g) => {
      const per = g.outC * g.inC * g.kH * g.kW;
      if (blocked(g, g.outC)) {
        const gy4 = pack4(gy, g.batch, g.outC, g.outH * g.outW);
        const cols = thenFree(gy4, runMap('conv3x3WeightGrad', K.conv3x3WeightGradKernel, { kx1: K.output1, kx2: K.output2 }, g.batch * (g.outC / 4) * g.inC * 3, convConstants(g), [gy4, x]));
        return thenFree(cols, run('sumWeightGrad', K.sumWeightGradKernel, per, { batch: g.batch, outC: g.outC, inC: g.inC }, cols));
      }
      const partial = run('conv2dBackwardWeight', K.conv2dBackwardWeightKernel, g.batch * per, convConstants(g), [gy, x]);
      return g.batch === 1 ? partial : reduceInner('sum', permute(partial, [g.batch, per], [1, 0]), per, g.batch);
    },
    maxPool2d: (x, g) => {
      const size = g.batch * g.channels * g.outH * g.outW;
      const c = poolConstants(g);
      return {
        out: run('maxPool', K.maxPoolKernel, size, { ...c, want: 0 }, [x]),
        argmax: run('maxPool', K.maxPoolKernel, size, { ...c, want: 1 }, [x]),
      };
    },
    maxPool2dInfer: (x, g) => run('maxPool', K.maxPoolKernel, g.batch * g.channels * g.outH * g.outW, { ...poolConstants(g), want: 0 }, [x]),
    maxPool2dBackward: (gy, argmax, g) => {
      const disjoint = g.strideH === g.kH && g.strideW === g.kW;
      return run(disjoint ? 'maxPoolBackwardDisjoint' : 'maxPoolBackward', disjoint ? K.maxPoolBackwardDisjointKernel : K.maxPoolBackwardKernel, g.batch * g.channels * g.inH * g.inW, poolConstants(g), [gy, argmax]);
    },
    batchNormTrain: (x, gamma, beta, n, c, hw, eps) => {
      const zero = backend.zeros(c);
      const mean = channelSums(0, x, zero, empty, n, c, hw, 1 / (n * hw));
      const varBiased = channelSums(1, x, mean, empty, n, c, hw, 1 / (n * hw));
      return { out: batchNormApply(x, gamma, beta, mean, varBiased, n, c, hw, eps), mean, varBiased };
    },
    batchNormBackward: (gy, x, gamma, mean, varBiased, n, c, hw, eps) => {
      const sdy = channelSums(2, x, mean, gy, n, c, hw, 1);
      const sdyx = channelSums(3, x, mean, gy, n, c, hw, 1);
      const consts = { c, hw, m: n * hw, affine: gamma ? 1 : 0 };
      let gx: Handle;
      if (packs) {
        const coef = run('batchNormBackwardCoef', K.batchNormBackwardCoefKernel, c, consts, [gamma ?? empty, mean, varBiased, sdy, sdyx, eps], true);
        gx = thenFree(coef, run('batchNormBackwardPacked', K.batchNormBackwardPackedKernel, n * c * hw, { c, hw }, [gy, x, coef]));
      } else {
        gx = run('batchNormBackward', K.batchNormBackwardKernel, n * c * hw, consts, [gy, x, gamma ?? empty, mean, varBiased, sdy, sdyx, eps]);
      }
      // dγ = S·σ⁻¹: a per-channel product, done with the broadcasting kernels
      const invStd = backend.unary('sqrt', backend.affine(varBiased, c, 1, eps), c);
      const gGamma = backend.binary('div', sdyx, [c], invStd, [c], [c]);
      return { gx, gGamma, gBeta: sdy };
    },
    batchNormInfer: (x, gamma, beta, mean, variance, n, c, hw, eps) => batchNormApply(x, gamma, beta, mean, variance, n, c, hw, eps),

    adamStep: (p, g, m, v, size, h: AdamHyper) => {
      const l2 = h.decoupled ? 0 : h.weightDecay;
      const m2 = run('adamMoment', K.adamMomentKernel, size, { which: 0 }, [p, g, m, h.beta1, l2]);
      const v2 = run('adamMoment', K.adamMomentKernel, size, { which: 1 }, [p, g, v, h.beta2, l2]);
      const bc1 = 1 - Math.pow(h.beta1, h.step);
      const bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2, h.step));
      const decay = h.decoupled ? 1 - h.lr * h.weightDecay : 1;
      const p2 = run('adamParam', K.adamParamKernel, size, {}, [p, m2, v2, decay, h.lr / bc1, bc2Sqrt, h.eps]);
      return { p: p2, m: m2, v: v2 };
    },
    sgdStep: (p, g, buf, size, h: SgdHyper) => {
      const useBuf = h.momentum !== 0 ? 1 : 0;
      const args = (which: number) => run('sgd', K.sgdKernel, size, { which, useBuf, nesterov: h.nesterov ? 1 : 0 },
        [p, g, buf ?? (useBuf ? backend.zeros(size) : empty), h.momentum, h.dampening, h.weightDecay, h.lr, h.first ? 1 : 0]);
      const newBuf = useBuf ? args(0) : null;
      return { p: args(1), buf: newBuf };
    },
  };
  return backend;
}

function convConstants(g: Conv2dGeometry): Record<string, number> {
  return {
    inC: g.inC, inH: g.inH, inW: g.inW, outC: g.outC, outH: g.outH, outW: g.outW,
    kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW,
  };
}

function poolConstants(g: Pool2dGeometry): Record<string, number> {
  return { inH: g.inH, inW: g.inW, outH: g.outH, outW: g.outW, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW };
}
