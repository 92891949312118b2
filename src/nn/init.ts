/** PyTorch's default initialisers, drawing from the seeded generator. */
import { type Generator, defaultGenerator } from '../tensor/random.js';
import { ValueError } from '../tensor/errors.js';
import { sizeOf } from '../tensor/shape.js';
import { Tensor, tensor } from '../tensor/tensor.js';

/** fan_in as torch.nn.init computes it: in-features × receptive field. */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) throw new ValueError(`fanIn: needs at least 2 dimensions, got ${shape.length}`);
  return shape[1]! * sizeOf(shape.slice(2));
}

export function uniform(shape: readonly number[], bound: number, generator: Generator = defaultGenerator): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (generator.uniform() * 2 - 1) * bound;
  return tensor(data, shape);
}

/**
 * kaiming_uniform_ with leaky-relu slope a: bound = gain·√(3/fan_in), gain = √(2/(1+a²)).
 * PyTorch's Linear and Conv default is a = √5, i.e. bound = 1/√fan_in.
 */
export function kaimingUniform(shape: readonly number[], a = Math.sqrt(5), generator?: Generator): Tensor {
  const gain = Math.sqrt(2 / (1 + a * a));
  return uniform(shape, gain * Math.sqrt(3 / fanIn(shape)), generator);
}

/** The bias init PyTorch pairs with it: U(±1/√fan_in). */
export function biasUniform(n: number, fan: number, generator?: Generator): Tensor {
  return uniform([n], fan > 0 ? 1 / Math.sqrt(fan) : 0, generator);
}
