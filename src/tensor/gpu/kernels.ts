/**
 * Kernel bodies for gpu.js. Each is one output cell's computation, written in the subset of
 * JavaScript that gpu.js translates (to GLSL, WGSL or WebAssembly): no closures, no calls but Math,
 * loop bounds from `this.constants` so they are known when the kernel compiles.
 *
 * Every kernel writes a flat 1-D output; tensors are flat row-major arrays, and index arithmetic
 * is done in floats, exact for indices below 2²⁴ (the backend refuses larger tensors).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

/** What gpu.js puts behind `this` in a kernel. */
export interface KernelThis {
  thread: { x: number };
  constants: any;
}
type A = any; // a flat array argument (Float32Array, or a texture on GL backends)

// ── elementwise ─────────────────────────────────────────────────────────────────────────────────
/** Unary ops by code: see UNARY_CODES in index.ts. */
export function unaryKernel(this: KernelThis, x: A): number {
  const v = x[this.thread.x];
  const op = this.constants.op;
  if (op === 0) return -v;
  if (op === 1) return Math.exp(v);
  if (op === 2) return Math.log(v);
  if (op === 3) return Math.sqrt(v);
  if (op === 4) return Math.abs(v);
  if (op === 5) {
    if (v > 0) return 1;
    if (v < 0) return -1;
    return v;
  }
  if (op === 6) return Math.max(v, 0);
  if (op === 7) return Math.tanh(v);
  if (op === 8) return 1 / (1 + Math.exp(-v));
  return v * v;
}

/** a ∘ b on equal shapes. */
export function binarySameKernel(this: KernelThis, a: A, b: A): number {
  const i = this.thread.x;
  const u = a[i];
  const w = b[i];
  const op = this.constants.op;
  if (op === 0) return u + w;
  if (op === 1) return u - w;
  if (op === 2) return u * w;
  if (op === 3) return u / w;
  if (u > 0) return w;
  return 0;
}

/**
 * a ∘ b with broadcasting, up to rank 6: the output index is split into coordinates with the
 * output's dims (o0 outermost … o5 innermost), and each input's offset uses its own strides, 0 on
 * broadcast axes.
 */
export function binaryBroadcastKernel(this: KernelThis, a: A, b: A): number {
  let r = this.thread.x;
  const i5 = r % this.constants.o5; r = Math.floor(r / this.constants.o5);
  const i4 = r % this.constants.o4; r = Math.floor(r / this.constants.o4);
  const i3 = r % this.constants.o3; r = Math.floor(r / this.constants.o3);
  const i2 = r % this.constants.o2; r = Math.floor(r / this.constants.o2);
  const i1 = r % this.constants.o1; r = Math.floor(r / this.constants.o1);
  const i0 = r;
  const u = a[i0 * this.constants.a0 + i1 * this.constants.a1 + i2 * this.constants.a2 + i3 * this.constants.a3 + i4 * this.constants.a4 + i5 * this.constants.a5];
  const w = b[i0 * this.constants.b0 + i1 * this.constants.b1 + i2 * this.constants.b2 + i3 * this.constants.b3 + i4 * this.constants.b4 + i5 * this.constants.b5];
  const op = this.constants.op;
  if (op === 0) return u + w;
  if (op === 1) return u - w;
  if (op === 2) return u * w;
  if (op === 3) return u / w;
  if (u > 0) return w;
  return 0;
}

/** Gathers x through per-axis strides (broadcastTo and permute are both this). */
export function gatherKernel(this: KernelThis, x: A): number {
  let r = this.thread.x;
  const i5 = r % this.constants.o5; r = Math.floor(r / this.constants.o5);
  const i4 = r % this.constants.o4; r = Math.floor(r / this.constants.o4);
  const i3 = r % this.constants.o3; r = Math.floor(r / this.constants.o3);
  const i2 = r % this.constants.o2; r = Math.floor(r / this.constants.o2);
  const i1 = r % this.constants.o1; r = Math.floor(r / this.constants.o1);
  const i0 = r;
  return x[i0 * this.constants.a0 + i1 * this.constants.a1 + i2 * this.constants.a2 + i3 * this.constants.a3 + i4 * this.constants.a4 + i5 * this.constants.a5];
}

export function affineKernel(this: KernelThis, x: A, scale: number, shift: number): number {
  return x[this.thread.x] * scale + shift;
}

export function powKernel(this: KernelThis, x: A, p: number): number {
  return Math.pow(x[this.thread.x], p);
}

export function fillKernel(this: KernelThis, value: number): number {
  return value;
}

// ── reductions and layout ───────────────────────────────────────────────────────────────────────
/** Sum or max over the contiguous inner block of length `n` of each output cell. */
export function reduceInnerKernel(this: KernelThis, x: A): number {
  const base = this.thread.x * this.constants.n;
  if (this.constants.op === 0) {
    let s = 0;
    for (let j = 0; j < this.constants.n; j++) s += x[base + j];
    return s;
  }
  let m = x[base];
  for (let j = 1; j < this.constants.n; j++) m = Math.max(m, x[base + j]);
  return m;
}

/** Copies block [start, start+len) of the middle axis of x viewed as [outer, axis, inner]. */
export function sliceKernel(this: KernelThis, x: A): number {
  const i = this.thread.x;
  const k = i % this.constants.inner;
  const rest = Math.floor(i / this.constants.inner);
  const j = rest % this.constants.len;
  const o = Math.floor(rest / this.constants.len);
  return x[o * this.constants.axis * this.constants.inner + (this.constants.start + j) * this.constants.inner + k];
}

