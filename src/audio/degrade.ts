/**
 * What recording chains do to a clip, as plain signal processing on mono float samples: narrower
 * bands (a 16 or 8 kHz source, a telephone line, a lossy codec's low-pass), rooms (reverberation
 * from a synthetic impulse response), noise at a set SNR (white, pink, or babble made of other
 * voices), level (gain with clipping at full scale and 16-bit quantisation), a DC offset and a
 * microphone's tilted response. The robustness benchmark applies them to test clips and training
 * may apply them to training clips (src/ser/conditions.ts names them). Every function returns a new
 * array of the input's length; randomness comes from the caller's seeded generator.
 */
import { ValueError } from '../tensor/errors.js';
import type { Generator } from '../tensor/random.js';
import { Radix2 } from './fft.js';
import { resample } from './resample.js';

/** FFT tables by size: a benchmark convolves thousands of clips of a few lengths. */
const ffts = new Map<number, Radix2>();
function radix2(m: number): Radix2 {
  let f = ffts.get(m);
  if (!f) {
    if (ffts.size >= 8) ffts.clear();
    ffts.set(m, (f = new Radix2(m)));
  }
  return f;
}

/** One second-order section, a0 normalised to 1. */
interface Biquad {
  b0: number; b1: number; b2: number; a1: number; a2: number;
}

/** Runs `y` through biquad sections in turn (transposed direct form II, in double precision). */
function filter(y: Float32Array, sections: readonly Biquad[]): Float32Array {
  const out = Float32Array.from(y);
  for (const { b0, b1, b2, a1, a2 } of sections) {
    let z1 = 0;
    let z2 = 0;
    for (let i = 0; i < out.length; i++) {
      const x = out[i]!;
      const v = b0 * x + z1;
      z1 = b1 * x - a1 * v + z2;
      z2 = b2 * x - a2 * v;
      out[i] = v;
    }
  }
  return out;
}

function checkCutoff(hz: number, sampleRate: number, what: string): void {
  if (!(hz > 0 && hz < sampleRate / 2)) throw new ValueError(`${what}: cutoff must be between 0 and ${sampleRate / 2} Hz (half the sample rate), got ${hz}`);
}

/**
 * A Butterworth filter of even `order` as order/2 biquads (Audio EQ Cookbook low/high-pass, each
 * with the Q of one Butterworth pole pair: 1 / (2 cos((2k+1)π / 2n))).
 */
