/** Emotion prediction from audio with a trained EmotionCNN. */
import { ValueError } from '../tensor/errors.js';
import { load } from '../audio/load.js';
import { frameWindow } from '../audio/mfcc.js';
import { resample } from '../audio/resample.js';
import { EMOTIONS, type Emotion } from './labels.js';
import { type EmotionCNN, N_FRAMES, N_MFCC } from './model.js';
import { HOP, SAMPLE_RATE, checkNotSilent, checkSamples, clipMfcc, speechMfcc } from './features.js';
import { hasSpeech, voiceActivity } from '../audio/vad.js';
import { InputNorm } from './normalize.js';
import { CLASSES, CLIP, argmax, clipLogits, softmaxRows } from './scoring.js';
import { decodeWeights } from './weights-file.js';

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
  /** Whether the window holds speech (voiceActivity); a window without any gets no emotion. */
  speech: boolean;
  label: Emotion | null;
  probabilities: Probabilities | null;
}

export interface Prediction {
  /** The emotion, or null when the clip holds no speech (silence, noise, a tone: `speech` false). */
  label: Emotion | null;
  /** Whether any of the clip holds speech, by the voice-activity detector. */
  speech: boolean;
  /** Keyed by emotion, summing to 1 (the mean over the windows with speech); null without speech. */
  probabilities: Probabilities | null;
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

/** Mono samples at the model's rate from WAV bytes, or from samples at `sampleRate`; checked (checkSamples), and for enrolment also not silent. */
function samplesOf(input: Uint8Array | Float32Array, sampleRate: number | undefined, needSound = true): Float32Array {
  let y: Float32Array;
  if (input instanceof Float32Array) {
    if (sampleRate === undefined) throw new ValueError('predict: raw samples need opts.sampleRate');
    y = sampleRate === SAMPLE_RATE ? input : resample(input, sampleRate, SAMPLE_RATE);
  } else if (input instanceof Uint8Array) {
    y = load(input, { sampleRate: SAMPLE_RATE });
  } else {
    throw new ValueError('predict: input must be WAV bytes (Uint8Array) or samples (Float32Array)');
  }
  if (needSound) checkNotSilent(y);
  else checkSamples(y);
  return y;
}

/** [windows × 40 × 174] cut from an MFCC at the given start frames, zero-padded on the right when short. */
function windowsOf(m: { data: Float32Array; frames: number }, starts: readonly number[]): Float32Array {
  const out = new Float32Array(starts.length * CLIP);
  starts.forEach((s, i) => frameWindow(m, N_MFCC, s, N_FRAMES, out, i * CLIP));
  return out;
}

const asRecord = (p: ArrayLike<number>): Probabilities => Object.fromEntries(EMOTIONS.map((e, i) => [e, p[i]!])) as Probabilities;

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
    return EmotionRecognizer.fromBytes(bytes);
  }

  /** From a weights file's bytes: safetensors, or a PyTorch state dict saved with torch.save (.pth), told apart by their first bytes. */
  static fromBytes(bytes: Uint8Array): EmotionRecognizer {
    const { model, info } = decodeWeights(bytes);
    const recognizer = new EmotionRecognizer(model, info.normalizer);
    recognizer.speakerNormalized = info.speakerNorm;
    recognizer.speakerPrior = info.speakerPrior;
    recognizer.trim = info.trim;
    recognizer.training = info.training;
    return recognizer;
  }

  /** How the weights were trained (recipe, protocol, split, seed), when their file says. */
  training: import('./weights-file.js').WeightsInfo['training'];

  /**
   * Weights trained on speaker-normalised features (`--speaker-norm`) expect each speaker's clips
   * standardised with that speaker's statistics, which one clip cannot provide: `predict` needs
   * `opts.speaker`, fitted by `enroll` on a few clips of the same speaker.
   */
  speakerNormalized = false;

  /**
   * Weights trained on clips cut to their speech (`--trim`; metadata `trim: speech`): every clip is
   * cut the same way before its windows are taken (`clipWindows`' trim). Set from the weights file.
   */
  trim = false;

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
      const m = this.trim ? speechMfcc(y) : clipMfcc(y);
      return windowsOf(m, Array.from({ length: Math.ceil(m.frames / N_FRAMES) }, (_, i) => i * N_FRAMES));
    });
    const all = new Float32Array(windows.reduce((s, w) => s + w.length, 0));
    windows.reduce((o, w) => (all.set(w, o), o + w.length), 0);
    const own = InputNorm.fit(all);
    return this.speakerPrior && priorSeconds > 0 ? own.shrinkToward(this.speakerPrior, secondsToFrames(priorSeconds)) : own;
  }

  /** Classifies WAV bytes, or mono float samples at `opts.sampleRate`. */
  predict(input: Uint8Array | Float32Array, opts: PredictOptions = {}): Prediction {
    return this.predictWindows(clipWindows(input, { ...opts, trim: this.trim }), opts);
  }

  /** Classifies a clip already cut into windows (`clipWindows`), e.g. when its MFCC is wanted too. */
  predictWindows(w: ClipWindows, opts: Pick<PredictOptions, 'speaker'> = {}): Prediction {
    checkSpeakerOption(this.speakerNormalized, opts.speaker);
    checkTrim(this.trim, w);
    return summarize(w, w.speech.some(Boolean) ? this.windowProbabilities(w, opts.speaker) : null);
  }

  /**
   * Softmax probabilities [n × 8] of n clips already cut to [40 × 174] MFCC (raw, as
   * `extractFeatures` gives them; standardised per speaker first for speaker-normalised weights),
   * through this model's input normaliser: what `ser evaluate` scores.
   */
  scoreClips(features: Float32Array, batchSize = 64): Float32Array {
    if (!Number.isInteger(features.length / CLIP)) throw new ValueError(`scoreClips: ${features.length} values is not a whole number of 40×174 clips`);
    return Float32Array.from(softmaxRows(clipLogits(this.model, features, batchSize, this.normalizer)));
  }

  /**
   * Softmax probabilities of each of a clip's windows (`clipWindows`), with the speaker's
   * statistics (if any) and this model's input normaliser applied to a copy of them.
   */
  windowProbabilities(w: ClipWindows, speaker?: InputNorm): number[][] {
    const feats = w.feats.slice();
    w.keeps.forEach((keep, i) => {
      speaker?.applyClip(feats, i * CLIP, keep);
      this.normalizer?.applyClip(feats, i * CLIP, keep);
    });
    const p = softmaxRows(clipLogits(this.model, feats, w.starts.length));
    return w.starts.map((_, i) => Array.from(p.subarray(i * CLASSES, (i + 1) * CLASSES)));
  }
}

