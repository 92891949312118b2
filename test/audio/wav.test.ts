/** WAV decoding: every supported format, extra chunks, and bad input as typed errors. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Generator, audio } from '../../src/index.js';
import { audioRefs, fixturePath } from '../helpers/fixtures.js';

const { decodeWav, encodeWav, WavError, toMono, load } = audio;

/** A WAV with arbitrary chunks, built by hand (to add chunks wavefile would not write). */
function riff(chunks: [string, Uint8Array][]): Uint8Array {
  const body = chunks.reduce((n, [, d]) => n + 8 + d.length + (d.length & 1), 4);
  const out = new Uint8Array(8 + body);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode('RIFF'), 0);
  v.setUint32(4, body, true);
  out.set(new TextEncoder().encode('WAVE'), 8);
  let at = 12;
  for (const [id, d] of chunks) {
    out.set(new TextEncoder().encode(id), at);
    v.setUint32(at + 4, d.length, true);
    out.set(d, at + 8);
    at += 8 + d.length + (d.length & 1);
  }
  return out;
}

function fmtChunk(code: number, channels: number, rate: number, bits: number): Uint8Array {
  const d = new Uint8Array(16);
  const v = new DataView(d.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true);
  v.setUint16(12, (channels * bits) / 8, true);
  v.setUint16(14, bits, true);
  return d;
}

const ramp = Float32Array.from({ length: 50 }, (_, i) => (i - 25) / 26);