function butterworth(type: 'low' | 'high', hz: number, sampleRate: number, order: number): Biquad[] {
  checkCutoff(hz, sampleRate, `${type}-pass`);
  if (!Number.isInteger(order) || order < 2 || order % 2) throw new ValueError(`${type}-pass: order must be an even integer ≥ 2, got ${order}`);
  const w = (2 * Math.PI * hz) / sampleRate;
  const cos = Math.cos(w);
  return Array.from({ length: order / 2 }, (_, k) => {
    const q = 1 / (2 * Math.cos(((2 * k + 1) * Math.PI) / (2 * order)));
    const alpha = Math.sin(w) / (2 * q);
    const a0 = 1 + alpha;
    const b = type === 'low' ? [(1 - cos) / 2, 1 - cos, (1 - cos) / 2] : [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
    return { b0: b[0]! / a0, b1: b[1]! / a0, b2: b[2]! / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
  });
}

export const lowPass = (y: Float32Array, sampleRate: number, hz: number, order = 8) => filter(y, butterworth('low', hz, sampleRate, order));
export const highPass = (y: Float32Array, sampleRate: number, hz: number, order = 4) => filter(y, butterworth('high', hz, sampleRate, order));

/** As if recorded at `rate` and resampled back: everything above rate/2 gone, as our resampler removes it. */
export function bandLimit(y: Float32Array, sampleRate: number, rate: number): Float32Array {
  if (!(rate > 0 && rate < sampleRate)) throw new ValueError(`bandLimit: rate must be below the clip's ${sampleRate} Hz, got ${rate}`);
  const back = resample(resample(y, sampleRate, rate), rate, sampleRate);
  const out = new Float32Array(y.length);
  out.set(back.subarray(0, y.length));
  return out;
}

/** G.711 µ-law with 8 bits: the quantisation of a digital telephone line (µ = 255). */
export function muLaw8(y: Float32Array): Float32Array {
  const mu = 255;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const x = Math.max(-1, Math.min(1, y[i]!));
    const c = (Math.sign(x) * Math.log1p(mu * Math.abs(x))) / Math.log1p(mu);
    const q = Math.round(c * 127) / 127;
    out[i] = (Math.sign(q) * ((1 + mu) ** Math.abs(q) - 1)) / mu;
  }
  return out;
}

/** A telephone line: an 8 kHz source, the 300–3400 Hz voice band, µ-law quantisation. */
export function telephone(y: Float32Array, sampleRate: number): Float32Array {
  const narrow = bandLimit(y, sampleRate, 8000);
  return muLaw8(lowPass(highPass(narrow, sampleRate, 300, 4), sampleRate, 3400, 8));
}

/**
 * A synthetic room impulse response: the direct sound, then from 2.5 ms on a diffuse tail of
 * Gaussian noise decaying by 60 dB in `rt60` seconds (Polack's model). The tail carries rt60 / 0.3
 * times the direct sound's energy (a direct-to-reverberant ratio of 0 dB at 0.3 s, −4.3 dB at 0.8 s),
 * as a talker a couple of metres from the microphone has in rooms of growing reverberation.
 */
export function roomImpulse(sampleRate: number, rt60: number, rng: Generator): Float32Array {
  if (!(rt60 > 0 && rt60 <= 3)) throw new ValueError(`reverb: rt60 must be in (0, 3] seconds, got ${rt60}`);
  const n = Math.ceil(rt60 * sampleRate);
  const start = Math.round(0.0025 * sampleRate);
  const h = new Float32Array(n);
  h[0] = 1;
  let energy = 0;
  const decay = (3 * Math.LN10) / (rt60 * sampleRate); // amplitude e^{-decay·t}: −60 dB at rt60
  for (let t = start; t < n; t++) {
    h[t] = rng.normal() * Math.exp(-decay * t);
    energy += h[t]! * h[t]!;
  }
  const g = Math.sqrt(rt60 / 0.3 / energy);
  for (let t = start; t < n; t++) h[t]! *= g;
  return h;
}

/** `y` convolved with `h` (by FFT), cut to `y`'s length. */
export function convolve(y: Float32Array, h: Float32Array): Float32Array {
  let m = 1;
  while (m < y.length + h.length - 1) m <<= 1;
  const fft = radix2(m);
  // both real signals in one complex transform: z = y + i·h, then Y and H from z's symmetric parts
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  re.set(y);
  im.set(h);
  fft.transform(re, im);
  const pr = new Float64Array(m);
  const pi = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const j = (m - k) % m;
    const yr = (re[k]! + re[j]!) / 2;
    const yi = (im[k]! - im[j]!) / 2;
    const hr = (im[k]! + im[j]!) / 2;
    const hi = (re[j]! - re[k]!) / 2;
    // the product, conjugated so that a forward transform inverts it
    pr[k] = yr * hr - yi * hi;
    pi[k] = -(yr * hi + yi * hr);
  }
  fft.transform(pr, pi);
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = pr[i]! / m;
  return out;
}

/** Reverberation in a room with this RT60, the output scaled back to the input's power. */
export function reverb(y: Float32Array, sampleRate: number, rt60: number, rng: Generator): Float32Array {
  const wet = convolve(y, roomImpulse(sampleRate, rt60, rng));
  const g = Math.sqrt(power(y) / Math.max(power(wet), 1e-20));
  return wet.map((v) => v * g);
}

const power = (y: Float32Array) => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * y[i]!;
  return s / Math.max(1, y.length);
};

/**
 * The clip's active speech level: the mean power of its 512-sample frames within 40 dB of the
 * loudest (so the silence around an utterance does not lower it; ITU-T P.56 in spirit). An SNR
 * is set against this level.
 */
export function activePower(y: Float32Array): number {
  const frame = 512;
  const powers: number[] = [];
  for (let o = 0; o + frame <= y.length; o += frame) powers.push(power(y.subarray(o, o + frame)));
  if (!powers.length) return power(y);
  const loud = Math.max(...powers) * 1e-4;
  const active = powers.filter((p) => p >= loud);
  return active.reduce((s, p) => s + p, 0) / active.length;
}

