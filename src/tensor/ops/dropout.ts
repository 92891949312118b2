/** Inverted dropout, as torch.nn.functional.dropout. */
import { ValueError } from '../errors.js';
import { type Generator, defaultGenerator } from '../random.js';
import { Tensor } from '../tensor.js';
import { mul } from './elementwise.js';

/**
 * Zeroes each element with probability p and scales survivors by 1/(1−p), so the expectation is
 * unchanged; the identity outside training. The mask comes from the seeded generator.
 */
export function dropout(x: Tensor, p: number, training: boolean, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const mask = new Float32Array(x.size);
  if (p < 1) {
    const keep = 1 / (1 - p);
    for (let i = 0; i < mask.length; i++) mask[i] = generator.uniform() >= p ? keep : 0;
  }
  const be = x._backend;
  return mul(x, new Tensor(be, be.fromArray(mask), x.shape));
}
