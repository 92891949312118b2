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

let audioCache: Record<string, Tensor> | null = null;
/** librosa reference arrays copied by scripts/gen_audio_fixtures.ts. */
export function audioRefs(): Record<string, Tensor> {
  audioCache ??= loadSafetensors(readFileSync(fixturePath('audio/librosa.safetensors'))).tensors;
  return audioCache;
}

/** max |a − b| and mean |a − b|. */
export function absDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / b.length };
}

/** Signal-to-noise ratio of `actual` against `reference`, in dB. */
export function snrDb(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < reference.length; i++) {
    s += reference[i]! ** 2;
    e += (actual[i]! - reference[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}