/** Two arrays joined along the middle axis of [outer, axis, inner]; `na` of it from a. */
export function concat2Kernel(this: KernelThis, a: A, b: A): number {
  const i = this.thread.x;
  const k = i % this.constants.inner;
  const rest = Math.floor(i / this.constants.inner);
  const j = rest % (this.constants.na + this.constants.nb);
  const o = Math.floor(rest / (this.constants.na + this.constants.nb));
  if (j < this.constants.na) return a[(o * this.constants.na + j) * this.constants.inner + k];
  return b[(o * this.constants.nb + j - this.constants.na) * this.constants.inner + k];
}

// ── linear algebra ──────────────────────────────────────────────────────────────────────────────
/** C[b, i, j] = Σₖ A[b, i, k]·B[b, k, j], operands addressed through strides (transposes are free). */
export function matmulKernel(this: KernelThis, a: A, b: A): number {
  const cell = this.thread.x;
  const j = cell % this.constants.n;
  const rest = Math.floor(cell / this.constants.n);
  const i = rest % this.constants.m;
  const bt = Math.floor(rest / this.constants.m);
  const aBase = bt * this.constants.m * this.constants.k + i * this.constants.ai;
  const bBase = bt * this.constants.k * this.constants.n + j * this.constants.bj;
  let s = 0;
  for (let k = 0; k < this.constants.k; k++) s += a[aBase + k * this.constants.ak] * b[bBase + k * this.constants.bk];
  return s;
}

/** Direct convolution: one output cell, summing over input channels and the kernel window. */
export function conv2dKernel(this: KernelThis, x: A, w: A, bias: A): number {
  const cell = this.thread.x;
  const ox = cell % this.constants.outW;
  let r = Math.floor(cell / this.constants.outW);
  const oy = r % this.constants.outH;
  r = Math.floor(r / this.constants.outH);
  const oc = r % this.constants.outC;
  const n = Math.floor(r / this.constants.outC);
  let s = 0;
  if (this.constants.hasBias === 1) s = bias[oc];
  for (let ic = 0; ic < this.constants.inC; ic++) {
    for (let ky = 0; ky < this.constants.kH; ky++) {
      const iy = oy * this.constants.strideH - this.constants.padH + ky;
      if (iy >= 0 && iy < this.constants.inH) {
        for (let kx = 0; kx < this.constants.kW; kx++) {
          const ix = ox * this.constants.strideW - this.constants.padW + kx;
          if (ix >= 0 && ix < this.constants.inW) {
            s += x[((n * this.constants.inC + ic) * this.constants.inH + iy) * this.constants.inW + ix] * w[((oc * this.constants.inC + ic) * this.constants.kH + ky) * this.constants.kW + kx];
          }
        }
      }
    }
  }
  return s;
}

/**
 * Inference: conv2d, 2×2 max-pool at stride 2 and (`relu` 1) ReLU in one launch. Each cell is one
 * pooled output: it sums the four convolution outputs under its window at once, so each weight is
 * fetched once for four products, and the full-resolution activations never reach memory. The
 * sums run in conv2dKernel's order, the pool and ReLU as maxPoolKernel's and unaryKernel's: the
 * same values as the three kernels in turn.
 */
export function conv2dMaxPool2Kernel(this: KernelThis, x: A, w: A, bias: A): number {
  const cell = this.thread.x;
  const px = cell % this.constants.poolW;
  let r = Math.floor(cell / this.constants.poolW);
  const py = r % this.constants.poolH;
  r = Math.floor(r / this.constants.poolH);
  const oc = r % this.constants.outC;
  const n = Math.floor(r / this.constants.outC);
  let b = 0;
  if (this.constants.hasBias === 1) b = bias[oc];
  let s00 = b;
  let s01 = b;
  let s10 = b;
  let s11 = b;
  const y0 = 2 * py * this.constants.strideH - this.constants.padH;
  const x0 = 2 * px * this.constants.strideW - this.constants.padW;
  for (let ic = 0; ic < this.constants.inC; ic++) {
    const plane = (n * this.constants.inC + ic) * this.constants.inH;
    for (let ky = 0; ky < this.constants.kH; ky++) {
      const iyA = y0 + ky;
      const iyB = iyA + this.constants.strideH;
      for (let kx = 0; kx < this.constants.kW; kx++) {
        const wv = w[((oc * this.constants.inC + ic) * this.constants.kH + ky) * this.constants.kW + kx];
        const ixA = x0 + kx;
        const ixB = ixA + this.constants.strideW;
        if (iyA >= 0 && iyA < this.constants.inH) {
          if (ixA >= 0 && ixA < this.constants.inW) s00 += x[(plane + iyA) * this.constants.inW + ixA] * wv;
          if (ixB >= 0 && ixB < this.constants.inW) s01 += x[(plane + iyA) * this.constants.inW + ixB] * wv;
        }
        if (iyB >= 0 && iyB < this.constants.inH) {
          if (ixA >= 0 && ixA < this.constants.inW) s10 += x[(plane + iyB) * this.constants.inW + ixA] * wv;
          if (ixB >= 0 && ixB < this.constants.inW) s11 += x[(plane + iyB) * this.constants.inW + ixB] * wv;
        }
      }
    }
  }
  // max in window order, the first NaN winning, as maxPoolKernel
  let m = s00;
  if (s00 === s00) {
    if (s01 > m || s01 !== s01) m = s01;
    if (m === m) {
      if (s10 > m || s10 !== s10) m = s10;
      if (m === m) {
        if (s11 > m || s11 !== s11) m = s11;
      }
    }
  }
  if (this.constants.relu === 1) return Math.max(m, 0);
  return m;
}

