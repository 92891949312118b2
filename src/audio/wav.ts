/**
 * WAV decoding and encoding. wavefile parses the format chunk and writes files; decoding the
 * samples is done here with typed views, because wavefile's generic per-sample path takes ~11 ms
 * for a 3.7 s clip and silently returns fewer samples from a truncated file. Before anything is
 * decoded, the RIFF chunk list is walked and every declared size is checked against the bytes,
 * so a truncated or lying file is an error that says so.
 *
 * Samples are scaled to [-1, 1) as soundfile (and so librosa) scales them: signed PCM divided by
 * 2^(bits−1), unsigned 8-bit centred at 128, floats unchanged.
 */
import * as wavefileModule from 'wavefile';
import { MAX_FLOAT_SAMPLE, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from './defaults.js';
import { WavError } from './errors.js';

// wavefile ships two builds: bundlers pick its ES module (named exports only), Node's ESM loader its
// CommonJS one (whose exports sit on `default`). Look in both, through a plain object, so that no
// bundler sees a missing `default` import.
const wavefileExports: Record<string, unknown> = { ...(wavefileModule as object) };
const WaveFile = (wavefileExports.WaveFile ?? (wavefileExports.default as { WaveFile?: unknown } | undefined)?.WaveFile) as typeof wavefileModule.WaveFile;

export interface DecodedAudio {
  sampleRate: number;
  /** One array per channel, values in [-1, 1]. */
  channels: Float32Array[];
}

interface Chunk {
  id: string;
  /** Offset of the chunk's payload. */
  start: number;
  size: number;
  /** A data chunk whose size was left unknown (0xFFFFFFFF) by a streaming writer: it runs to the end of the file. */
  streamed?: boolean;
}

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;
/** A RIFF or data chunk size that streaming writers leave when they cannot seek back: "up to the end of the file". */
const UNKNOWN_SIZE = 0xffffffff;

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

const printable = (s: string) => (/^[\x20-\x7e]{4}$/.test(s) ? `'${s}'` : 'non-text bytes');

/** Walks the RIFF chunk list, checking that every chunk fits in the file. */
function readChunks(bytes: Uint8Array, view: DataView): Chunk[] {
  if (bytes.length < 12) throw new WavError(`not a WAV file: ${bytes.length} bytes is shorter than a RIFF header (12 bytes)`);
  const magic = fourcc(bytes, 0);
  if (magic === 'RIFX' || magic === 'RF64') throw new WavError(`unsupported WAV variant ${magic} (only little-endian RIFF is read)`);
  if (magic !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') {
    throw new WavError(`not a WAV file: starts with ${printable(magic)}/${printable(fourcc(bytes, 8))}, expected 'RIFF'…'WAVE'`);
  }
  const riffSize = view.getUint32(4, true);
  const riffEnd = riffSize === UNKNOWN_SIZE ? bytes.length : 8 + riffSize;
  if (riffEnd > bytes.length) {
    throw new WavError(`truncated WAV: the RIFF header declares ${riffEnd} bytes but the file has ${bytes.length}`);
  }
  const chunks: Chunk[] = [];
  let at = 12;
  while (at + 8 <= riffEnd) {
    const id = fourcc(bytes, at);
    const start = at + 8;
    // a streamed file's data chunk runs to the end of the file
    const streamed = id === 'data' && view.getUint32(at + 4, true) === UNKNOWN_SIZE;
    const size = streamed ? riffEnd - start : view.getUint32(at + 4, true);
    if (start + size > riffEnd) {
      const what = id === 'data' ? 'truncated WAV: the data chunk' : `corrupt WAV: chunk ${printable(id)} at byte ${at}`;
      throw new WavError(`${what} declares ${size} bytes but only ${riffEnd - start} remain`);
    }
    chunks.push({ id, start, size, streamed });
    at = start + size + (size & 1); // chunks are padded to even sizes
  }
  return chunks;
}

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  bits: number;
  blockAlign: number;
}