export function whiteNoise(n: number, rng: Generator): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Pink (1/f power) noise: white noise shaped in the frequency domain by 1/√f, above 20 Hz. */
export function pinkNoise(n: number, sampleRate: number, rng: Generator): Float32Array {
  let m = 1;
  while (m < n) m <<= 1;
  const fft = radix2(m);
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  for (let i = 0; i < m; i++) re[i] = rng.normal();
  fft.transform(re, im);
  for (let k = 0; k < m; k++) {
    const f = (Math.min(k, m - k) * sampleRate) / m;
    const g = 1 / Math.sqrt(Math.max(f, 20));
    re[k]! *= g;
    im[k] = -im[k]! * g; // conjugate: the forward transform below inverts
  }
  fft.transform(re, im);
  return Float32Array.from(re.subarray(0, n));
}

/**
 * Babble: `voices` clips of other talkers, each at the same active level, each looped from a
 * random point to `n` samples, summed. What a café or an open office sounds like under speech.
 */
export function babble(voices: readonly Float32Array[], n: number, rng: Generator): Float32Array {
  if (!voices.length) throw new ValueError('babble: needs at least one voice');
  const out = new Float32Array(n);
  for (const v of voices) {
    if (!v.length) continue;
    const g = 1 / Math.sqrt(Math.max(activePower(v), 1e-20));
    const start = rng.int(v.length);
    for (let i = 0; i < n; i++) out[i]! += g * v[(start + i) % v.length]!;
  }
  return out;
}

/** `y` plus `noise` (looped or cut to y's length) scaled to `snrDb` below y's active speech level. */
export function addNoise(y: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  if (!Number.isFinite(snrDb)) throw new ValueError(`addNoise: snrDb must be finite, got ${snrDb}`);
  if (!noise.length) throw new ValueError('addNoise: the noise is empty');
  const target = activePower(y) / 10 ** (snrDb / 10);
  const g = Math.sqrt(target / Math.max(power(noise), 1e-30));
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i]! + g * noise[i % noise.length]!;
  return out;
}

/** Gain in dB, then what a 16-bit recorder does: clip at full scale and round to 1/32768. */
export function gain16(y: Float32Array, db: number): Float32Array {
  if (!Number.isFinite(db)) throw new ValueError(`gain: db must be finite, got ${db}`);
  const g = 10 ** (db / 20);
  return y.map((v) => Math.round(Math.max(-1, Math.min(1, v * g)) * 32767) / 32767);
}

export const dcOffset = (y: Float32Array, offset: number) => y.map((v) => v + offset);

/**
 * A microphone's tilted response: `db` more at high frequencies than at low ones (negative: duller),
 * half as a low shelf and half as a high shelf around 1 kHz (Audio EQ Cookbook shelves, slope 1).
 */
export function tilt(y: Float32Array, sampleRate: number, db: number): Float32Array {
  if (!Number.isFinite(db)) throw new ValueError(`tilt: db must be finite, got ${db}`);
  return filter(y, [shelf('low', -db / 2, 1000, sampleRate), shelf('high', db / 2, 1000, sampleRate)]);
}

function shelf(type: 'low' | 'high', db: number, hz: number, sampleRate: number): Biquad {
  checkCutoff(hz, sampleRate, 'shelf');
  const A = 10 ** (db / 40);
  const w = (2 * Math.PI * hz) / sampleRate;
  const cos = Math.cos(w);
  const alpha = (Math.sin(w) / 2) * Math.SQRT2; // slope S = 1
  const s = 2 * Math.sqrt(A) * alpha;
  const sign = type === 'low' ? 1 : -1;
  const b0 = A * (A + 1 - sign * (A - 1) * cos + s);
  const b1 = 2 * sign * A * (A - 1 - sign * (A + 1) * cos);
  const b2 = A * (A + 1 - sign * (A - 1) * cos - s);
  const a0 = A + 1 + sign * (A - 1) * cos + s;
  const a1 = -2 * sign * (A - 1 + sign * (A + 1) * cos);
  const a2 = A + 1 + sign * (A - 1) * cos - s;
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}