/** dx: each input cell gathers the output cells whose window covered it. */
export function conv2dBackwardInputKernel(this: KernelThis, gy: A, w: A): number {
  const cell = this.thread.x;
  const ix = cell % this.constants.inW;
  let r = Math.floor(cell / this.constants.inW);
  const iy = r % this.constants.inH;
  r = Math.floor(r / this.constants.inH);
  const ic = r % this.constants.inC;
  const n = Math.floor(r / this.constants.inC);
  let s = 0;
  for (let oc = 0; oc < this.constants.outC; oc++) {
    for (let ky = 0; ky < this.constants.kH; ky++) {
      const ty = iy + this.constants.padH - ky;
      const oy = Math.floor(ty / this.constants.strideH);
      if (ty >= 0 && oy * this.constants.strideH === ty && oy < this.constants.outH) {
        for (let kx = 0; kx < this.constants.kW; kx++) {
          const tx = ix + this.constants.padW - kx;
          const ox = Math.floor(tx / this.constants.strideW);
          if (tx >= 0 && ox * this.constants.strideW === tx && ox < this.constants.outW) {
            s += gy[((n * this.constants.outC + oc) * this.constants.outH + oy) * this.constants.outW + ox] * w[((oc * this.constants.inC + ic) * this.constants.kH + ky) * this.constants.kW + kx];
          }
        }
      }
    }
  }
  return s;
}

/** dW partial sums, one per sample: [batch, outC, inC, kH, kW]; a reduction over the batch follows. */
export function conv2dBackwardWeightKernel(this: KernelThis, gy: A, x: A): number {
  const cell = this.thread.x;
  const kx = cell % this.constants.kW;
  let r = Math.floor(cell / this.constants.kW);
  const ky = r % this.constants.kH;
  r = Math.floor(r / this.constants.kH);
  const ic = r % this.constants.inC;
  r = Math.floor(r / this.constants.inC);
  const oc = r % this.constants.outC;
  const n = Math.floor(r / this.constants.outC);
  let s = 0;
  for (let oy = 0; oy < this.constants.outH; oy++) {
    const iy = oy * this.constants.strideH - this.constants.padH + ky;
    if (iy >= 0 && iy < this.constants.inH) {
      for (let ox = 0; ox < this.constants.outW; ox++) {
        const ix = ox * this.constants.strideW - this.constants.padW + kx;
        if (ix >= 0 && ix < this.constants.inW) {
          s += gy[((n * this.constants.outC + oc) * this.constants.outH + oy) * this.constants.outW + ox] * x[((n * this.constants.inC + ic) * this.constants.inH + iy) * this.constants.inW + ix];
        }
      }
    }
  }
  return s;
}

// ── pooling ─────────────────────────────────────────────────────────────────────────────────────
/** Max over the window (`want` 0) or the flat input index of the first maximum (`want` 1); NaN wins. */
export function maxPoolKernel(this: KernelThis, x: A): number {
  const cell = this.thread.x;
  const ox = cell % this.constants.outW;
  const r = Math.floor(cell / this.constants.outW);
  const oy = r % this.constants.outH;
  const plane = Math.floor(r / this.constants.outH);
  const base = plane * this.constants.inH * this.constants.inW;
  let best = -Infinity;
  let at = base + oy * this.constants.strideH * this.constants.inW + ox * this.constants.strideW;
  let done = 0;
  for (let i = 0; i < this.constants.kH; i++) {
    for (let j = 0; j < this.constants.kW; j++) {
      const idx = base + (oy * this.constants.strideH + i) * this.constants.inW + ox * this.constants.strideW + j;
      const v = x[idx];
      if (done === 0) {
        if (v > best) {
          best = v;
          at = idx;
        }
        if (v !== v) {
          best = v;
          at = idx;
          done = 1;
        }
      }
    }
  }
  if (this.constants.want === 1) return at;
  return best;
}

/** dx: each input cell collects the gradient of every window whose argmax it was. */
export function maxPoolBackwardKernel(this: KernelThis, gy: A, argmax: A): number {
  const cell = this.thread.x;
  const ix = cell % this.constants.inW;
  const r = Math.floor(cell / this.constants.inW);
  const iy = r % this.constants.inH;
  const plane = Math.floor(r / this.constants.inH);
  let s = 0;
  for (let i = 0; i < this.constants.kH; i++) {
    const ty = iy - i;
    const oy = Math.floor(ty / this.constants.strideH);
    if (ty >= 0 && oy * this.constants.strideH === ty && oy < this.constants.outH) {
      for (let j = 0; j < this.constants.kW; j++) {
        const tx = ix - j;
        const ox = Math.floor(tx / this.constants.strideW);
        if (tx >= 0 && ox * this.constants.strideW === tx && ox < this.constants.outW) {
          const o = (plane * this.constants.outH + oy) * this.constants.outW + ox;
          if (argmax[o] === cell) s += gy[o];
        }
      }
    }
  }
  return s;
}

