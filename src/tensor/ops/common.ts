import type { Backend } from '../backend.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** The backend all inputs share; mixing backends is an error rather than a silent copy. */
export function backendOf(op: string, ...ts: readonly (Tensor | null | undefined)[]): Backend {
  let b: Backend | null = null;
  for (const t of ts) {
    if (!t) continue;
    if (b && t._backend !== b) {
      throw new ValueError(`${op}: inputs live on different backends ('${b.name}' and '${t._backend.name}'); move one with .to()`);
    }
    b = t._backend;
  }
  if (!b) throw new ValueError(`${op}: no tensor input`);
  return b;
}

export function checkFiniteScalar(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`${op}: ${name} must be a number, got ${String(v)}`);
}
