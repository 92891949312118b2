/** Power to decibels, as librosa.power_to_db. */
import { ValueError } from '../tensor/errors.js';

export interface DbOptions {
  /** Reference power for 0 dB (default 1). */
  ref?: number;
  /** Floor below which power counts as silence (default 1e-10, i.e. −100 dB). */
  amin?: number;
  /** Clip everything more than topDb below the loudest value of the whole input (default 80; null: no clip). */
  topDb?: number | null;
}

/** 10·log10(max(amin, S)/max(amin, ref)), clipped at max − topDb; returns a new float32 array. */
export function powerToDbArray(S: ArrayLike<number>, opts: DbOptions = {}): Float32Array {
  const ref = opts.ref ?? 1;
  const amin = opts.amin ?? 1e-10;
  const topDb = opts.topDb === undefined ? 80 : opts.topDb;
  if (!(amin > 0)) throw new ValueError(`powerToDb: amin must be positive, got ${amin}`);
  if (topDb !== null && !(topDb >= 0)) throw new ValueError(`powerToDb: topDb must be non-negative, got ${topDb}`);
  const aminF = Math.fround(amin);
  const offset = Math.fround(10 * Math.log10(Math.max(amin, ref)));
  const out = new Float32Array(S.length);
  let max = -Infinity;
  for (let i = 0; i < S.length; i++) {
    const v = Math.fround(Math.fround(10 * Math.fround(Math.log10(Math.max(aminF, S[i]!)))) - offset);
    out[i] = v;
    if (v > max) max = v;
  }
  if (topDb !== null) {
    const floor = Math.fround(max - topDb);
    for (let i = 0; i < out.length; i++) if (out[i]! < floor) out[i] = floor;
  }
  return out;
}
