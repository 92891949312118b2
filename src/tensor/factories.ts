import { type Generator, defaultGenerator } from './random.js';
import { type TensorOptions, tensor } from './tensor.js';
import { checkShape, sizeOf } from './shape.js';

/** Uniform in [low, high) from the seeded generator. */
export function rand(shape: readonly number[], opts: TensorOptions & { low?: number; high?: number; generator?: Generator } = {}) {
  checkShape(shape);
  const { low = 0, high = 1, generator = defaultGenerator } = opts;
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * generator.uniform();
  return tensor(data, shape, opts);
}

/** Standard normal from the seeded generator. */
export function randn(shape: readonly number[], opts: TensorOptions & { generator?: Generator } = {}) {
  checkShape(shape);
  const g = opts.generator ?? defaultGenerator;
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = g.normal();
  return tensor(data, shape, opts);
}