describe('decodeWav', () => {
  it('reads the 16-bit RAVDESS clip exactly as librosa (soundfile) does', () => {
    const { sampleRate, channels } = decodeWav(readFileSync(fixturePath('audio/stage.wav')));
    expect(sampleRate).toBe(22050);
    expect(channels.length).toBe(1);
    const ref = audioRefs()['stages.waveform']!.toArray();
    expect(channels[0]!).toEqual(ref);
  });

  for (const [depth, tol] of [['8', 1 / 128], ['16', 1 / 32768], ['24', 2 ** -23], ['32', 2 ** -31], ['32f', 0], ['64', 0]] as const) {
    it(`round-trips ${depth}-bit audio in stereo`, () => {
      const left = ramp;
      const right = ramp.map((v) => -v / 2);
      const { sampleRate, channels } = decodeWav(encodeWav([left, right], 16000, depth));
      expect(sampleRate).toBe(16000);
      expect(channels.length).toBe(2);
      channels.forEach((ch, c) => {
        const want = c === 0 ? left : right;
        ch.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol + 1e-9));
      });
    });
  }

  it('skips extra chunks (LIST, cue, odd-sized padding) before and after the data', () => {
    const pcm = new Uint8Array(new Int16Array([1000, -1000, 32767]).buffer);
    const wav = riff([['LIST', new Uint8Array(7)], ['fmt ', fmtChunk(1, 1, 8000, 16)], ['cue ', new Uint8Array(4)], ['data', pcm], ['junk', new Uint8Array(3)]]);
    const { channels } = decodeWav(wav);
    expect(Array.from(channels[0]!)).toEqual([1000 / 32768, -1000 / 32768, 32767 / 32768]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE float', () => {
    const f = new Uint8Array(40);
    f.set(fmtChunk(0xfffe, 1, 8000, 32));
    const v = new DataView(f.buffer);
    v.setUint16(16, 22, true);
    v.setUint16(24, 3, true); // sub-format: IEEE float
    const data = new Uint8Array(new Float32Array([0.25, -0.5]).buffer);
    expect(Array.from(decodeWav(riff([['fmt ', f], ['data', data]])).channels[0]!)).toEqual([0.25, -0.5]);
  });

  const good = encodeWav([ramp], 8000, '16');
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /shorter than a RIFF header/],
    ['a text file', new TextEncoder().encode('hello, this is not audio at all'), /not a WAV file/],
    ['a file cut inside the data', good.slice(0, good.length - 10), /truncated WAV/],
    ['a file cut inside the header', good.slice(0, 20), /truncated WAV/],
    ['a data chunk that lies about its size', (() => {
      const b = riff([['fmt ', fmtChunk(1, 1, 8000, 16)], ['data', new Uint8Array(8)]]);
      new DataView(b.buffer).setUint32(40, 1_000_000, true);
      return b;
    })(), /data chunk declares 1000000 bytes/],
    ['zero samples', riff([['fmt ', fmtChunk(1, 1, 8000, 16)], ['data', new Uint8Array(0)]]), /no samples/],
    ['a sample rate of 0', riff([['fmt ', fmtChunk(1, 1, 0, 16)], ['data', new Uint8Array(4)]]), /sample rate 0 Hz/],
    ['no data chunk', riff([['fmt ', fmtChunk(1, 1, 8000, 16)]]), /no data chunk/],
    ['no format chunk', riff([['data', new Uint8Array(4)]]), /no format chunk/],
    ['A-law', riff([['fmt ', fmtChunk(6, 1, 8000, 8)], ['data', new Uint8Array(4)]]), /unsupported WAV encoding: format code 6/],
    ['12-bit PCM', riff([['fmt ', fmtChunk(1, 1, 8000, 12)], ['data', new Uint8Array(4)]]), /unsupported WAV encoding/],
    ['NaN float samples', riff([['fmt ', fmtChunk(3, 1, 8000, 32)], ['data', new Uint8Array(new Float32Array([0.1, NaN]).buffer)]]), /sample 1 of channel 0 is NaN/],
    ['infinite float samples', riff([['fmt ', fmtChunk(3, 1, 8000, 32)], ['data', new Uint8Array(new Float32Array([Infinity]).buffer)]]), /Infinity/],
    ['a partial last frame', riff([['fmt ', fmtChunk(1, 2, 8000, 16)], ['data', new Uint8Array(6)]]), /not a whole number of 4-byte frames/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what} with a WavError`, () => {
      expect(() => decodeWav(bytes)).toThrow(WavError);
      expect(() => decodeWav(bytes)).toThrow(message);
    });
  }

  it('fuzz: random and mutated bytes give sane audio or a WavError, never another error', () => {
    const rng = new Generator(2024);
    const seeds = [good, encodeWav([ramp, ramp], 44100, '24'), encodeWav([ramp], 22050, '32f'), riff([['LIST', new Uint8Array(5)], ['fmt ', fmtChunk(1, 1, 8000, 8)], ['data', new Uint8Array(9)]])];
    let decoded = 0;
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      let bytes: Uint8Array;
      const kind = trial % 4;
      if (kind === 0) {
        bytes = Uint8Array.from({ length: rng.int(200) }, () => rng.int(256));
        if (rng.uniform() < 0.5 && bytes.length >= 12) bytes.set(new TextEncoder().encode('RIFF'), 0), bytes.set(new TextEncoder().encode('WAVE'), 8);
      } else {
        bytes = seeds[rng.int(seeds.length)]!.slice();
        const flips = 1 + rng.int(6);
        for (let f = 0; f < flips; f++) {
          const at = rng.int(Math.min(bytes.length, kind === 1 ? 48 : bytes.length));
          bytes[at] = rng.int(256);
        }
        if (kind === 3) bytes = bytes.slice(0, rng.int(bytes.length + 1));
      }
      try {
        const { sampleRate, channels } = decodeWav(bytes);
        expect(sampleRate).toBeGreaterThan(0);
        expect(channels.length).toBeGreaterThan(0);
        for (const ch of channels) {
          expect(ch.length).toBe(channels[0]!.length);
          expect(ch.length).toBeGreaterThan(0);
          for (const v of ch) expect(Number.isFinite(v) && Math.abs(v) <= 1e300).toBe(true);
        }
        decoded++;
      } catch (e) {
        if (!(e instanceof WavError)) throw e;
        rejected++;
      }
    }
    // both outcomes must actually occur, or the fuzzer is not exercising anything
    expect(decoded).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('toMono and load', () => {
  it('averages channels as librosa.to_mono', () => {
    expect(Array.from(toMono([Float32Array.from([1, 0.5]), Float32Array.from([0, -0.5])]))).toEqual([0.5, 0]);
  });
  it('load keeps the rate when asked, and resamples to 22050 Hz by default', () => {
    const wav = encodeWav([Float32Array.from({ length: 4800 }, (_, i) => Math.sin(i / 10) * 0.5)], 48000, '16');
    expect(load(wav, { sampleRate: null }).length).toBe(4800);
    expect(load(wav).length).toBe(Math.ceil((4800 * 22050) / 48000));
  });
});

describe('the official RAVDESS WAV layout', () => {
  it('reads the bundled 48 kHz originals with their FLLR, LIST, bext and _PMX chunks', () => {
    const cases: [string, number][] = [['03-01-05-02-01-01-01', 393994 / 2], ['03-01-04-02-01-01-02', 358760 / 2]];
    for (const [name, frames] of cases) {
      const bytes = readFileSync(new URL(`../../examples/audio/${name}.wav`, import.meta.url));
      const { sampleRate, channels } = decodeWav(bytes);
      expect(sampleRate).toBe(48000);
      expect(channels.length).toBe(1);
      expect(channels[0]!.length).toBe(frames);
      expect(channels[0]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0.05); // a voice, not the chunk bytes
    }
  });
});
