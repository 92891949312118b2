/** Batch normalisation, as torch.nn.functional.batch_norm. */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { noGrad } from '../autograd.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { backendOf } from './common.js';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Normalises x ([N, C, ...]) per channel. In training it uses the batch's statistics and, when
 * running buffers are given, updates them in place: mean with the batch mean, variance with the
 * unbiased batch variance (the normalisation itself uses the biased one), as PyTorch does.
 * In eval it uses the running statistics.
 */
export function batchNorm(
  x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null,
  opts: BatchNormOptions,
): Tensor {
  const { training, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.ndim < 2) throw new ShapeError(`batchNorm: input must be [N, C, ...], got ${fmtShape(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  const hw = sizeOf(x.shape.slice(2));
  for (const [name, t] of [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
      throw new ShapeError(`batchNorm: ${name} ${fmtShape(t.shape)} must be [${c}] for input ${fmtShape(x.shape)} with ${c} channels`);
    }
  }
  const be = backendOf('batchNorm', x, weight, bias, runningMean, runningVar);
  const wh = weight?._handle ?? null;
  const bh = bias?._handle ?? null;

  if (!training) {
    if (!runningMean || !runningVar) throw new ValueError('batchNorm: eval mode needs running statistics');
    const h = be.batchNormInfer(x._handle, wh, bh, runningMean._handle, runningVar._handle, n, c, hw, eps);
    // In eval the statistics are constants, so the op is an affine map per channel.
    return Tensor.fromOp(be, h, x.shape, 'batchNormEval', [x, weight, bias], (gy) => {
      const zeroMean = be.zeros(c);
      // dx = dy·γ/√(var+eps): reuse the eval kernel on dy with zero mean and no shift
      const gx = x.requiresGrad ? new Tensor(be, be.batchNormInfer(gy._handle, wh, null, zeroMean, runningVar._handle, n, c, hw, eps), x.shape) : null;
      let gGamma: Tensor | null = null;
      if (weight?.requiresGrad) {
        const xhat = be.batchNormInfer(x._handle, null, null, runningMean._handle, runningVar._handle, n, c, hw, eps);
        const prod = be.binary('mul', xhat, x.shape, gy._handle, x.shape, x.shape);
        gGamma = new Tensor(be, be.reduce('sum', prod, x.shape, axesButChannel(x.ndim)), [c]);
      }
      const gBeta = bias?.requiresGrad ? new Tensor(be, be.reduce('sum', gy._handle, x.shape, axesButChannel(x.ndim)), [c]) : null;
      return [gx, gGamma, gBeta];
    });
  }

  if (n * hw < 2) {
    throw new ValueError(`batchNorm: training needs more than one value per channel, got input ${fmtShape(x.shape)}`);
  }
  const { out, mean, varBiased } = be.batchNormTrain(x._handle, wh, bh, n, c, hw, eps);
  if (runningMean && runningVar) {
    noGrad(() => {
      const m = n * hw;
      const unbiased = be.affine(varBiased, c, m / (m - 1), 0);
      runningMean._assign(lerp(be, runningMean._handle, mean, c, momentum));
      runningVar._assign(lerp(be, runningVar._handle, unbiased, c, momentum));
    });
  }
  return Tensor.fromOp(be, out, x.shape, 'batchNorm', [x, weight, bias], (gy) => {
    const r = be.batchNormBackward(gy._handle, x._handle, wh, mean, varBiased, n, c, hw, eps);
    return [
      x.requiresGrad ? new Tensor(be, r.gx, x.shape) : null,
      weight?.requiresGrad ? new Tensor(be, r.gGamma, [c]) : null,
      bias?.requiresGrad ? new Tensor(be, r.gBeta, [c]) : null,
    ];
  });
}

function axesButChannel(ndim: number): number[] {
  return [0, ...Array.from({ length: ndim - 2 }, (_, i) => i + 2)];
}

/** (1 − m)·running + m·stat, on the backend. */
function lerp(be: Tensor['_backend'], running: unknown, stat: unknown, c: number, m: number): unknown {
  const a = be.affine(running, c, 1 - m, 0);
  const b = be.affine(stat, c, m, 0);
  return be.binary('add', a, [c], b, [c], [c]);
}
