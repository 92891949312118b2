/**
 * Audio files in a browser. WAV goes through the library's own decoder, so a WAV file gives the same
 * samples, MFCC and prediction as in Node, bit for bit; any other format the browser can decode
 * (MP3, OGG, M4A, FLAC, …) goes through Web Audio's `decodeAudioData`, at 48 kHz, and is then
 * resampled by the library like every other input. Long WAV files can be read a segment at a time
 * (`wavSegments`), so an hour of audio never sits in memory at once.
 */
import { AudioError, WavError } from '../audio/errors.js';
import { toMono } from '../audio/load.js';
import { type DecodedAudio, decodeWav } from '../audio/wav.js';

/** The rate Web Audio decodes compressed formats at before the library resamples them (a rate most files already have). */
export const DECODE_RATE = 48000;

/** Whether bytes start like a RIFF/WAVE file. */
export function isWav(head: Uint8Array): boolean {
  const tag = (at: number) => String.fromCharCode(...head.subarray(at, at + 4));
  return head.length >= 12 && tag(0) === 'RIFF' && tag(8) === 'WAVE';
}

async function bytesOf(input: Blob | ArrayBuffer | Uint8Array): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  return new Uint8Array(await input.arrayBuffer());
}

/**
 * Decodes an audio file: WAV with `decodeWav`, anything else with the browser's decoder. Errors are
 * AudioError (WavError for a broken WAV) with a message fit to show a person.
 */
export async function decodeAudio(input: Blob | ArrayBuffer | Uint8Array): Promise<DecodedAudio> {
  const bytes = await bytesOf(input);
  if (bytes.length === 0) throw new AudioError('the file is empty');
  if (isWav(bytes)) return decodeWav(bytes);
  const Ctx = globalThis.OfflineAudioContext;
  if (!Ctx) throw new AudioError('this environment has no Web Audio decoder: only WAV files can be read here');
  const ctx = new Ctx(1, 1, DECODE_RATE);
  let buffer: AudioBuffer;
  try {
    // decodeAudioData detaches the buffer it is given: hand it a copy
    buffer = await ctx.decodeAudioData(bytes.slice().buffer);
  } catch {
    throw new AudioError('this file is not audio the browser can decode (WAV, MP3, OGG, M4A and FLAC usually are)');
  }
  if (buffer.length === 0) throw new AudioError('the file holds no samples');
  return { sampleRate: buffer.sampleRate, channels: Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c)) };
}

/** Mono samples of a decoded file (the channel mean, as librosa). */
export const monoOf = (audio: DecodedAudio): Float32Array => (audio.channels.length === 1 ? audio.channels[0]! : toMono(audio.channels));

/** Where a WAV file's samples are, found from its first bytes. */
export interface WavLayout {
  sampleRate: number;
  channels: number;
  /** Bytes per frame (all channels). */
  blockAlign: number;
  /** The header up to the data chunk's payload, reused to decode each segment. */
  header: Uint8Array;
  dataStart: number;
  frames: number;
}

const HEAD_BYTES = 1 << 20;

/** Reads a WAV file's chunk list from its first megabyte (the samples are not read). */
export async function wavLayout(file: Blob): Promise<WavLayout> {
  const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
  if (!isWav(head)) throw new WavError('not a WAV file');
  const view = new DataView(head.buffer);
  let blockAlign = 0;
  for (let at = 12; at + 8 <= head.length;) {
    const id = String.fromCharCode(...head.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ' && size >= 16 && at + 24 <= head.length) blockAlign = view.getUint16(at + 20, true);
    if (id === 'data') {
      const start = at + 8;
      if (!blockAlign) throw new WavError('corrupt WAV: no format chunk before the data chunk');
      const frames = Math.floor(Math.min(size, file.size - start) / blockAlign);
      if (frames === 0) throw new WavError('empty WAV: the data chunk holds no samples');
      const header = head.slice(0, start);
      // decodeWav checks the format chunk (encoding, bits, block align) on the first frame
      const first = new Uint8Array(await file.slice(start, start + blockAlign).arrayBuffer());
      const { sampleRate, channels } = decodeWav(withData(header, first));
      return { sampleRate, channels: channels.length, blockAlign, header, dataStart: start, frames };
    }
    at += 8 + size + (size & 1);
  }
  throw new WavError('corrupt WAV: no data chunk in the first megabyte');
}

/** A WAV file made of `header` (ending with a data chunk's id and size) and `data`, sizes patched. */
function withData(header: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  const v = new DataView(out.buffer);
  v.setUint32(4, out.length - 8, true);
  v.setUint32(header.length - 4, data.length, true);
  return out;
}

/** One piece of a long file: mono samples at the file's rate starting `start` frames in. */
export interface Segment {
  start: number;
  sampleRate: number;
  samples: Float32Array;
  /** Frames in the whole file. */
  total: number;
}

/**
 * A WAV file `seconds` at a time (plus `overlapSeconds` carried from the previous piece, so windows
 * can straddle the boundary), reading only that piece's bytes: memory stays bounded whatever the
 * file's length.
 */
export async function* wavSegments(file: Blob, seconds: number, overlapSeconds = 0): AsyncGenerator<Segment> {
  if (!(seconds > 0)) throw new AudioError(`wavSegments: seconds must be positive, got ${seconds}`);
  const layout = await wavLayout(file);
  const step = Math.max(1, Math.round(seconds * layout.sampleRate));
  const overlap = Math.max(0, Math.round(overlapSeconds * layout.sampleRate));
  for (let a = 0; a < layout.frames; a += step) {
    const from = Math.max(0, a - overlap);
    const to = Math.min(layout.frames, a + step);
    const bytes = new Uint8Array(await file.slice(layout.dataStart + from * layout.blockAlign, layout.dataStart + to * layout.blockAlign).arrayBuffer());
    const decoded = decodeWav(withData(layout.header, bytes));
    yield { start: from, sampleRate: layout.sampleRate, samples: monoOf(decoded), total: layout.frames };
  }
}
