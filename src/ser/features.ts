/** The model's input: librosa-identical MFCC 40 × 174 of audio at 22050 Hz. */
import { AudioError } from '../audio/errors.js';
import { load } from '../audio/load.js';
import { DEFAULT_HOP, DEFAULT_N_FFT, LIBROSA_SAMPLE_RATE, MAX_FLOAT_SAMPLE } from '../audio/defaults.js';
import { frameWindow, mfccArray } from '../audio/mfcc.js';
import { type VoiceActivity, speechSpan, voiceActivity } from '../audio/vad.js';
import { N_FRAMES, N_MFCC } from './model.js';

/** The model's input rate and hop: librosa's defaults, as the original project used them. */
export const SAMPLE_RATE = LIBROSA_SAMPLE_RATE;
export const HOP = DEFAULT_HOP;
/** Samples whose MFCC has exactly N_FRAMES frames (centred framing gives 1 + n/hop): about 4.02 s. */
export const WINDOW_SAMPLES = (N_FRAMES - 1) * HOP;

/** Everything the features depend on: part of the on-disk cache key. */
export const FEATURE_SETTINGS = {
  version: 1, sampleRate: SAMPLE_RATE, nMfcc: N_MFCC, frames: N_FRAMES, nFft: DEFAULT_N_FFT, hopLength: HOP, nMels: 128,
} as const;

export interface FeatureOptions {
  /**
   * Cut the clip to its speech first (`speechMfcc`): what weights trained with `--trim` expect
   * (their metadata says `trim: speech`; the recognizer applies it). Default false: the clip from
   * its first sample, as the original project framed it.
   */
  trim?: boolean;
}

/**
 * MFCC of a 22050 Hz mono clip, zero-padded on the right or cut to 174 frames: [40 × 174]
 * row-major; with `trim`, of the clip's speech (`speechMfcc`).
 */
export function clipFeatures(y: Float32Array, opts: FeatureOptions = {}): Float32Array {
  return frameWindow(opts.trim ? speechMfcc(y) : clipMfcc(y), N_MFCC, 0, N_FRAMES);
}

/**
 * Frames kept either side of the speech when a clip is trimmed to it: 13 (about 0.3 s). Measured
 * against 4 (0.09 s) on two folds (docs/results.md): the wider margin keeps 2.5 points more clean
 * UAR (some of the floor around the speech is worth seeing) for the same robustness to where the
 * recording starts; wider still would bring back the misplacement for clips cut tightly.
 */
export const TRIM_MARGIN_FRAMES = 13;

/**
 * The MFCC [40 × frames] of a clip's speech: the clip's MFCC cut to its first through last speech
 * frame (voice activity, src/audio/vad.ts) and TRIM_MARGIN_FRAMES either side; `start` is the first
 * frame kept. A clip without speech is kept whole. Why: the model's dense layer sees each time
 * position on its own, so a model trained on clips whose speech starts where RAVDESS's does (after
 * about a second of studio silence) fails on clips cut tighter or looser, as other corpora and
 * live recordings are. Cutting every clip to its speech, in training and at prediction, puts the
 * speech at the start of the window whatever the recording did. The cut is made on the frames of
 * the whole clip's MFCC (the detector's frames are the MFCC's), so the kept frames' values are
 * those of the uncut clip.
 */
export function speechMfcc(y: Float32Array, vad: VoiceActivity = voiceActivity(y, { sampleRate: SAMPLE_RATE })): { data: Float32Array; frames: number; start: number } {
  const m = clipMfcc(y);
  const span = speechSpan(vad, TRIM_MARGIN_FRAMES);
  if (!span || (span.start === 0 && span.end >= m.frames)) return { ...m, start: 0 };
  const frames = Math.min(span.end, m.frames) - span.start;
  const data = new Float32Array(N_MFCC * frames);
  for (let r = 0; r < N_MFCC; r++) data.set(m.data.subarray(r * m.frames + span.start, r * m.frames + span.start + frames), r * frames);
  return { data, frames, start: span.start };
}

/** Throws an AudioError naming the first value of `features` that is not finite (nothing is learnt or answered from NaN). */
export function checkFinite(features: ArrayLike<number>, what = 'features'): void {
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i]!)) throw new AudioError(`${what}: value ${i} is ${features[i]}, not a finite number`);
  }
}

/** The whole MFCC [40 × frames] of a 22050 Hz mono clip, with the model's settings. */
export function clipMfcc(y: Float32Array): { data: Float32Array; frames: number } {
  return mfccArray(y, { sampleRate: SAMPLE_RATE, nMfcc: N_MFCC, hopLength: HOP });
}

/** A WAV file's bytes → its features, as the original project computed them (with `trim`, of its speech). */
export function wavFeatures(bytes: Uint8Array, opts: FeatureOptions = {}): Float32Array {
  const f = clipFeatures(load(bytes, { sampleRate: SAMPLE_RATE }), opts);
  checkFinite(f, 'MFCC');
  return f;
}

/** Peak level below which a clip counts as silent (−80 dBFS): nothing to classify. */
export const SILENCE_PEAK = 1e-4;

/**
 * Throws an AudioError unless `y` (22050 Hz) holds samples worth looking at: finite, within
 * MAX_FLOAT_SAMPLE, at least MIN_SECONDS of them. Returns the peak. (Whether they hold speech is
 * the voice-activity detector's question, not an error.)
 */
export function checkSamples(y: Float32Array, what = 'clip'): number {
  let peak = 0;
  for (let i = 0; i < y.length; i++) {
    const v = Math.abs(y[i]!);
    if (!(v <= MAX_FLOAT_SAMPLE)) throw new AudioError(`${what}: sample ${i} is ${y[i]}, ${Number.isFinite(y[i]!) ? `over ${MAX_FLOAT_SAMPLE} (80 dB above full scale)` : 'not a finite number'}: not audio`);
    if (v > peak) peak = v;
  }
  if (y.length === 0) throw new AudioError(`${what} has no samples`);
  if (y.length < MIN_SECONDS * SAMPLE_RATE) throw new AudioError(`${what} is ${(y.length / SAMPLE_RATE).toFixed(3)} s long: at least ${MIN_SECONDS} s is needed to classify it`);
  return peak;
}

/** The shortest clip worth an answer: a quarter of a second (11 frames), about one syllable. */
export const MIN_SECONDS = 0.25;

/**
 * Throws an AudioError unless `y` (22050 Hz) is something to classify: samples that are finite and
 * within MAX_FLOAT_SAMPLE, at least MIN_SECONDS of them, and not silent.
 */
export function checkNotSilent(y: Float32Array, what = 'clip'): void {
  const peak = checkSamples(y, what);
  if (peak < SILENCE_PEAK) {
    const db = peak > 0 ? (20 * Math.log10(peak)).toFixed(1) : '−∞';
    throw new AudioError(`${what} is silent (peak ${db} dBFS, below −80 dBFS): there is no voice to classify`);
  }
}

/** The clips at `idx` of n [40 × 174] clips, as a new array. */
export function subset(features: Float32Array, idx: readonly number[]): Float32Array {
  const clip = N_MFCC * N_FRAMES;
  const out = new Float32Array(idx.length * clip);
  idx.forEach((j, i) => out.set(features.subarray(j * clip, (j + 1) * clip), i * clip));
  return out;
}
