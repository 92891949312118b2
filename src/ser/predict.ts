/** Emotion prediction from audio with a trained EmotionCNN. */
import { ValueError } from '../tensor/errors.js';
import { noGrad } from '../tensor/autograd.js';
import { tensor } from '../tensor/tensor.js';
import { load } from '../audio/load.js';
import { resample } from '../audio/resample.js';
import { loadSafetensors } from '../nn/safetensors.js';
import { EMOTIONS, type Emotion } from './labels.js';
import { EmotionCNN, N_FRAMES, N_MFCC } from './model.js';
import { mfccArray } from '../audio/mfcc.js';
import { HOP, SAMPLE_RATE, checkNotSilent } from './features.js';
import { InputNorm } from './normalize.js';

/**
 * How much the training speakers' statistics weigh against an enrolled speaker's, in seconds of
 * speech: about two RAVDESS clips, the best of the weights measured on the EmoBox folds (README).
 */
export const DEFAULT_PRIOR_SECONDS = 8;

/** MFCC frames in `seconds` of audio at the model's rate. */
export const secondsToFrames = (seconds: number) => (seconds * SAMPLE_RATE) / HOP;

export type Probabilities = Record<Emotion, number>;

export interface WindowPrediction {
  /** Window start and end in seconds. */
  start: number;
  end: number;
  label: Emotion;
  probabilities: Probabilities;
}

export interface Prediction {
  label: Emotion;
  /** Keyed by emotion, summing to 1 (the mean over windows for long clips). */
  probabilities: Probabilities;
  /** Clip length in seconds. */
  seconds: number;
  /** Per-window results when the clip was longer than one 4-second window. */
  windows: WindowPrediction[];
}

export interface PredictOptions {
  /** Rate of a Float32Array input (required for raw samples; WAV bytes carry their own). */
  sampleRate?: number;
  /** Hop between 4-second windows on long clips, in seconds (default 2). */
  hopSeconds?: number;
  /**
   * The speaker's statistics from `enroll`, for weights trained with speaker normalisation
   * (`--speaker-norm`); required by them, refused by others.
   */
  speaker?: InputNorm;
}

