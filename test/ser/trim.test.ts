/** Cutting clips to their speech (`trim`): the features, the weights file's flag, and prediction with it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audio, manualSeed, ser } from '../../src/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const { EmotionCNN, EmotionRecognizer, EmotionEnsemble, clipFeatures, clipMfcc, speechMfcc, clipWindows, encodeWeights, SAMPLE_RATE, HOP, TRIM_MARGIN_FRAMES } = ser;
const stage = audio.load(readFileSync(fixturePath('audio/stage.wav')), { sampleRate: SAMPLE_RATE });
/** `y` with `before` and `after` hops of digital silence around it (whole hops, so the MFCC frames line up). */
const padded = (y: Float32Array, before: number, after: number) => {
  const out = new Float32Array(y.length + (before + after) * HOP);
  out.set(y, before * HOP);
  return out;
};
const recognizer = (trim: boolean, seed = 0) => {
  manualSeed(seed);
  return EmotionRecognizer.fromBytes(encodeWeights(new EmotionCNN(), { normalizer: null, trim, speakerNorm: false, speakerPrior: null }));
};

describe('speechMfcc and clipFeatures({ trim })', () => {
  it('keep the whole MFCC\'s frames from the first to the last speech frame, a margin either side', () => {
    const y = padded(stage, 90, 60);
    const whole = clipMfcc(y);
    const vad = audio.voiceActivity(y, { sampleRate: SAMPLE_RATE });
    const span = audio.speechSpan(vad, TRIM_MARGIN_FRAMES)!;
    expect(span.start).toBe(Math.max(0, vad.frames.indexOf(1) - TRIM_MARGIN_FRAMES));
    expect(span.end).toBe(vad.frames.lastIndexOf(1) + 1 + TRIM_MARGIN_FRAMES);
    // the 90 hops of digital silence hold no speech, so the cut starts after them
    expect(span.start).toBeGreaterThanOrEqual(90 - TRIM_MARGIN_FRAMES);
    const m = speechMfcc(y);
    expect(m.start).toBe(span.start);
    expect(m.frames).toBe(span.end - span.start);
    expect(m.frames).toBeLessThan(whole.frames - 150);
    for (let r = 0; r < 40; r++) {
      expect(m.data.subarray(r * m.frames, (r + 1) * m.frames)).toEqual(whole.data.subarray(r * whole.frames + m.start, r * whole.frames + m.start + m.frames));
    }
    const f = clipFeatures(y, { trim: true });
    expect(f).toEqual(audio.frameWindow(m, 40, 0, 174));
    expect(f).not.toEqual(clipFeatures(y));
  });

  it('give the same image whatever silence the recording had around the speech', () => {
    // (with at least the margin of silence either side: the margin keeps what is there)
    const a = clipFeatures(padded(stage, TRIM_MARGIN_FRAMES, TRIM_MARGIN_FRAMES), { trim: true });
    for (const [before, after] of [[43, 10], [120, 30], [8, 200]] as const) {
      expect(clipFeatures(padded(stage, before, after), { trim: true }), `${before} + ${after} hops`).toEqual(a);
    }
  });

  it('keep a clip without speech whole', () => {
    const hum = Float32Array.from({ length: 2 * SAMPLE_RATE }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 120 * i) / SAMPLE_RATE));
    expect(audio.speechSpan(audio.voiceActivity(hum, { sampleRate: SAMPLE_RATE }))).toBeNull();
    const m = speechMfcc(hum);
    expect(m.start).toBe(0);
    expect(m.frames).toBe(clipMfcc(hum).frames);
    expect(clipFeatures(hum, { trim: true })).toEqual(clipFeatures(hum));
  });
});

describe('weights trained on trimmed clips', () => {
  it('say so in their file, and a recognizer loaded from it cuts every clip the same way', () => {
    const plain = recognizer(false);
    const cut = recognizer(true);
    expect(plain.trim).toBe(false);
    expect(cut.trim).toBe(true);
    // the same weights, so the same answer when the clip is already cut to its speech
    const y = padded(stage, 100, 20);
    const cutOnly = padded(stage, TRIM_MARGIN_FRAMES, TRIM_MARGIN_FRAMES);
    expect(cut.predict(y, { sampleRate: SAMPLE_RATE }).probabilities).toEqual(cut.predict(cutOnly, { sampleRate: SAMPLE_RATE }).probabilities);
    expect(plain.predict(y, { sampleRate: SAMPLE_RATE }).probabilities).not.toEqual(plain.predict(cutOnly, { sampleRate: SAMPLE_RATE }).probabilities);
  });

  it('time a long clip\'s windows from the clip\'s start, not from the cut', () => {
    const speech = new Float32Array(stage.length * 3);
    for (let k = 0; k < 3; k++) speech.set(stage, k * stage.length);
    const y = padded(speech, 130, 0); // about 3 s of silence first
    const w = clipWindows(y, { sampleRate: SAMPLE_RATE, trim: true });
    expect(w.trim).toBe(true);
    expect(w.offset).toBeGreaterThanOrEqual(130 - TRIM_MARGIN_FRAMES);
    const p = recognizer(true).predictWindows(w);
    expect(p.windows.length).toBeGreaterThan(1);
    expect(p.windows[0]!.start).toBeCloseTo((w.offset * HOP) / SAMPLE_RATE, 6);
    expect(p.windows[0]!.start).toBeGreaterThan(2.9);
    expect(p.windows.at(-1)!.end).toBeLessThanOrEqual(y.length / SAMPLE_RATE);
  });

  it('refuse windows cut the other way, an ensemble that mixes the two, and an unknown trim in the metadata', () => {
    const y = padded(stage, 40, 0);
    expect(() => recognizer(false).predictWindows(clipWindows(y, { sampleRate: SAMPLE_RATE, trim: true }))).toThrow(/cut from the clip's speech, but the weights were trained on whole clips/);
    expect(() => recognizer(true).predictWindows(clipWindows(y, { sampleRate: SAMPLE_RATE }))).toThrow(/take them with clipWindows\(input, \{ trim: recognizer\.trim \}\)/);
    expect(() => new EmotionEnsemble([recognizer(true), recognizer(false, 1)])).toThrow(/member 2 was trained on whole clips and member 1 on clips cut to their speech/);
    expect(new EmotionEnsemble([recognizer(true), recognizer(true, 1)]).trim).toBe(true);
    const bytes = encodeWeights(new EmotionCNN(), { normalizer: null, trim: true, speakerNorm: false, speakerPrior: null });
    const bad = new Uint8Array(bytes);
    const at = Buffer.from(bad).indexOf('"trim":"speech"');
    expect(at).toBeGreaterThan(0);
    bad.set(new TextEncoder().encode('"trim":"frame!"'), at);
    expect(() => EmotionRecognizer.fromBytes(bad)).toThrow(/weights metadata: trim must be 'speech' or absent, got 'frame!'/);
  });
});
