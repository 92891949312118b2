import type { AdamHyper, SgdHyper } from '../backend.js';
import { markWritten } from './wasm/resident.js';

/** torch.optim.Adam / AdamW, in place, in the same order of operations as PyTorch's single-tensor path. */
export function adamStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, size: number, h: AdamHyper) {
  markWritten(); // p changes in place: weights copied into WebAssembly memory are stale
  const { lr, beta1, beta2, eps, weightDecay, decoupled, step } = h;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const decay = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  for (let i = 0; i < size; i++) {
    let pi = p[i]!;
    const gi = l2 !== 0 ? g[i]! + l2 * pi : g[i]!;
    pi *= decay;
    const mi = (m[i] = Math.fround(beta1 * m[i]! + (1 - beta1) * gi));
    const vi = (v[i] = Math.fround(beta2 * v[i]! + (1 - beta2) * gi * gi));
    p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
  }
  return { p, m, v };
}

/** torch.optim.SGD with momentum, dampening, Nesterov and L2 weight decay, in place. */
export function sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, size: number, h: SgdHyper) {
  markWritten();
  const { lr, momentum, dampening, weightDecay, nesterov, first } = h;
  let b = buf;
  if (momentum !== 0 && !b) b = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let d = g[i]! + weightDecay * p[i]!;
    if (b) {
      b[i] = first ? d : momentum * b[i]! + (1 - dampening) * d;
      d = nesterov ? d + momentum * b[i]! : b[i]!;
    }
    p[i] = p[i]! - lr * d;
  }
  return { p, buf: b };
}
