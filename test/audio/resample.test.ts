/** Resampling 48 kHz → 22050 Hz against soxr "HQ" (librosa.load) and on its own terms. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audio } from '../../src/index.js';
import { absDiff, audioRefs, fixturePath, snrDb } from '../helpers/fixtures.js';

const refs = audioRefs();

describe('resample', () => {
  it('matches librosa/soxr HQ on a 48 kHz RAVDESS original at ≥ 40 dB SNR, with the same length', () => {
    const y = audio.load(readFileSync(fixturePath('audio/clip48k.wav')));
    const ref = refs['clip48k.resampled']!.toArray();
    expect(y.length).toBe(ref.length);
    expect(snrDb(y, ref)).toBeGreaterThanOrEqual(40);
  });
  it('MFCC end to end from the 48 kHz original: mean |Δ| ≤ 0.3', () => {
    const m = audio.fixFrames(audio.mfcc(audio.load(readFileSync(fixturePath('audio/clip48k.wav')))));
    expect(absDiff(m.toArray(), refs['clip48k.mfcc174']!.toArray()).mean).toBeLessThanOrEqual(0.3);
  });
  it('passes a 1 kHz tone unchanged and removes a tone above the new Nyquist', () => {
    const n = 48000;
    const tone = (f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / 48000));
    const rms = (x: Float32Array) => Math.sqrt(x.subarray(2000, x.length - 2000).reduce((s, v) => s + v * v, 0) / (x.length - 4000));
    const pass = audio.resample(tone(1000), 48000, 22050);
    expect(rms(pass)).toBeCloseTo(Math.SQRT1_2, 3);
    const expected = Float32Array.from({ length: pass.length }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / 22050));
    expect(snrDb(pass.subarray(2000, -2000), expected.subarray(2000, -2000))).toBeGreaterThan(80); // no delay, no distortion
    const stop = audio.resample(tone(14000), 48000, 22050);
    expect(20 * Math.log10(rms(stop) / Math.SQRT1_2)).toBeLessThan(-70);
  });
  it('handles upsampling and unrelated rates', () => {
    const y = Float32Array.from({ length: 8000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 8000));
    const up = audio.resample(y, 8000, 44100);
    expect(up.length).toBe(44100);
    const back = audio.resample(up, 44100, 8000);
    expect(snrDb(back.subarray(500, -500), y.subarray(500, -500))).toBeGreaterThan(60);
    expect(audio.resample(y, 8000, 8000)).toEqual(y);
  });
  it('rejects impossible rates and empty input', () => {
    expect(() => audio.resample(new Float32Array(10), 0, 22050)).toThrow(/fromRate must be a positive integer/);
    expect(() => audio.resample(new Float32Array(10), 44100, 22050.5)).toThrow(/toRate/);
    expect(() => audio.resample(new Float32Array(0), 44100, 22050)).toThrow(audio.AudioError);
  });
});
