/**
 * Batch normalisation over (N, H·W) for each channel of an NCHW tensor. Statistics accumulate in
 * float64 with two passes (mean, then squared deviations), which keeps float32 precision on
 * 200k-element channels.
 */

function channelStats(x: Float32Array, n: number, c: number, hw: number) {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) s += x[off + i]!;
    }
    const mu = s / m;
    let v = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) {
        const d = x[off + i]! - mu;
        v += d * d;
      }
    }
    mean[ch] = mu;
    variance[ch] = v / m;
  }
  return { mean, variance };
}

function normalise(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
  mean: ArrayLike<number>, variance: ArrayLike<number>, n: number, c: number, hw: number, eps: number,
): Float32Array {
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) {
    const inv = 1 / Math.sqrt(variance[ch]! + eps);
    const scale = (gamma ? gamma[ch]! : 1) * inv;
    const shift = (beta ? beta[ch]! : 0) - mean[ch]! * scale;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) out[off + i] = x[off + i]! * scale + shift;
    }
  }
  return out;
}

export function batchNormTrain(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, n: number, c: number, hw: number, eps: number,
) {
  const { mean, variance } = channelStats(x, n, c, hw);
  const out = normalise(x, gamma, beta, mean, variance, n, c, hw, eps);
  return { out, mean: Float32Array.from(mean), varBiased: Float32Array.from(variance) };
}

export function batchNormInfer(
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, mean: Float32Array, variance: Float32Array,
  n: number, c: number, hw: number, eps: number,
): Float32Array {
  return normalise(x, gamma, beta, mean, variance, n, c, hw, eps);
}

/**
 * With x̂ = (x − μ)·σ⁻¹ and M = N·H·W per channel:
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γσ⁻¹/M · (M·dy − dβ − x̂·dγ).
 */
export function batchNormBackward(
  gy: Float32Array, x: Float32Array, gamma: Float32Array | null, mean: Float32Array, varBiased: Float32Array,
  n: number, c: number, hw: number, eps: number,
) {
  const gx = new Float32Array(x.length);
  const gGamma = new Float32Array(c);
  const gBeta = new Float32Array(c);
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch]!;
    const inv = 1 / Math.sqrt(varBiased[ch]! + eps);
    let sdy = 0;
    let sdyx = 0;
    for (let b = 0; b < n; b++) {
      const off = (b * c + ch) * hw;
      for (let i = 0; i < hw; i++) {
        const dy = gy[off + i]!;
        sdy += dy;
        sdyx += dy * (x[off + i]! - mu);
      }
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
  return { gx, gGamma, gBeta };
}
