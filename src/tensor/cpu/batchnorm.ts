/**
 * Batch normalisation over (N, H·W) for each channel of an NCHW tensor. Statistics accumulate in
 * float64 with two passes (mean, then squared deviations), which keeps float32 precision on
 * 200k-element channels. Channels are independent, so lanes split them (channel c on lane c mod
 * lanes) and every output array is written by exactly one lane per channel.
 */
import { alloc, lanesFor, runLanes } from './parallel.js';

const channelsOf = (lane: number, lanes: number, c: number) => {
  const out: number[] = [];
  for (let ch = lane; ch < c; ch += lanes) out.push(ch);
  return out;
};

// Four running sums in the loops below: one float64 accumulator would wait on each add's latency.

/** Σ x[off … off + len). */
function sumOf(x: Float32Array, off: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = off;
  const end = off + len;
  for (; i + 4 <= end; i += 4) {
    s0 += x[i]!;
    s1 += x[i + 1]!;
    s2 += x[i + 2]!;
    s3 += x[i + 3]!;
  }
  for (; i < end; i++) s0 += x[i]!;
  return s0 + s1 + s2 + s3;
}

/** Σ (x − mu)² over x[off … off + len). */
function squaredDeviations(x: Float32Array, off: number, len: number, mu: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let i = off;
  const end = off + len;
  for (; i + 4 <= end; i += 4) {
    const d0 = x[i]! - mu, d1 = x[i + 1]! - mu, d2 = x[i + 2]! - mu, d3 = x[i + 3]! - mu;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < end; i++) s0 += (x[i]! - mu) * (x[i]! - mu);
  return s0 + s1 + s2 + s3;
}

/** Lane: per-channel batch mean and biased variance, then the normalised output. */
export function batchNormTrainLane(
  lane: number, lanes: number, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
  out: Float32Array, mean: Float32Array, variance: Float32Array, n: number, c: number, hw: number, eps: number,
): void {
  const m = n * hw;
  for (const ch of channelsOf(lane, lanes, c)) {
    let s = 0;
    for (let b = 0; b < n; b++) s += sumOf(x, (b * c + ch) * hw, hw);
    const mu = s / m;
    let v = 0;
    for (let b = 0; b < n; b++) v += squaredDeviations(x, (b * c + ch) * hw, hw, mu);
    mean[ch] = mu;
    variance[ch] = v / m;
    normaliseChannel(x, gamma, beta, mu, v / m, ch, out, n, c, hw, eps);
  }
}

function normaliseChannel(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, mu: number, variance: number, ch: number,
  out: Float32Array, n: number, c: number, hw: number, eps: number,
): void {
  const inv = 1 / Math.sqrt(variance + eps);
  const scale = (gamma ? gamma[ch]! : 1) * inv;
  const shift = (beta ? beta[ch]! : 0) - mu * scale;
  for (let b = 0; b < n; b++) {
    const off = (b * c + ch) * hw;
    for (let i = 0; i < hw; i++) out[off + i] = x[off + i]! * scale + shift;
  }
}

export function batchNormTrain(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, n: number, c: number, hw: number, eps: number,
) {
  const out = alloc(x.length);
  // statistics are float64 during the pass; they are stored as float32, as PyTorch returns them
  const mean = alloc(c);
  const varBiased = alloc(c);
  runLanes('batchNormTrain', batchNormTrainLane, [x, gamma, beta, out, mean, varBiased, n, c, hw, eps], lanesFor(4 * x.length));
  return { out, mean, varBiased };
}

export function batchNormInferLane(
  lane: number, lanes: number, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
  mean: Float32Array, variance: Float32Array, out: Float32Array, n: number, c: number, hw: number, eps: number,
): void {
  for (const ch of channelsOf(lane, lanes, c)) normaliseChannel(x, gamma, beta, mean[ch]!, variance[ch]!, ch, out, n, c, hw, eps);
}

export function batchNormInfer(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, mean: Float32Array, variance: Float32Array,
  n: number, c: number, hw: number, eps: number,
): Float32Array {
  const out = alloc(x.length);
  runLanes('batchNormInfer', batchNormInferLane, [x, gamma, beta, mean, variance, out, n, c, hw, eps], lanesFor(2 * x.length));
  return out;
}

/**
 * With x̂ = (x − μ)·σ⁻¹ and M = N·H·W per channel:
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γσ⁻¹/M · (M·dy − dβ − x̂·dγ).
 */
export function batchNormBackwardLane(
  lane: number, lanes: number, gy: Float32Array, x: Float32Array, gamma: Float32Array | null, mean: Float32Array,
  varBiased: Float32Array, gx: Float32Array, gGamma: Float32Array, gBeta: Float32Array, n: number, c: number, hw: number, eps: number,
): void {
  const m = n * hw;
  for (const ch of channelsOf(lane, lanes, c)) {
    const mu = mean[ch]!;
    const inv = 1 / Math.sqrt(varBiased[ch]! + eps);
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      sdy += sumOf(gy, off, hw);
      // two running sums of dy·(x − mu), even and odd elements
      let p0 = 0, p1 = 0;
      let i = off;
      for (; i + 2 <= off + hw; i += 2) {
        p0 += gy[i]! * (x[i]! - mu);
        p1 += gy[i + 1]! * (x[i + 1]! - mu);
      }
      if (i < off + hw) p0 += gy[i]! * (x[i]! - mu);
      sdyx += p0 + p1;
    }
    const dGamma = sdyx * inv;
    gBeta[ch] = sdy;
    gGamma[ch] = dGamma;
    const k = ((gamma ? gamma[ch]! : 1) * inv) / m;
    const a = k * m;
    const bias = -k * sdy;
    const slope = -k * dGamma * inv;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) gx[off + i] = a * gy[off + i]! + bias + slope * (x[off + i]! - mu);
    }
  }
}

export function batchNormBackward(
  gy: Float32Array, x: Float32Array, gamma: Float32Array | null, mean: Float32Array, varBiased: Float32Array,
  n: number, c: number, hw: number, eps: number,
) {
  const gx = alloc(x.length);
  const gGamma = alloc(c);
  const gBeta = alloc(c);
  runLanes('batchNormBackward', batchNormBackwardLane, [gy, x, gamma, mean, varBiased, gx, gGamma, gBeta, n, c, hw, eps], lanesFor(6 * x.length));
  return { gx, gGamma, gBeta };
}