/**
 * Several trained models scored together (seeds of one recipe, say): every window's probabilities
 * are the mean of the members', and the clip's the mean over its windows, as for one model. The
 * clip's MFCC is computed once. Members must agree on speaker normalisation; speaker-normalised
 * members must share the training speakers' statistics (`speakerPrior`), since one enrolment
 * serves them all. The README measures what averaging seeds gains.
 */
export class EmotionEnsemble {
  constructor(readonly members: readonly EmotionRecognizer[]) {
    if (!members.length) throw new ValueError('EmotionEnsemble: needs at least one member');
    const first = members[0]!;
    members.forEach((m, i) => {
      if (m.speakerNormalized !== first.speakerNormalized) {
        throw new ValueError(`EmotionEnsemble: member ${i + 1} was trained ${m.speakerNormalized ? 'with' : 'without'} speaker normalisation and member 1 ${first.speakerNormalized ? 'with' : 'without'}; members must agree`);
      }
      if (m.trim !== first.trim) {
        throw new ValueError(`EmotionEnsemble: member ${i + 1} was trained on ${m.trim ? 'clips cut to their speech (--trim)' : 'whole clips'} and member 1 on ${first.trim ? 'clips cut to their speech' : 'whole clips'}; members must agree, since they score the same windows`);
      }
      if (!sameStatistics(m.speakerPrior, first.speakerPrior)) {
        throw new ValueError(`EmotionEnsemble: member ${i + 1}'s training speakers' statistics (speakerPrior) differ from member 1's: they were trained on different clips, and one enrolment cannot serve both`);
      }
    });
  }

