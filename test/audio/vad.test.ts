/** The voice-activity detector (src/audio/vad.ts) under what a recording does to a clip's level and offset. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audio, ser } from '../../src/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const { SAMPLE_RATE, HOP } = ser;
const stage = audio.load(readFileSync(fixturePath('audio/stage.wav')), { sampleRate: SAMPLE_RATE });
/** `stage` after `before` hops of near-silence (a −80 dBFS hiss, as a quiet room) and before `after`. */
function recording(before: number, after: number): Float32Array {
  const out = new Float32Array(stage.length + (before + after) * HOP);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = 1e-4 * (s / 2147483648 - 0.5);
  }
  for (let i = 0; i < stage.length; i++) out[before * HOP + i]! += stage[i]!;
  return out;
}
const span = (y: Float32Array) => audio.speechSpan(audio.voiceActivity(y, { sampleRate: SAMPLE_RATE }));

describe('voiceActivity', () => {
  const y = recording(60, 40);
  const clean = span(y)!;

  it('finds the speech where it is, whatever quiet stretch comes first', () => {
    const shorter = span(recording(25, 40))!;
    expect(clean.start).toBeGreaterThan(60); // the fixture has a lead-in of its own
    expect(Math.abs(clean.start - 35 - shorter.start)).toBeLessThanOrEqual(1);
    expect(Math.abs(clean.end - 35 - shorter.end)).toBeLessThanOrEqual(1);
  });

  it('cuts a clip with a DC offset where it cuts the clip without one', () => {
    // an offset is a step at the clip's padded ends: without the mean taken out, those frames were
    // "speech" and the span ran from the first frame to the last
    for (const dc of [0.05, -0.2]) {
      expect(span(y.map((v) => v + dc)), `offset ${dc}`).toEqual(clean);
    }
  });

  it('cuts a recording made 30 dB quieter where it cut it before, not to its loudest syllables', () => {
    const gain = (x: Float32Array, db: number) => x.map((v) => v * 10 ** (db / 20));
    for (const level of [-10, -15, -20]) {
      // (with the absolute floor fixed at −60 dBFS, the −20 dB recording kept 9 frames of its speech)
      const base = span(gain(y, level))!;
      const quiet = span(gain(y, level - 30))!;
      expect(Math.abs(quiet.start - base.start) + Math.abs(quiet.end - base.end), `${level} dB`).toBeLessThanOrEqual(2);
    }
  });

  it('does not start the speech at a lone frame in the lead-in', () => {
    // a burst of a voiced-like tone (harmonics of 200 Hz, at speech level) `frames` hops long, 20 hops in
    const burst = (frames: number) => {
      const out = Float32Array.from(y);
      for (let i = 0; i < frames * HOP; i++) {
        const t = i / SAMPLE_RATE;
        out[20 * HOP + i]! += 0.05 * (Math.sin(2 * Math.PI * 200 * t) + 0.5 * Math.sin(2 * Math.PI * 400 * t) + 0.3 * Math.sin(2 * Math.PI * 600 * t));
      }
      return out;
    };
    expect(span(burst(1))).toEqual(clean);
    // a syllable's length of it is speech
    expect(span(burst(6))!.start).toBeLessThanOrEqual(21);
  });
});