/** The format chunk, as wavefile parses it, checked for consistency. */
function readFormat(bytes: Uint8Array, view: DataView, fmt: Chunk): Format {
  if (fmt.size < 16) throw new WavError(`corrupt WAV: the format chunk has ${fmt.size} bytes, fewer than the 16 every format needs`);
  let parsed: { fmt: { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number; blockAlign: number } };
  try {
    // wavefile reads every chunk it meets; hand it the format chunk and an empty data chunk only,
    // so parsing costs microseconds whatever the clip's length (the samples are decoded below)
    const fmtBytes = bytes.subarray(fmt.start - 8, fmt.start + fmt.size + (fmt.size & 1));
    const header = new Uint8Array(12 + fmtBytes.length + 8);
    const hv = new DataView(header.buffer);
    header.set([0x52, 0x49, 0x46, 0x46], 0); // "RIFF"
    hv.setUint32(4, header.length - 8, true);
    header.set([0x57, 0x41, 0x56, 0x45], 8); // "WAVE"
    header.set(fmtBytes, 12);
    header.set([0x64, 0x61, 0x74, 0x61], 12 + fmtBytes.length); // "data", size 0
    const w = new WaveFile();
    w.fromBuffer(header, false);
    parsed = w as unknown as typeof parsed;
  } catch (e) {
    throw new WavError(`corrupt WAV: the format chunk could not be parsed (${(e as Error).message})`);
  }
  const f = parsed.fmt;
  let code = f.audioFormat;
  if (code === EXTENSIBLE) {
    if (fmt.size < 40) throw new WavError(`corrupt WAV: an extensible format chunk needs 40 bytes, this one has ${fmt.size}`);
    code = view.getUint16(fmt.start + 24, true); // the sub-format GUID starts with the format code
  }
  const { numChannels: channels, sampleRate, bitsPerSample: bits, blockAlign } = f;
  if (!(channels >= 1)) throw new WavError(`corrupt WAV: the format chunk declares ${channels} channels`);
  if (!(sampleRate > 0)) throw new WavError(`corrupt WAV: sample rate ${sampleRate} Hz is not a usable rate`);
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new WavError(`unsupported WAV: sample rate ${sampleRate} Hz is outside the accepted ${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE} Hz`);
  }
  const ok = code === PCM ? [8, 16, 24, 32].includes(bits) : code === IEEE_FLOAT ? [32, 64].includes(bits) : false;
  if (!ok) {
    const kind = code === PCM ? 'PCM' : code === IEEE_FLOAT ? 'float' : `format code ${code}`;
    throw new WavError(`unsupported WAV encoding: ${kind} with ${bits} bits per sample (supported: 8/16/24/32-bit PCM, 32/64-bit float)`);
  }
  if (blockAlign !== channels * (bits / 8)) {
    throw new WavError(`corrupt WAV: block align ${blockAlign} does not match ${channels} channels of ${bits}-bit samples`);
  }
  return { code, channels, sampleRate, bits, blockAlign };
}