  get speakerNormalized(): boolean {
    return this.members[0]!.speakerNormalized;
  }

  get speakerPrior(): InputNorm | null {
    return this.members[0]!.speakerPrior;
  }

  get trim(): boolean {
    return this.members[0]!.trim;
  }

  /** As EmotionRecognizer.enroll (the members share the prior it shrinks toward). */
  enroll(clips: readonly (Uint8Array | Float32Array)[], opts: { sampleRate?: number; priorSeconds?: number; names?: readonly string[] } = {}): InputNorm {
    return this.members[0]!.enroll(clips, opts);
  }

  /** The members' mean of EmotionRecognizer.scoreClips. */
  scoreClips(features: Float32Array, batchSize = 64): Float32Array {
    const sum = this.members[0]!.scoreClips(features, batchSize);
    for (const m of this.members.slice(1)) m.scoreClips(features, batchSize).forEach((v, i) => (sum[i] += v));
    return sum.map((v) => v / this.members.length);
  }

  /** Classifies WAV bytes, or mono float samples at `opts.sampleRate`, with the members' mean probabilities. */
  predict(input: Uint8Array | Float32Array, opts: PredictOptions = {}): Prediction {
    return this.predictWindows(clipWindows(input, { ...opts, trim: this.trim }), opts);
  }

  /** As EmotionRecognizer.predictWindows, with the members' mean probabilities. */
  predictWindows(w: ClipWindows, opts: Pick<PredictOptions, 'speaker'> = {}): Prediction {
    checkSpeakerOption(this.speakerNormalized, opts.speaker);
    checkTrim(this.trim, w);
    if (!w.speech.some(Boolean)) return summarize(w, null);
    const each = this.members.map((m) => m.windowProbabilities(w, opts.speaker));
    const mean = w.starts.map((_, i) => EMOTIONS.map((_, c) => each.reduce((s, p) => s + p[i]![c]!, 0) / each.length));
    return summarize(w, mean);
  }
}

/** Whether two normalisations are the same statistics, value for value (both absent counts). */
export const sameStatistics = (a: InputNorm | null, b: InputNorm | null) =>
  a === b || (!!a && !!b && a.mean.every((v, r) => v === b.mean[r]) && a.std.every((v, r) => v === b.std[r]));

/** A trained model or an ensemble of them: what `loadModel` returns and `ser predict` uses. */
export type Recognizer = EmotionRecognizer | EmotionEnsemble;

function checkTrim(trim: boolean, w: ClipWindows): void {
  if (w.trim !== trim) {
    throw new ValueError(`predictWindows: these windows were cut ${w.trim ? 'from the clip\'s speech' : 'from the whole clip'}, but the weights were trained on ${trim ? 'clips cut to their speech' : 'whole clips'}: take them with clipWindows(input, { trim: recognizer.trim })`);
  }
}

function checkSpeakerOption(speakerNormalized: boolean, speaker: InputNorm | undefined): void {
  if (speakerNormalized && !speaker) {
    throw new ValueError('these weights were trained on speaker-normalised features (--speaker-norm): pass the speaker\'s statistics, fitted by enroll() on a few clips of the same speaker (ser predict --enroll FILE...)');
  }
  if (!speakerNormalized && speaker) {
    throw new ValueError('predict: a speaker profile was given, but these weights were not trained with speaker normalisation (--speaker-norm)');
  }
}

