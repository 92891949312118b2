/** The MFCC pipeline against librosa 0.10.2, stage by stage (fixtures: scripts/gen_audio_fixtures.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValueError, audio } from '../../src/index.js';
import { absDiff, audioRefs, expectClose, fixturePath } from '../helpers/fixtures.js';

const refs = audioRefs();
const y = audio.load(readFileSync(fixturePath('audio/stage.wav')));

describe('MFCC stages against librosa', () => {
  it('periodic Hann window', () => {
    const w = audio.hannWindow(8);
    expect(Array.from(w).map((v) => +v.toFixed(12))).toEqual([0, 0.146446609407, 0.5, 0.853553390593, 1, 0.853553390593, 0.5, 0.146446609407]);
  });
  it('power spectrogram (float32 rounding)', () => {
    const s = audio.stft(y);
    expect(s.shape).toEqual(refs['stages.power_spectrogram']!.shape);
    expectClose(s, refs['stages.power_spectrogram']!, 1e-6, 'power');
  });
  it('Slaney mel filterbank, bit for bit', () => {
    const fb = audio.melFilterbank({ sampleRate: 22050, nFft: 2048, nMels: 128 });
    expect(fb.weights.length).toBe(128 * 1025);
    expect(absDiff(fb.weights, refs['stages.mel_filterbank']!.toArray()).max).toBe(0);
  });
  it('log-mel (powerToDb with top_db 80 against the clip maximum)', () => {
    const spec = audio.spectrogram(y);
    const mel = audio.applyMel(audio.melFilterbank(), spec.data, spec.frames);
    expect(absDiff(audio.powerToDbArray(mel), refs['stages.log_mel_db']!.toArray()).max).toBeLessThanOrEqual(1e-3);
  });
  it('MFCC within 1e-3 (measured: 6e-5)', () => {
    const m = audio.mfcc(y);
    expect(m.shape).toEqual([40, 190]);
    expect(absDiff(m.toArray(), refs['stages.mfcc']!.toArray()).max).toBeLessThanOrEqual(1e-3);
  });
});

describe('synthetic edge cases against librosa', () => {
  for (const name of ['sine_440hz_1s', 'chirp_50_8000hz_2s', 'silence_1s', 'impulse_0p5s', 'short_1000_samples']) {
    it(`${name}: MFCC and the 174-frame model input`, () => {
      const signal = refs[`synthetic.${name}.signal`]!.toArray();
      const m = audio.mfcc(signal);
      expect(m.shape).toEqual(refs[`synthetic.${name}.mfcc`]!.shape);
      expect(absDiff(m.toArray(), refs[`synthetic.${name}.mfcc`]!.toArray()).max).toBeLessThanOrEqual(1e-3);
      const fixed = audio.fixFrames(m);
      expect(fixed.shape).toEqual([40, 174]);
      expect(absDiff(fixed.toArray(), refs[`synthetic.${name}.mfcc174`]!.toArray()).max).toBeLessThanOrEqual(1e-3);
    });
  }
});

describe('FFT', () => {
  const naive = (x: number[]) => x.map((_, k) => x.reduce((acc, v, j) => {
    const a = (-2 * Math.PI * k * j) / x.length;
    return [acc[0]! + v * Math.cos(a), acc[1]! + v * Math.sin(a)];
  }, [0, 0]));
  for (const n of [1, 2, 8, 12, 15, 100, 1024]) {
    it(`real FFT of size ${n} matches the DFT (${(n & (n - 1)) === 0 ? 'radix-2' : 'Bluestein'})`, () => {
      const x = Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) + (i % 3) * 0.25);
      const f = new audio.RealFft(n);
      const re = new Float64Array(f.bins);
      const im = new Float64Array(f.bins);
      f.transform(x, re, im);
      const ref = naive(x);
      for (let k = 0; k < f.bins; k++) {
        expect(re[k]).toBeCloseTo(ref[k]![0]!, 8);
        expect(im[k]).toBeCloseTo(ref[k]![1]!, 8);
      }
    });
  }
  it('a non-power-of-two nFft works end to end', () => {
    expect(audio.mfcc(y.subarray(0, 5000), { nFft: 1200, hopLength: 300 }).shape).toEqual([40, 17]);
  });
});

describe('options and errors', () => {
  it('HTK mel scale and unnormalised filters are available', () => {
    expect(audio.hzToMel(1000, true)).toBeCloseTo(999.985, 2);
    expect(audio.melToHz(audio.hzToMel(4321, true), true)).toBeCloseTo(4321, 6);
    expect(audio.melToHz(audio.hzToMel(4321))).toBeCloseTo(4321, 6);
    const fb = audio.melFilterbank({ norm: null, nMels: 40 });
    expect(Math.max(...fb.weights)).toBeLessThanOrEqual(1);
    expect(Math.max(...fb.weights)).toBeGreaterThan(0.9);
  });
  it('fixFrames pads with zeros on the right and trims', () => {
    const m = audio.mfcc(y);
    const trimmed = audio.fixFrames(m, 100).toArray();
    expect(trimmed.subarray(0, 100)).toEqual(m.toArray().subarray(0, 100));
    const padded = audio.fixFrames(m, 200).toArray();
    expect(Array.from(padded.subarray(190, 200))).toEqual(new Array(10).fill(0));
  });
  it('empty and non-finite signals are AudioErrors; bad settings are ValueErrors', () => {
    expect(() => audio.mfcc(new Float32Array(0))).toThrow(audio.AudioError);
    expect(() => audio.mfcc(Float32Array.from([0, NaN, 0]))).toThrow(/sample 1 is NaN/);
    expect(() => audio.mfcc(Float32Array.from([0, 0, -Infinity]))).toThrow(/sample 2 is -Infinity/);
    expect(() => audio.mfcc(y, { nMfcc: 200 })).toThrow(ValueError);
    expect(() => audio.melFilterbank({ fMax: 30000 })).toThrow(/fMax/);
  });
});
