/**
 * Band-limited resampling by a polyphase windowed-sinc filter. For a rational ratio L/M (in lowest
 * terms) every output sample falls on one of L fractional positions between input samples, so L
 * filters are designed once and each output sample is one dot product. The low-pass is a
 * Kaiser-windowed sinc with its cutoff just below the lower Nyquist frequency, linear phase and
 * centred, so output sample m sits exactly at input time m·M/L, as soxr's does; the output has
 * ceil(n·L/M) samples, as librosa.resample's.
 */
import { ValueError } from '../tensor/errors.js';
import { AudioError } from './errors.js';

export interface ResampleOptions {
  /** Zero crossings of the sinc on each side, at the lower rate: longer is sharper and slower. */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency. */
  rolloff?: number;
  /** Kaiser window β: higher gives more stopband attenuation and a wider transition. */
  beta?: number;
}

/**
 * Defaults matched to soxr "HQ" (librosa.load's resampler), whose measured response is flat to
 * 0.925 of the lower Nyquist, −3.5 dB at 0.952 and −90 dB at 0.998: a cutoff at 0.957 with 48 zero
 * crossings. On the reference clips this is 44–58 dB SNR against soxr's output (test/audio).
 */
export const RESAMPLE_DEFAULTS: Required<ResampleOptions> = { zeroCrossings: 48, rolloff: 0.957, beta: 8 };

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Plan {
  up: number;
  down: number;
  /** Taps per phase. */
  taps: number;
  /** Input index of tap 0, relative to floor(t). */
  first: number;
  /** [up × taps] filter coefficients, phase-major. */
  table: Float64Array;
}

const plans = new Map<string, Plan>();

function plan(from: number, to: number, o: Required<ResampleOptions>): Plan {
  const key = `${from}:${to}:${o.zeroCrossings}:${o.rolloff}:${o.beta}`;
  const cached = plans.get(key);
  if (cached) return cached;
  const g = gcd(from, to);
  const up = to / g;
  const down = from / g;
  // cutoff in cycles per input sample, and the kernel's half-width in input samples
  const fc = (o.rolloff * Math.min(1, to / from)) / 2;
  const half = o.zeroCrossings / (2 * fc);
  const first = -Math.ceil(half) + 1;
  const taps = 2 * Math.ceil(half);
  const table = new Float64Array(up * taps);
  const i0b = besselI0(o.beta);
  for (let p = 0; p < up; p++) {
    const frac = p / up; // output time minus floor(output time), in input samples
    for (let j = 0; j < taps; j++) {
      const tau = frac - (first + j); // distance from the input sample to the output time
      const r = tau / half;
      if (Math.abs(r) > 1) continue;
      const x = 2 * fc * tau;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      table[p * taps + j] = 2 * fc * sinc * (besselI0(o.beta * Math.sqrt(1 - r * r)) / i0b);
    }
  }
  const p: Plan = { up, down, taps, first, table };
  plans.set(key, p);
  return p;
}

/** Resamples y from `fromRate` to `toRate` Hz (any positive integer rates). */
export function resample(y: Float32Array, fromRate: number, toRate: number, opts: ResampleOptions = {}): Float32Array {
  for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isInteger(r) || r <= 0) throw new ValueError(`resample: ${name} must be a positive integer number of Hz, got ${r}`);
  }
  if (fromRate === toRate) return y.slice();
  if (y.length === 0) throw new AudioError('resample: the signal has no samples');
  const o = { ...RESAMPLE_DEFAULTS, ...opts };
  if (!(o.zeroCrossings >= 1) || !(o.rolloff > 0 && o.rolloff <= 1) || !(o.beta >= 0)) {
    throw new ValueError(`resample: invalid filter settings ${JSON.stringify(opts)}`);
  }
  const { up, down, taps, first, table } = plan(fromRate, toRate, o);
  const n = y.length;
  const outLen = Math.ceil((n * up) / down);
  const out = new Float32Array(outLen);
  for (let m = 0; m < outLen; m++) {
    const num = m * down; // output time in units of 1/up input samples
    const base = Math.floor(num / up);
    const phase = num - base * up;
    const start = base + first;
    const row = phase * taps;
    let acc = 0;
    if (start >= 0 && start + taps <= n) {
      // four independent sums: one accumulator would wait on each add's latency (1.3 ns per tap)
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let j = 0;
      for (; j + 4 <= taps; j += 4) {
        a0 += table[row + j]! * y[start + j]!;
        a1 += table[row + j + 1]! * y[start + j + 1]!;
        a2 += table[row + j + 2]! * y[start + j + 2]!;
        a3 += table[row + j + 3]! * y[start + j + 3]!;
      }
      for (; j < taps; j++) a0 += table[row + j]! * y[start + j]!;
      acc = a0 + a1 + a2 + a3;
    } else {
      const j0 = Math.max(0, -start);
      const j1 = Math.min(taps, n - start);
      for (let j = j0; j < j1; j++) acc += table[row + j]! * y[start + j]!;
    }
    out[m] = acc;
  }
  return out;
}
