/** Tensor-returning forms of the building blocks, for use with the rest of the library. */
import { ShapeError, fmtShape } from '../tensor/errors.js';
import { type Tensor, tensor } from '../tensor/tensor.js';
import { type DbOptions, powerToDbArray } from './db.js';
import { dctRows } from './dct.js';
import { type StftOptions, spectrogram } from './spectrum.js';

/** |STFT(y)|^power as a [1 + nFft/2, frames] tensor (power 2 by default), as librosa.stft. */
export function stft(y: ArrayLike<number>, opts: StftOptions = {}): Tensor {
  const s = spectrogram(y, opts);
  return tensor(s.data, [s.bins, s.frames]);
}

/** librosa.power_to_db on any tensor; topDb clips against the maximum of the whole input. */
export function powerToDb(S: Tensor, opts: DbOptions = {}): Tensor {
  return tensor(powerToDbArray(S.toArray(), opts), S.shape);
}

/** Orthonormal DCT-II along the first axis of [n, frames], keeping nOut rows (default all). */
export function dct(x: Tensor, nOut?: number): Tensor {
  if (x.ndim !== 2) throw new ShapeError(`dct: expects [n, frames], got ${fmtShape(x.shape)}`);
  const [n, cols] = x.shape as [number, number];
  return tensor(dctRows(x.toArray(), n, cols, nOut ?? n), [nOut ?? n, cols]);
}
