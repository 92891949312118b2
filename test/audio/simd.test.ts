/**
 * The WebAssembly SIMD paths of the audio front end (paired real FFT, interpolator) against the
 * JavaScript ones: they perform the same float64 operations in the same order, so every output
 * must be bit-identical, not merely close. Correctness against numpy/librosa is tested elsewhere
 * on whichever path is on by default.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { audio, setSimd, simdAvailable } from '../../src/index.js';
import { RealFft } from '../../src/audio/fft.js';
import { realFftPair } from '../../src/audio/fft-pair.js';
import { lcg } from '../helpers/lcg.js';

/** Runs `f` with SIMD on and off and returns both results. */
function both<T>(f: () => T): [T, T] {
  setSimd(true);
  const on = f();
  setSimd(false);
  const off = f();
  setSimd(true);
  return [on, off];
}

/** Index of the first value that differs (NaN-aware, −0 ≠ 0), or −1: fast where toEqual would diff megabytes. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe.runIf(simdAvailable())('audio SIMD paths against the JavaScript ones', () => {
  afterAll(() => setSimd(true));

  it.each([2, 4, 8, 16, 64, 512, 2048, 4096])('paired real FFT of size %i: forward, power, filter and inverse bit-identical', (n) => {
    const x = lcg(2 * n, n, 1);
    const window = Float64Array.from(lcg(n, n + 1, 1), Math.abs);
    const filtRe = Float64Array.from(lcg(n / 2 + 1, 3, 1));
    const filtIm = Float64Array.from(lcg(n / 2 + 1, 4, 1));
    const [on, off] = both(() => {
      const pair = realFftPair(n);
      pair.setWindow(window);
      pair.setSignal(x, 1, 0, 2 * n + 3);
      pair.forwardAt(1, n + 1);
      const spec = pair.spec.slice();
      const pow = new Float32Array(2 * pair.bins);
      const mag = new Float32Array(2 * pair.bins);
      pair.power(pow, 0, pow, pair.bins, true);
      pair.power(mag, 0, mag, pair.bins, false);
      pair.setFilter(filtRe, filtIm);
      pair.applyFilter();
      const filtered = pair.spec.slice();
      pair.inverse();
      return { spec, pow, mag, filtered, a: pair.frameA.slice(), b: pair.frameB.slice() };
    });
    for (const key of Object.keys(on) as (keyof typeof on)[]) expect(firstDifference(on[key], off[key]), key).toBe(-1);
    // and the pair agrees with RealFft on each frame alone
    const fft = new RealFft(n);
    const re = new Float64Array(fft.bins);
    const im = new Float64Array(fft.bins);
    fft.transform(Float64Array.from(x.subarray(n)), re, im, 0, window);
    for (let k = 0; k < fft.bins; k++) {
      expect(on.spec[4 * k + 1]).toBe(re[k]);
      expect(on.spec[4 * k + 3]).toBe(im[k]);
    }
  });

  it('the inverse undoes the forward transform', () => {
    const n = 256;
    const x = lcg(2 * n, 9, 1);
    const pair = realFftPair(n);
    pair.setSignal(x, 0, 0, 2 * n);
    pair.forwardAt(0, n);
    pair.inverse();
    for (let i = 0; i < n; i++) {
      expect(pair.frameA[i]).toBeCloseTo(x[i]!, 12);
      expect(pair.frameB[i]).toBeCloseTo(x[n + i]!, 12);
    }
  });

  it.each([
    [2048, 512, true, 2],
    [2048, 512, true, 1],
    [512, 128, false, 2],
    [1025, 256, true, 2], // odd size: the scalar pair on both settings
  ] as const)('spectrogram (nFft %i, hop %i, center %s, power %i) bit-identical', (nFft, hopLength, center, power) => {
    const y = lcg(10_001, 5, 0.5); // an odd frame count exercises the unpaired last frame
    const [on, off] = both(() => audio.spectrogram(y, { nFft, hopLength, center, power }).data);
    expect(firstDifference(on, off)).toBe(-1);
  });

  it.each([
    [48000, 22050], // FFT filter + 16-tap interpolator
    [16000, 22050], // direct polyphase, upsampling
    [44100, 22050],
    [22050, 8000],
  ])('resample %i → %i Hz bit-identical', (from, to) => {
    const y = lcg(from / 2 + 37, from, 0.5);
    const [on, off] = both(() => audio.resample(y, from, to));
    expect(on.length).toBe(off.length);
    expect(firstDifference(on, off)).toBe(-1);
  });

  it('resample handles a clip shorter than the filter (edges only) identically', () => {
    const y = lcg(100, 2, 0.5);
    const [on, off] = both(() => audio.resample(y, 48000, 22050));
    expect(firstDifference(on, off)).toBe(-1);
  });

  it('long signals are loaded a stretch at a time: every STFT frame still equals its own RealFft', () => {
    const y = lcg(300_000, 11, 0.5); // ~590 frames: three stretches of the padded signal
    const nFft = 2048;
    const hop = 512;
    const { data, frames, bins } = audio.spectrogramFrames(y, { nFft, hopLength: hop });
    const fft = new RealFft(nFft);
    const window = audio.hannWindow(nFft);
    const padded = new Float64Array(y.length + nFft);
    padded.set(y, nFft / 2);
    const re = new Float64Array(bins);
    const im = new Float64Array(bins);
    for (const t of [0, 1, 250, 251, 252, 253, 503, 504, 505, frames - 2, frames - 1]) {
      fft.transform(padded, re, im, t * hop, window);
      for (const k of [0, 1, 100, 1023, 1024]) {
        const r = Math.fround(re[k]!);
        const q = Math.fround(im[k]!);
        const mag = Math.fround(Math.sqrt(r * r + q * q));
        expect(data[t * bins + k], `frame ${t} bin ${k}`).toBe(Math.fround(mag * mag));
      }
    }
  });

  it('long signals are resampled a stretch at a time without seams', () => {
    const y = lcg(600_000, 12, 0.5); // 48 kHz: three stretches of filter blocks
    const whole = audio.resample(y, 48000, 22050);
    // around each stretch boundary (every 70 blocks of 3660 samples), a short piece resampled on its
    // own gives the same samples wherever its filter does not reach the piece's ends
    for (const boundary of [256_200, 512_400]) {
      const from = Math.floor((boundary - 48000) / 320) * 320;
      const piece = audio.resample(y.subarray(from, boundary + 48000), 48000, 22050);
      const at = (from * 147) / 320; // output index of the piece's first sample (from: a multiple of 320)
      let worst = 0;
      for (let i = 2000; i < piece.length - 2000; i++) worst = Math.max(worst, Math.abs(piece[i]! - whole[at + i]!));
      expect(worst).toBeLessThan(1e-6);
    }
  });

  it('the DCT of more frames than one stretch is bit-identical', () => {
    const x = lcg(5000 * 128, 13, 50);
    const [on, off] = both(() => audio.dctFrames(x, 5000, 128, 40));
    expect(firstDifference(on, off)).toBe(-1);
  });

  it('MFCC end to end bit-identical', () => {
    const y = lcg(22050 * 2 + 123, 7, 0.3);
    const [on, off] = both(() => audio.mfccArray(y).data);
    expect(firstDifference(on, off)).toBe(-1);
  });
});
