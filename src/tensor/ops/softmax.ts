/** Softmax and log-softmax, built from differentiable ops so their gradients come for free. */
import { normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { exp, log, sub } from './elementwise.js';
import { amax, sum } from './reduce.js';

/** log(softmax(x)) along `dim`, computed stably as (x − max) − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const d = normAxis(dim, x.ndim, 'logSoftmax');
  const shifted = sub(x, amax(x, d, true));
  return sub(shifted, log(sum(exp(shifted), d, true)));
}

export function softmax(x: Tensor, dim = -1): Tensor {
  return exp(logSoftmax(x, dim));
}