/** A clip cut into the model's 174-frame windows of its MFCC (raw, not normalised). */
export interface ClipWindows {
  /** Samples at the model's rate. */
  samples: number;
  /** Cut to the clip's speech first (`trim`); then the windows start `offset` frames into the clip. */
  trim: boolean;
  offset: number;
  /** Window start frames, and how many content frames each holds (the rest is zero padding). */
  starts: number[];
  keeps: number[];
  /** [windows × 40 × 174] */
  feats: Float32Array;
  /** Whether each window holds speech (voiceActivity on the clip). */
  speech: boolean[];
  /** The MFCC [40 × frames], row-major, that the windows are cut from: the whole clip's, or with `trim` its speech's. */
  mfcc: { data: Float32Array; frames: number };
}

export interface WindowOptions extends Pick<PredictOptions, 'sampleRate' | 'hopSeconds'> {
  /** Cut the clip to its speech first (`speechMfcc`), as weights trained with `--trim` need: pass the recognizer's `trim`. Default false. */
  trim?: boolean;
}

/**
 * The windows `predict` scores: one for a clip of up to 174 frames, else every `hopSeconds`, the
 * last ending with the clip; with `trim`, of the clip's speech (the silence before and after it cut).
 */
export function clipWindows(input: Uint8Array | Float32Array, opts: WindowOptions = {}): ClipWindows {
  const y = samplesOf(input, opts.sampleRate, false);
  const hopFrames = Math.round(((opts.hopSeconds ?? 2) * SAMPLE_RATE) / HOP);
  if (!(hopFrames >= 1)) throw new ValueError(`predict: hopSeconds must be at least one frame (${HOP / SAMPLE_RATE} s), got ${opts.hopSeconds}`);
  const vad = voiceActivity(y, { sampleRate: SAMPLE_RATE });
  const trim = !!opts.trim;
  const m = trim ? speechMfcc(y, vad) : { ...clipMfcc(y), start: 0 };
  const starts = [0];
  if (m.frames > N_FRAMES) {
    for (let s = hopFrames; s + N_FRAMES < m.frames; s += hopFrames) starts.push(s);
    starts.push(m.frames - N_FRAMES); // the last window ends with the clip
  }
  return {
    samples: y.length, trim, offset: m.start, starts, keeps: starts.map((s) => Math.min(N_FRAMES, m.frames - s)), feats: windowsOf(m, starts),
    speech: starts.map((s) => hasSpeech(vad, m.start + s, m.start + s + N_FRAMES)),
    mfcc: { data: m.data, frames: m.frames },
  };
}

/**
 * The Prediction from each window's probabilities (null: no window has speech, nothing was scored):
 * the mean over the windows with speech decides the label; windows without speech get none.
 */
function summarize(w: ClipWindows, perWindow: number[][] | null): Prediction {
  const voiced = perWindow ? w.starts.map((_, i) => i).filter((i) => w.speech[i]) : [];
  const mean = voiced.length ? EMOTIONS.map((_, c) => voiced.reduce((s, i) => s + perWindow![i]![c]!, 0) / voiced.length) : null;
  return {
    label: mean ? EMOTIONS[argmax(mean)]! : null,
    speech: voiced.length > 0,
    probabilities: mean ? asRecord(mean) : null,
    seconds: w.samples / SAMPLE_RATE,
    windows: w.starts.length > 1
      ? w.starts.map((s, i) => {
        const p = w.speech[i] && perWindow ? perWindow[i]! : null;
        return {
          start: ((w.offset + s) * HOP) / SAMPLE_RATE,
          end: Math.min(w.samples, (w.offset + s + N_FRAMES - 1) * HOP) / SAMPLE_RATE,
          speech: w.speech[i]!,
          label: p ? EMOTIONS[argmax(p)]! : null,
          probabilities: p ? asRecord(p) : null,
        };
      })
      : [],
  };
}