function softmax(logits: Float32Array, offset: number, k: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < k; i++) max = Math.max(max, logits[offset + i]!);
  const e = Array.from({ length: k }, (_, i) => Math.exp(logits[offset + i]! - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Mono samples at the model's rate from WAV bytes, or from samples at `sampleRate`; never silent. */
function samplesOf(input: Uint8Array | Float32Array, sampleRate: number | undefined): Float32Array {
  let y: Float32Array;
  if (input instanceof Float32Array) {
    if (sampleRate === undefined) throw new ValueError('predict: raw samples need opts.sampleRate');
    y = sampleRate === SAMPLE_RATE ? input : resample(input, sampleRate, SAMPLE_RATE);
  } else if (input instanceof Uint8Array) {
    y = load(input, { sampleRate: SAMPLE_RATE });
  } else {
    throw new ValueError('predict: input must be WAV bytes (Uint8Array) or samples (Float32Array)');
  }
  checkNotSilent(y);
  return y;
}

/** [windows × 40 × 174] cut from an MFCC at the given start frames, zero-padded on the right when short. */
function windowsOf(m: { data: Float32Array; frames: number }, starts: readonly number[]): Float32Array {
  const clip = N_MFCC * N_FRAMES;
  const out = new Float32Array(starts.length * clip);
  starts.forEach((s, i) => {
    const keep = Math.min(N_FRAMES, m.frames - s);
    for (let r = 0; r < N_MFCC; r++) out.set(m.data.subarray(r * m.frames + s, r * m.frames + s + keep), i * clip + r * N_FRAMES);
  });
  return out;
}

/**
 * The delta orders a weights file was trained with: its `deltas` metadata (what `ser train
 * --deltas` writes), else what conv1's input channels say (a PyTorch state dict has no metadata).
 */
function deltasOf(tensors: Record<string, { shape: readonly number[] }>, metadata: Record<string, string>): number {
  const inC = tensors['conv1.weight']?.shape[1];
  if (metadata.deltas === undefined) return inC !== undefined && inC >= 1 && inC <= 3 ? inC - 1 : 0; // else loadStateDict names the misfit
  const d = Number(metadata.deltas);
  if (!(d === 0 || d === 1 || d === 2)) throw new ValueError(`weights metadata: deltas must be 0, 1 or 2, got '${metadata.deltas}'`);
  if (inC !== undefined && inC !== 1 + d) throw new ValueError(`weights metadata says deltas ${d} (conv1 with ${1 + d} input channels), but conv1.weight has ${inC}`);
  return d;
}

const asRecord = (p: number[]): Probabilities => Object.fromEntries(EMOTIONS.map((e, i) => [e, p[i]!])) as Probabilities;
const argmax = (p: number[]) => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);

/**
 * A trained model ready to classify clips. The MFCC of the whole clip is computed once, as the
 * original project did; a clip of up to 174 frames (~4 s) is scored on it zero-padded, exactly as
 * the original scored it. A longer clip is scored on 174-frame windows of that MFCC every
 * `hopSeconds` (the first window being exactly the original's input, the last ending with the
 * clip), and the window probabilities are averaged; the windows are reported too.
 */
export class EmotionRecognizer {
  /** `normalizer`: the input normalisation the model was trained with (none for the original recipe). */
  constructor(readonly model: EmotionCNN, readonly normalizer: InputNorm | null = null) {
    model.eval();
  }

  /**
   * From safetensors bytes holding an EmotionCNN state dict (as `ser train` writes it, or PyTorch's
   * `save_file(model.state_dict())`); an input normaliser stored in the metadata is applied too.
   */
  static fromSafetensors(bytes: Uint8Array): EmotionRecognizer {
    const { tensors, metadata } = loadSafetensors(bytes);
    const model = new EmotionCNN({ deltas: deltasOf(tensors, metadata) });
    model.loadStateDict(tensors);
    const recognizer = new EmotionRecognizer(model, InputNorm.fromMetadata(metadata));
    recognizer.speakerNormalized = metadata.speaker_norm === 'true';
    recognizer.speakerPrior = InputNorm.fromMetadata(metadata, 'speaker_prior');
    return recognizer;
  }

  /**
   * Weights trained on speaker-normalised features (`--speaker-norm`) expect each speaker's clips
   * standardised with that speaker's statistics, which one clip cannot provide: `predict` needs
   * `opts.speaker`, fitted by `enroll` on a few clips of the same speaker.
   */
  speakerNormalized = false;

  /**
   * The training speakers' pooled statistics (raw MFCC), which `enroll` shrinks a new speaker's
   * toward; stored by `ser train --speaker-norm`, null in weights without it.
   */
  speakerPrior: InputNorm | null = null;

  /**
   * A speaker's statistics (per-coefficient MFCC mean and deviation) from unlabelled clips of that
   * speaker, any emotion, for `predict`'s `speaker` option. With few clips the statistics are
   * noisy, so they are shrunk toward the training speakers' (`speakerPrior`) as if those were
   * `priorSeconds` of speech (default DEFAULT_PRIOR_SECONDS, 8 s; 0: no shrinking). The README
   * ("Speaker normalisation from enrolment clips") measures UAR against the number of clips.
   */
  enroll(clips: readonly (Uint8Array | Float32Array)[], opts: { sampleRate?: number; priorSeconds?: number; names?: readonly string[] } = {}): InputNorm {
    if (!clips.length) throw new ValueError('enroll: needs at least one clip of the speaker');
    const priorSeconds = opts.priorSeconds ?? DEFAULT_PRIOR_SECONDS;
    if (!(priorSeconds >= 0) || !Number.isFinite(priorSeconds)) throw new ValueError(`enroll: priorSeconds must be a finite number of seconds, 0 or more, got ${opts.priorSeconds}`);
    const windows = clips.map((c, i) => {
      let y: Float32Array;
      try {
        y = samplesOf(c, opts.sampleRate);
      } catch (e) {
        // `names` (file names, say) tell the clips apart in the message; else their position
        (e as Error).message = `enrolment clip ${opts.names?.[i] ?? i + 1}: ${(e as Error).message}`;
        throw e;
      }
      const m = mfccArray(y, { sampleRate: SAMPLE_RATE, nMfcc: N_MFCC, hopLength: HOP });
      return windowsOf(m, Array.from({ length: Math.ceil(m.frames / N_FRAMES) }, (_, i) => i * N_FRAMES));
    });
    const all = new Float32Array(windows.reduce((s, w) => s + w.length, 0));
    windows.reduce((o, w) => (all.set(w, o), o + w.length), 0);
    const own = InputNorm.fit(all);
    return this.speakerPrior && priorSeconds > 0 ? own.shrinkToward(this.speakerPrior, secondsToFrames(priorSeconds)) : own;
  }

  /** Classifies WAV bytes, or mono float samples at `opts.sampleRate`. */
  predict(input: Uint8Array | Float32Array, opts: PredictOptions = {}): Prediction {
    if (this.speakerNormalized && !opts.speaker) {
      throw new ValueError('these weights were trained on speaker-normalised features (--speaker-norm): pass the speaker\'s statistics, fitted by enroll() on a few clips of the same speaker (ser predict --enroll FILE...)');
    }
    if (!this.speakerNormalized && opts.speaker) {
      throw new ValueError('predict: a speaker profile was given, but these weights were not trained with speaker normalisation (--speaker-norm)');
    }
    const y = samplesOf(input, opts.sampleRate);
    const hopFrames = Math.round(((opts.hopSeconds ?? 2) * SAMPLE_RATE) / HOP);
    if (!(hopFrames >= 1)) throw new ValueError(`predict: hopSeconds must be at least one frame (${HOP / SAMPLE_RATE} s), got ${opts.hopSeconds}`);
    const m = mfccArray(y, { sampleRate: SAMPLE_RATE, nMfcc: N_MFCC, hopLength: HOP });
    const starts = [0];
    if (m.frames > N_FRAMES) {
      for (let s = hopFrames; s + N_FRAMES < m.frames; s += hopFrames) starts.push(s);
      starts.push(m.frames - N_FRAMES); // the last window ends with the clip
    }
    const clip = N_MFCC * N_FRAMES;
    const feats = windowsOf(m, starts);
    starts.forEach((s, i) => {
      const keep = Math.min(N_FRAMES, m.frames - s);
      opts.speaker?.applyClip(feats, i * clip, keep);
      this.normalizer?.applyClip(feats, i * clip, keep);
    });
    const logits = noGrad(() => this.model.forward(tensor(feats, [starts.length, 1, N_MFCC, N_FRAMES]))).toArray();
    const k = EMOTIONS.length;
    const perWindow = starts.map((_, i) => softmax(logits, i * k, k));
    const mean = EMOTIONS.map((_, c) => perWindow.reduce((s, p) => s + p[c]!, 0) / perWindow.length);
    return {
      label: EMOTIONS[argmax(mean)]!,
      probabilities: asRecord(mean),
      seconds: y.length / SAMPLE_RATE,
      windows: starts.length > 1
        ? starts.map((s, i) => ({
          start: (s * HOP) / SAMPLE_RATE,
          end: Math.min(y.length, (s + N_FRAMES - 1) * HOP) / SAMPLE_RATE,
          label: EMOTIONS[argmax(perWindow[i]!)]!,
          probabilities: asRecord(perWindow[i]!),
        }))
        : [],
    };
  }
}