/**
 * maxPoolBackwardKernel for windows that do not overlap (stride = window, as in the EmotionCNN):
 * each input cell lies in at most one window, so it makes two fetches instead of a search.
 */
export function maxPoolBackwardDisjointKernel(this: KernelThis, gy: A, argmax: A): number {
  const cell = this.thread.x;
  const ix = cell % this.constants.inW;
  const r = Math.floor(cell / this.constants.inW);
  const iy = r % this.constants.inH;
  const plane = Math.floor(r / this.constants.inH);
  const oy = Math.floor(iy / this.constants.strideH);
  const ox = Math.floor(ix / this.constants.strideW);
  if (oy >= this.constants.outH || ox >= this.constants.outW) return 0;
  const o = (plane * this.constants.outH + oy) * this.constants.outW + ox;
  if (argmax[o] === cell) return gy[o];
  return 0;
}

// ── batch norm ──────────────────────────────────────────────────────────────────────────────────
/**
 * Per (sample, channel) partial sums of x − shift (`op` 0) or of (x − shift)² (`op` 1), or of
 * gy (`op` 2) and gy·(x − shift) (`op` 3): [n, c]; the batch reduction follows. Shifting by the
 * mean before squaring keeps float32 accuracy (the two-pass variance).
 */
export function channelPartialKernel(this: KernelThis, x: A, shift: A, gy: A): number {
  const cell = this.thread.x;
  const ch = cell % this.constants.c;
  const base = cell * this.constants.hw;
  const mu = shift[ch];
  let s = 0;
  for (let i = 0; i < this.constants.hw; i++) {
    const d = x[base + i] - mu;
    if (this.constants.op === 0) s += d;
    if (this.constants.op === 1) s += d * d;
    if (this.constants.op === 2) s += gy[base + i];
    if (this.constants.op === 3) s += gy[base + i] * d;
  }
  return s;
}

/** Sums [n, c] partials over n and scales: the per-channel statistic. */
export function channelTotalKernel(this: KernelThis, partial: A, scale: number): number {
  let s = 0;
  for (let b = 0; b < this.constants.n; b++) s += partial[b * this.constants.c + this.thread.x];
  return s * scale;
}

/** y = (x − μ)/√(σ² + eps)·γ + β per channel. */
export function batchNormApplyKernel(this: KernelThis, x: A, mean: A, variance: A, gamma: A, beta: A, eps: number): number {
  const i = this.thread.x;
  const ch = Math.floor(i / this.constants.hw) % this.constants.c;
  let y = (x[i] - mean[ch]) / Math.sqrt(variance[ch] + eps);
  if (this.constants.affine === 1) y = y * gamma[ch] + beta[ch];
  return y;
}

/** dx = γσ⁻¹/M · (M·dy − dβ − x̂·dγ), with dβ = Σ dy and S = Σ dy·(x − μ) (so dγ = S·σ⁻¹). */
export function batchNormBackwardKernel(this: KernelThis, gy: A, x: A, gamma: A, mean: A, variance: A, sdy: A, sdyx: A, eps: number): number {
  const i = this.thread.x;
  const ch = Math.floor(i / this.constants.hw) % this.constants.c;
  const inv = 1 / Math.sqrt(variance[ch] + eps);
  let g = 1;
  if (this.constants.affine === 1) g = gamma[ch];
  const k = (g * inv) / this.constants.m;
  return k * this.constants.m * gy[i] - k * sdy[ch] - k * sdyx[ch] * inv * inv * (x[i] - mean[ch]);
}

// ── optimisers ──────────────────────────────────────────────────────────────────────────────────
/** Adam's moments: m (`which` 0) or v (`which` 1) after this step. `l2` is torch.optim.Adam's weight decay. */
export function adamMomentKernel(this: KernelThis, p: A, g: A, mv: A, beta: number, l2: number): number {
  const i = this.thread.x;
  const gi = g[i] + l2 * p[i];
  if (this.constants.which === 0) return beta * mv[i] + (1 - beta) * gi;
  return beta * mv[i] + (1 - beta) * gi * gi;
}