/** Decodes a WAV file's bytes into float channels; throws WavError naming the problem otherwise. */
export function decodeWav(bytes: Uint8Array): DecodedAudio {
  if (!(bytes instanceof Uint8Array)) throw new WavError('decodeWav expects the file contents as a Uint8Array');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = readChunks(bytes, view);
  const fmt = chunks.find((c) => c.id === 'fmt ');
  const data = chunks.find((c) => c.id === 'data');
  if (!fmt) throw new WavError('corrupt WAV: no format chunk');
  if (!data) throw new WavError('corrupt WAV: no data chunk');
  const f = readFormat(bytes, view, fmt);
  if (data.size % f.blockAlign !== 0 && !data.streamed) {
    throw new WavError(`corrupt WAV: the data chunk's ${data.size} bytes are not a whole number of ${f.blockAlign}-byte frames`);
  }
  const frames = Math.floor(data.size / f.blockAlign);
  if (frames === 0) throw new WavError('empty WAV: the data chunk holds no samples');
  const channels = Array.from({ length: f.channels }, () => new Float32Array(frames));
  decodeSamples(view, data.start, frames, f, channels);
  if (f.code === IEEE_FLOAT) {
    channels.forEach((ch, c) => {
      for (let i = 0; i < frames; i++) {
        if (!Number.isFinite(ch[i]!)) throw new WavError(`invalid WAV: sample ${i} of channel ${c} is ${ch[i]}, not a finite number`);
        if (Math.abs(ch[i]!) > MAX_FLOAT_SAMPLE) throw new WavError(`invalid WAV: sample ${i} of channel ${c} is ${ch[i]}, over ${MAX_FLOAT_SAMPLE} (80 dB above full scale): not audio`);
      }
    });
  }
  return { sampleRate: f.sampleRate, channels };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** 1/32768: a power of two, so multiplying by it is exactly the division (and faster). */
const PCM16 = 1 / 32768;

/** Channel c of interleaved 16-bit PCM, scaled: a small function of its own, so it stays fast. */
function int16Channel(pcm: Int16Array, c: number, C: number, ch: Float32Array): void {
  const n = ch.length;
  if (C === 1) for (let i = 0; i < n; i++) ch[i] = pcm[i]! * PCM16;
  else for (let i = 0, at = c; i < n; i++, at += C) ch[i] = pcm[at]! * PCM16;
}

function decodeSamples(view: DataView, start: number, frames: number, f: Format, out: Float32Array[]): void {
  const C = f.channels;
  // the common case, 16-bit PCM at an even address: read through an Int16Array, not DataView calls
  if (f.code === PCM && f.bits === 16 && littleEndian && (view.byteOffset + start) % 2 === 0) {
    const pcm = new Int16Array(view.buffer, view.byteOffset + start, frames * C);
    for (let c = 0; c < C; c++) int16Channel(pcm, c, C, out[c]!);
    return;
  }
  const step = f.bits / 8;
  for (let c = 0; c < C; c++) {
    const ch = out[c]!;
    let at = start + c * step;
    const stride = f.blockAlign;
    if (f.code === IEEE_FLOAT) {
      if (f.bits === 32) for (let i = 0; i < frames; i++, at += stride) ch[i] = view.getFloat32(at, true);
      else for (let i = 0; i < frames; i++, at += stride) ch[i] = view.getFloat64(at, true);
      continue;
    }
    switch (f.bits) {
      case 8:
        for (let i = 0; i < frames; i++, at += stride) ch[i] = (view.getUint8(at) - 128) / 128;
        break;
      case 16:
        for (let i = 0; i < frames; i++, at += stride) ch[i] = view.getInt16(at, true) / 32768;
        break;
      case 24:
        for (let i = 0; i < frames; i++, at += stride) {
          const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
          ch[i] = v / 8388608;
        }
        break;
      case 32:
        for (let i = 0; i < frames; i++, at += stride) ch[i] = view.getInt32(at, true) / 2147483648;
        break;
    }
  }
}

export type WavBitDepth = '8' | '16' | '24' | '32' | '32f' | '64';

/**
 * Encodes float channels (values in [-1, 1]; PCM clips outside) as a WAV file, through wavefile.
 */
export function encodeWav(channels: readonly Float32Array[], sampleRate: number, bitDepth: WavBitDepth = '16'): Uint8Array {
  if (channels.length === 0 || channels.some((c) => c.length !== channels[0]!.length)) {
    throw new WavError('encodeWav: needs at least one channel, all of the same length');
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new WavError(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  const scaled = channels.map((ch) => {
    if (bitDepth === '32f' || bitDepth === '64') return Float64Array.from(ch);
    const bits = Number(bitDepth);
    const full = 2 ** (bits - 1);
    return Float64Array.from(ch, (v) => {
      const s = Math.max(-full, Math.min(full - 1, Math.round(v * full)));
      return bits === 8 ? s + 128 : s;
    });
  });
  const w = new WaveFile();
  w.fromScratch(channels.length, sampleRate, bitDepth, scaled.map((c) => Array.from(c)));
  return w.toBuffer();
}
