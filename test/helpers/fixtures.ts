import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Tensor, loadSafetensors } from '../../src/index.js';

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(rel: string): string {
  return root + rel;
}

/** A PyTorch fixture written by scripts/gen_torch_fixtures.py. */
export function torchFixture(name: string): { t: Record<string, Tensor>; config: Record<string, unknown> } {
  const { tensors, metadata } = loadSafetensors(readFileSync(fixturePath(`torch/${name}.safetensors`)));
  return { t: tensors, config: metadata.config ? (JSON.parse(metadata.config) as Record<string, unknown>) : {} };
}

/** max |a − b| / max |b|: the ∞-norm relative error, meaningful also where b has zeros. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

type Values = Tensor | Float32Array | number[];
const values = (v: Values) => (Array.isArray(v) || v instanceof Float32Array ? v : v.toArray());

/** Asserts same size and relative error within tol (1e-5 by default, the target). */
export function expectClose(actual: Values | null | undefined, expected: Values, tol = 1e-5, what = ''): void {
  expect(actual, `${what}: missing`).toBeTruthy();
  const a = values(actual!);
  const e = values(expected);
  expect(a.length, `${what}: size`).toBe(e.length);
  const nonFinite = Array.prototype.findIndex.call(a, (v: number, i: number) => Number.isFinite(v) !== Number.isFinite(e[i]!));
  expect(nonFinite, `${what}: finiteness differs at index ${nonFinite}`).toBe(-1);
  const err = relError(a, e);
  expect(err, `${what}: relative error ${err.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
}