export function adamParamKernel(this: KernelThis, p: A, m: A, v: A, decay: number, stepSize: number, bc2Sqrt: number, eps: number): number {
  const i = this.thread.x;
  return p[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
}

/** SGD: the momentum buffer (`which` 0) or the parameter (`which` 1; `useBuf` 0 without momentum). */
export function sgdKernel(this: KernelThis, p: A, g: A, buf: A, momentum: number, dampening: number, wd: number, lr: number, first: number): number {
  const i = this.thread.x;
  const d = g[i] + wd * p[i];
  let b = d;
  if (this.constants.useBuf === 1 && first === 0) b = momentum * buf[i] + (1 - dampening) * d;
  if (this.constants.which === 0) return b;
  let step = d;
  if (this.constants.useBuf === 1) {
    step = b;
    if (this.constants.nesterov === 1) step = d + momentum * b;
  }
  return p[i] - lr * step;
}

// ── 3×3 convolutions on packed textures (GL modes) ──────────────────────────────────────────────
// On GL every fetch of a flat array costs an index split and a texture read, and those fetches,
// not the multiply-adds, bound a convolution: on SwiftShader the scalar kernels above, two fetches
// per product, ran 2.5 times slower than TF.js's WebGL backend. So the 3×3 stride-1 convolutions
// (all of the EmotionCNN's) pack four channels into one texel (gpu.js's Array(4): one fetch, four
// values), and each cell computes many outputs from each value it fetched, writing them to up to
// four textures at once (gpu.js's kernel maps: WebGL's multiple render targets). A last pass lays
// the outputs out flat for every other kernel. gpu.js's WebAssembly mode cannot read packed
// textures, and there a fetch costs no more than a value: it keeps the scalar kernels.

/** [outer, c, inner] → [outer, c/4, inner] of 4-vectors: lane l holds channel 4q + l. */
export function pack4Kernel(this: KernelThis, x: A): number[] {
  const i = this.thread.x;
  const k = i % this.constants.inner;
  const rest = Math.floor(i / this.constants.inner);
  const q = rest % (this.constants.c / 4);
  const o = Math.floor(rest / (this.constants.c / 4));
  const base = (o * this.constants.c + 4 * q) * this.constants.inner + k;
  return [x[base], x[base + this.constants.inner], x[base + 2 * this.constants.inner], x[base + 3 * this.constants.inner]];
}

/**
 * A kernel map's outputs beside the one its kernel returns: gpu.js writes what each of these
 * returns, called once in the kernel, to a texture of its own (WebGL's multiple render targets).
 */
export function output1(a: number, b: number, c: number, d: number): number[] {
  return [a, b, c, d];
}
export function output2(a: number, b: number, c: number, d: number): number[] {
  return [a, b, c, d];
}
export function output3(a: number, b: number, c: number, d: number): number[] {
  return [a, b, c, d];
}

/**
 * dx of a convolution is itself a convolution: of dy, with the weights' channel axes swapped and
 * each 3×3 kernel turned by 180°, padded by 2 − pad. This packs those weights over the input
 * channel for conv3x3BlockKernel: [inC/4, outC·9] 4-vectors from w [outC, inC, 3, 3].
 */
export function packFlipped4Kernel(this: KernelThis, w: A): number[] {
  const i = this.thread.x;
  const t = i % 9;
  const rest = Math.floor(i / 9);
  const oc = rest % this.constants.outC;
  const p = Math.floor(rest / this.constants.outC);
  const base = (oc * this.constants.inC + 4 * p) * 9 + 8 - t;
  return [w[base], w[base + 9], w[base + 18], w[base + 27]];
}

/**
 * A 3×3 stride-1 convolution, one cell per 2×2 block of output positions and four output channels
 * 4q…4q+3: sixteen outputs, written as four textures [batch, outC/4, ⌈outH/2⌉, ⌈outW/2⌉], one per
 * channel lane (lane 0 returned, lanes 1–3 through output1–3), each texel the block's
 * [upper left, upper right, lower left, lower right]. So the passes after it read one texture for
 * neighbouring outputs (a GPU runs neighbouring cells in lockstep, and a texture chosen per cell
 * would cost them all four fetches), and the max-pool of a block is one texel. Per input channel it fetches
 * the nine packed weights once and the 4×4 input patch under the block once: 25 fetches for 144
 * products, where conv2dKernel makes 288. Patch rows go through in turn: row r meets kernel row r
 * for the block's upper outputs and row r − 1 for its lower ones. mergeBlocksKernel lays the
 * blocks out flat; poolBlocksKernel takes the 2×2 max of each instead (inference).
 */
export function conv3x3BlockKernel(this: KernelThis, x: A, w4: A, bias: A): number[] {
  const cell = this.thread.x;
  const bx = cell % this.constants.blkW;
  let r = Math.floor(cell / this.constants.blkW);
  const by = r % this.constants.blkH;
  r = Math.floor(r / this.constants.blkH);
  const q = r % (this.constants.outC / 4);
  const n = Math.floor(r / (this.constants.outC / 4));
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  if (this.constants.hasBias === 1) {
    b0 = bias[4 * q];
    b1 = bias[4 * q + 1];
    b2 = bias[4 * q + 2];
    b3 = bias[4 * q + 3];
  }
  // sUL2: the block's upper-left output for lane 2; UR upper right, LL lower left, LR lower right
  let sUL0 = b0; let sUL1 = b1; let sUL2 = b2; let sUL3 = b3;
  let sUR0 = b0; let sUR1 = b1; let sUR2 = b2; let sUR3 = b3;
  let sLL0 = b0; let sLL1 = b1; let sLL2 = b2; let sLL3 = b3;
  let sLR0 = b0; let sLR1 = b1; let sLR2 = b2; let sLR3 = b3;
  const y0 = 2 * by - this.constants.padH;
  const x0 = 2 * bx - this.constants.padW;
  for (let ic = 0; ic < this.constants.inC; ic++) {
    const plane = (n * this.constants.inC + ic) * this.constants.inH;
    const wb = (q * this.constants.inC + ic) * 9;
    const k0 = w4[wb]; const k1 = w4[wb + 1]; const k2 = w4[wb + 2];
    const k3 = w4[wb + 3]; const k4 = w4[wb + 4]; const k5 = w4[wb + 5];
    const k6 = w4[wb + 6]; const k7 = w4[wb + 7]; const k8 = w4[wb + 8];
    for (let row = 0; row < 4; row++) {
      const iy = y0 + row;
      let v0 = 0;
      let v1 = 0;
      let v2 = 0;
      let v3 = 0;
      if (iy >= 0 && iy < this.constants.inH) {
        const at = (plane + iy) * this.constants.inW + x0;
        if (x0 >= 0 && x0 < this.constants.inW) v0 = x[at];
        if (x0 + 1 >= 0 && x0 + 1 < this.constants.inW) v1 = x[at + 1];
        if (x0 + 2 >= 0 && x0 + 2 < this.constants.inW) v2 = x[at + 2];
        if (x0 + 3 >= 0 && x0 + 3 < this.constants.inW) v3 = x[at + 3];
      }
      // the kernel rows this patch row meets: a for the upper outputs, c for the lower
      let a0 = k0; let a1 = k1; let a2 = k2;
      let c0 = k0; let c1 = k1; let c2 = k2;
      if (row === 1) { a0 = k3; a1 = k4; a2 = k5; }
      if (row === 2) { a0 = k6; a1 = k7; a2 = k8; c0 = k3; c1 = k4; c2 = k5; }
      if (row === 3) { c0 = k6; c1 = k7; c2 = k8; }
      if (row < 3) {
        sUL0 += a0[0] * v0 + a1[0] * v1 + a2[0] * v2; sUR0 += a0[0] * v1 + a1[0] * v2 + a2[0] * v3;
        sUL1 += a0[1] * v0 + a1[1] * v1 + a2[1] * v2; sUR1 += a0[1] * v1 + a1[1] * v2 + a2[1] * v3;
        sUL2 += a0[2] * v0 + a1[2] * v1 + a2[2] * v2; sUR2 += a0[2] * v1 + a1[2] * v2 + a2[2] * v3;
        sUL3 += a0[3] * v0 + a1[3] * v1 + a2[3] * v2; sUR3 += a0[3] * v1 + a1[3] * v2 + a2[3] * v3;
      }
      if (row > 0) {
        sLL0 += c0[0] * v0 + c1[0] * v1 + c2[0] * v2; sLR0 += c0[0] * v1 + c1[0] * v2 + c2[0] * v3;
        sLL1 += c0[1] * v0 + c1[1] * v1 + c2[1] * v2; sLR1 += c0[1] * v1 + c1[1] * v2 + c2[1] * v3;
        sLL2 += c0[2] * v0 + c1[2] * v1 + c2[2] * v2; sLR2 += c0[2] * v1 + c1[2] * v2 + c2[2] * v3;
        sLL3 += c0[3] * v0 + c1[3] * v1 + c2[3] * v2; sLR3 += c0[3] * v1 + c1[3] * v2 + c2[3] * v3;
      }
    }
  }
  output1(sUL1, sUR1, sLL1, sLR1);
  output2(sUL2, sUR2, sLL2, sLR2);
  output3(sUL3, sUR3, sLL3, sLR3);
  return [sUL0, sUR0, sLL0, sLR0];
}

/** conv3x3BlockKernel's four textures laid out flat: [batch, outC, outH, outW]. */
export function mergeBlocksKernel(this: KernelThis, t0: A, t1: A, t2: A, t3: A): number {
  const i = this.thread.x;
  const ox = i % this.constants.outW;
  let r = Math.floor(i / this.constants.outW);
  const oy = r % this.constants.outH;
  r = Math.floor(r / this.constants.outH);
  const oc = r % this.constants.outC;
  const n = Math.floor(r / this.constants.outC);
  const at = ((n * (this.constants.outC / 4) + Math.floor(oc / 4)) * this.constants.blkH + Math.floor(oy / 2)) * this.constants.blkW + Math.floor(ox / 2);
  const lane = oc % 4;
  let v = t0[at];
  if (lane === 1) v = t1[at];
  if (lane === 2) v = t2[at];
  if (lane === 3) v = t3[at];
  const pos = 2 * (oy % 2) + (ox % 2);
  let s = v[3];
  if (pos === 0) s = v[0];
  if (pos === 1) s = v[1];
  if (pos === 2) s = v[2];
  return s;
}

/**
 * Inference's block: the 2×2 max-pool of each of conv3x3BlockKernel's blocks (pool windows and
 * blocks coincide), in window order with the first NaN winning as maxPoolKernel, then ReLU when
 * `relu` is 1: [batch, outC, ⌊outH/2⌋, ⌊outW/2⌋].
 */
export function poolBlocksKernel(this: KernelThis, t0: A, t1: A, t2: A, t3: A): number {
  const i = this.thread.x;
  const px = i % this.constants.poolW;
  let r = Math.floor(i / this.constants.poolW);
  const py = r % this.constants.poolH;
  r = Math.floor(r / this.constants.poolH);
  const oc = r % this.constants.outC;
  const n = Math.floor(r / this.constants.outC);
  const at = ((n * (this.constants.outC / 4) + Math.floor(oc / 4)) * this.constants.blkH + py) * this.constants.blkW + px;
  const lane = oc % 4;
  let v = t0[at];
  if (lane === 1) v = t1[at];
  if (lane === 2) v = t2[at];
  if (lane === 3) v = t3[at];
  let m = v[0];
  if (m === m) {
    if (v[1] > m || v[1] !== v[1]) m = v[1];
    if (m === m) {
      if (v[2] > m || v[2] !== v[2]) m = v[2];
      if (m === m) {
        if (v[3] > m || v[3] !== v[3]) m = v[3];
      }
    }
  }
  if (this.constants.relu === 1) return Math.max(m, 0);
  return m;
}

/**
 * dW of a 3×3 stride-1 convolution, per sample: one cell per (sample, four output channels, input
 * channel, kernel row), its three kernel columns written as three packed textures
 * [batch, outC/4, inC, 3] (column 0 returned, 1 and 2 through output1 and output2). Along each
 * output row the three input values under the kernel row slide by one, so each position costs one
 * input fetch and one packed-gradient fetch for twelve products (conv2dBackwardWeightKernel: two
 * for one). sumWeightGradKernel sums the samples.
 */
export function conv3x3WeightGradKernel(this: KernelThis, gy4: A, x: A): number[] {
  const cell = this.thread.x;
  const ky = cell % 3;
  let r = Math.floor(cell / 3);
  const ic = r % this.constants.inC;
  r = Math.floor(r / this.constants.inC);
  const q = r % (this.constants.outC / 4);
  const n = Math.floor(r / (this.constants.outC / 4));
  // sK_c: kernel column K, lane c
  let s00 = 0; let s01 = 0; let s02 = 0; let s03 = 0;
  let s10 = 0; let s11 = 0; let s12 = 0; let s13 = 0;
  let s20 = 0; let s21 = 0; let s22 = 0; let s23 = 0;
  const plane = (n * this.constants.inC + ic) * this.constants.inH;
  for (let oy = 0; oy < this.constants.outH; oy++) {
    const iy = oy - this.constants.padH + ky;
    if (iy >= 0 && iy < this.constants.inH) {
      const row = (plane + iy) * this.constants.inW;
      const gRow = ((n * (this.constants.outC / 4) + q) * this.constants.outH + oy) * this.constants.outW;
      // the input under kernel columns 0, 1, 2 at output column ox: u, v, then w fetched in the loop
      let u = 0;
      let v = 0;
      if (-this.constants.padW >= 0 && -this.constants.padW < this.constants.inW) u = x[row - this.constants.padW];
      if (1 - this.constants.padW >= 0 && 1 - this.constants.padW < this.constants.inW) v = x[row + 1 - this.constants.padW];
      for (let ox = 0; ox < this.constants.outW; ox++) {
        const ix = ox + 2 - this.constants.padW;
        let w = 0;
        if (ix >= 0 && ix < this.constants.inW) w = x[row + ix];
        const g = gy4[gRow + ox];
        s00 += g[0] * u; s01 += g[1] * u; s02 += g[2] * u; s03 += g[3] * u;
        s10 += g[0] * v; s11 += g[1] * v; s12 += g[2] * v; s13 += g[3] * v;
        s20 += g[0] * w; s21 += g[1] * w; s22 += g[2] * w; s23 += g[3] * w;
        u = v;
        v = w;
      }
    }
  }
  output1(s10, s11, s12, s13);
  output2(s20, s21, s22, s23);
  return [s00, s01, s02, s03];
}

/** dW [outC, inC, 3, 3] from conv3x3WeightGradKernel's three textures, summed over the batch. */
export function sumWeightGradKernel(this: KernelThis, k0: A, k1: A, k2: A): number {
  const i = this.thread.x;
  const kx = i % 3;
  let r = Math.floor(i / 3);
  const ky = r % 3;
  r = Math.floor(r / 3);
  const ic = r % this.constants.inC;
  const oc = Math.floor(r / this.constants.inC);
  const lane = oc % 4;
  let s = 0;
  for (let n = 0; n < this.constants.batch; n++) {
    const at = ((n * (this.constants.outC / 4) + Math.floor(oc / 4)) * this.constants.inC + ic) * 3 + ky;
    let v = k0[at];
    if (kx === 1) v = k1[at];
    if (kx === 2) v = k2[at];
    let t = v[3];
    if (lane === 0) t = v[0];
    if (lane === 1) t = v[1];
    if (lane === 2) t = v[2];
    s += t;
  }
  return s;
}

/**
 * A matrix product's operands packed four rows of A ([batch, ⌈m/4⌉, k] 4-vectors, `side` 0) or
 * four columns of B ([batch, k, ⌈n/4⌉], `side` 1), read through their strides (transposes are
 * free); lanes past the last row or column hold 0.
 */
export function packMatmul4Kernel(this: KernelThis, x: A): number[] {
  const cell = this.thread.x;
  let base = 0;
  let first = 0;
  let step = 0;
  if (this.constants.side === 0) {
    const k = cell % this.constants.k;
    const rest = Math.floor(cell / this.constants.k);
    const i4 = rest % this.constants.m4;
    const bt = Math.floor(rest / this.constants.m4);
    first = 4 * i4;
    base = bt * this.constants.m * this.constants.k + first * this.constants.ai + k * this.constants.ak;
    step = this.constants.ai;
  } else {
    const j4 = cell % this.constants.n4;
    const rest = Math.floor(cell / this.constants.n4);
    const k = rest % this.constants.k;
    const bt = Math.floor(rest / this.constants.k);
    first = 4 * j4;
    base = bt * this.constants.k * this.constants.n + first * this.constants.bj + k * this.constants.bk;
    step = this.constants.bj;
  }
  let v0 = 0;
  let v1 = 0;
  let v2 = 0;
  let v3 = 0;
  if (first < this.constants.count) v0 = x[base];
  if (first + 1 < this.constants.count) v1 = x[base + step];
  if (first + 2 < this.constants.count) v2 = x[base + 2 * step];
  if (first + 3 < this.constants.count) v3 = x[base + 3 * step];
  return [v0, v1, v2, v3];
}

/**
 * C = A·B by 4×4 tiles: one cell per tile, from A and B packed by packMatmul4Kernel, so that each
 * step along k makes two fetches for sixteen products (matmulKernel: two for one). Row r of the
 * tile is a texture of its own ([batch, ⌈m/4⌉, ⌈n/4⌉] 4-vectors: row 0 returned, 1–3 through
 * output1–3); mergeTilesKernel lays C out flat.
 */
export function matmul4x4Kernel(this: KernelThis, a4: A, b4: A): number[] {
  const cell = this.thread.x;
  const j4 = cell % this.constants.n4;
  const rest = Math.floor(cell / this.constants.n4);
  const i4 = rest % this.constants.m4;
  const bt = Math.floor(rest / this.constants.m4);
  // cRC: row R, column C of the tile
  let c00 = 0; let c01 = 0; let c02 = 0; let c03 = 0;
  let c10 = 0; let c11 = 0; let c12 = 0; let c13 = 0;
  let c20 = 0; let c21 = 0; let c22 = 0; let c23 = 0;
  let c30 = 0; let c31 = 0; let c32 = 0; let c33 = 0;
  const aBase = (bt * this.constants.m4 + i4) * this.constants.k;
  const bBase = bt * this.constants.k * this.constants.n4 + j4;
  for (let k = 0; k < this.constants.k; k++) {
    const a = a4[aBase + k];
    const b = b4[bBase + k * this.constants.n4];
    c00 += a[0] * b[0]; c01 += a[0] * b[1]; c02 += a[0] * b[2]; c03 += a[0] * b[3];
    c10 += a[1] * b[0]; c11 += a[1] * b[1]; c12 += a[1] * b[2]; c13 += a[1] * b[3];
    c20 += a[2] * b[0]; c21 += a[2] * b[1]; c22 += a[2] * b[2]; c23 += a[2] * b[3];
    c30 += a[3] * b[0]; c31 += a[3] * b[1]; c32 += a[3] * b[2]; c33 += a[3] * b[3];
  }
  output1(c10, c11, c12, c13);
  output2(c20, c21, c22, c23);
  output3(c30, c31, c32, c33);
  return [c00, c01, c02, c03];
}

/** matmul4x4Kernel's four row textures laid out flat: [batch, m, n]. */
export function mergeTilesKernel(this: KernelThis, r0: A, r1: A, r2: A, r3: A): number {
  const cell = this.thread.x;
  const j = cell % this.constants.n;
  const rest = Math.floor(cell / this.constants.n);
  const i = rest % this.constants.m;
  const bt = Math.floor(rest / this.constants.m);
  const at = (bt * this.constants.m4 + Math.floor(i / 4)) * this.constants.n4 + Math.floor(j / 4);
  const row = i % 4;
  let v = r0[at];
  if (row === 1) v = r1[at];
  if (row === 2) v = r2[at];
  if (row === 3) v = r3[at];
  const lane = j % 4;
  let s = v[3];
  if (lane === 0) s = v[0];
  if (lane === 1) s = v[1];
  if (lane === 2) s = v[2];
  return s;
}

// ── batch norm on packed coefficients (GL modes) ──────────────────────────────────────────────
/**
 * Per channel, what applying batch norm needs in one texel: [μ, γ/√(σ² + eps), β, 0] (`affine` 0:
 * γ = 1, β = 0). batchNormApplyKernel fetches five values an element; with this, two.
 */
export function batchNormCoefKernel(this: KernelThis, mean: A, variance: A, gamma: A, beta: A, eps: number): number[] {
  const ch = this.thread.x;
  let g = 1;
  let b = 0;
  if (this.constants.affine === 1) {
    g = gamma[ch];
    b = beta[ch];
  }
  return [mean[ch], g / Math.sqrt(variance[ch] + eps), b, 0];
}

/** y = (x − μ)·s + β, from batchNormCoefKernel's [μ, s, β, 0]. */
export function batchNormApplyPackedKernel(this: KernelThis, x: A, coef: A): number {
  const i = this.thread.x;
  const k = coef[Math.floor(i / this.constants.hw) % this.constants.c];
  return (x[i] - k[0]) * k[1] + k[2];
}

/**
 * Per channel, batchNormBackwardKernel's coefficients in one texel: [μ, k·M, k·dβ, k·S·σ⁻²] with
 * k = γσ⁻¹/M, so that dx = k·M·dy − k·dβ − k·S·σ⁻²·(x − μ) costs three fetches an element, not seven.
 */
export function batchNormBackwardCoefKernel(this: KernelThis, gamma: A, mean: A, variance: A, sdy: A, sdyx: A, eps: number): number[] {
  const ch = this.thread.x;
  const inv = 1 / Math.sqrt(variance[ch] + eps);
  let g = 1;
  if (this.constants.affine === 1) g = gamma[ch];
  const k = (g * inv) / this.constants.m;
  return [mean[ch], k * this.constants.m, k * sdy[ch], k * sdyx[ch] * inv * inv];
}

/** dx from batchNormBackwardCoefKernel's texel. */
export function batchNormBackwardPackedKernel(this: KernelThis, gy: A, x: A, coef: A): number {
  const i = this.thread.x;
  const k = coef[Math.floor(i / this.constants.hw) % this.constants.c];
  return k[1] * gy[i] - k[2] - k[3] * (x[i] - k[0]);
}
