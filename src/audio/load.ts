import { AudioError } from './errors.js';
import { LIBROSA_SAMPLE_RATE } from './defaults.js';
import { resample } from './resample.js';
import { decodeWav } from './wav.js';

/** Channel mean, as librosa.to_mono. */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new AudioError('toMono: no channels');
  const n = channels[0]!.length;
  if (channels.some((c) => c.length !== n)) throw new AudioError('toMono: channels differ in length');
  if (channels.length === 1) return channels[0]!.slice();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const c of channels) s += c[i]!;
    out[i] = s / channels.length;
  }
  return out;
}

export interface LoadOptions {
  /** Target rate in Hz (default 22050, librosa's); null keeps the file's rate. */
  sampleRate?: number | null;
}

/** WAV bytes → mono float32 at `sampleRate`, as librosa.load(path, sr=22050). */
export function load(bytes: Uint8Array, opts: LoadOptions = {}): Float32Array {
  const target = opts.sampleRate === undefined ? LIBROSA_SAMPLE_RATE : opts.sampleRate;
  const { sampleRate, channels } = decodeWav(bytes);
  // decodeWav's channels are ours: a mono file needs no copy
  const mono = channels.length === 1 ? channels[0]! : toMono(channels);
  return target === null || target === sampleRate ? mono : resample(mono, sampleRate, target);
}
