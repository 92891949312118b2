/**
 * Per-coefficient input normalisation, fitted on training clips only. MFCC rows differ in scale by
 * two orders of magnitude (c0 sits near −300, high coefficients near ±5), which the first conv
 * layer has to undo on its own unless the input is standardised.
 *
 * Only a clip's content frames are normalised; the zero frames that pad a short clip to 174 stay
 * zero, which after normalisation is "the average frame" instead of an outlier.
 */
import { ValueError } from '../tensor/errors.js';
import { Generator } from '../tensor/random.js';
import { N_FRAMES, N_MFCC } from './model.js';

const CLIP = N_MFCC * N_FRAMES;

/** Frames of a [40 × 174] clip before its trailing all-zero (padding) frames. */
export function contentFrames(features: Float32Array, offset = 0): number {
  for (let t = N_FRAMES - 1; t >= 0; t--) {
    for (let r = 0; r < N_MFCC; r++) if (features[offset + r * N_FRAMES + t] !== 0) return t + 1;
  }
  return 0;
}

export class InputNorm {
  /** `frames`: how many frames the statistics were fitted on (0: given, not fitted). */
  constructor(readonly mean: Float32Array, readonly std: Float32Array, readonly frames = 0) {
    if (mean.length !== N_MFCC || std.length !== N_MFCC) throw new ValueError(`InputNorm: mean and std need ${N_MFCC} values, got ${mean.length} and ${std.length}`);
    for (let r = 0; r < N_MFCC; r++) {
      if (!Number.isFinite(mean[r]!) || !(std[r]! > 0) || !Number.isFinite(std[r]!)) throw new ValueError(`InputNorm: coefficient ${r} has mean ${mean[r]} and std ${std[r]}; std must be finite and positive`);
    }
  }

  /** Mean and standard deviation of each coefficient over the content frames of n clips. */
  static fit(features: Float32Array): InputNorm {
    const n = features.length / CLIP;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`InputNorm.fit: ${features.length} values is not a whole number of 40×174 clips`);
    const sum = new Float64Array(N_MFCC);
    const sq = new Float64Array(N_MFCC);
    let frames = 0;
    for (let i = 0; i < n; i++) {
      const o = i * CLIP;
      const len = contentFrames(features, o);
      frames += len;
      for (let r = 0; r < N_MFCC; r++) {
        for (let t = 0; t < len; t++) {
          const v = features[o + r * N_FRAMES + t]!;
          sum[r] += v;
          sq[r] += v * v;
        }
      }
    }
    if (frames < 2) throw new ValueError('InputNorm.fit: the clips hold fewer than two non-silent frames');
    const mean = new Float32Array(N_MFCC);
    const std = new Float32Array(N_MFCC);
    for (let r = 0; r < N_MFCC; r++) {
      mean[r] = sum[r]! / frames;
      std[r] = Math.max(Math.sqrt(Math.max(0, sq[r]! / frames - (sum[r]! / frames) ** 2)), 1e-6);
    }
    return new InputNorm(mean, std, frames);
  }

  /**
   * These statistics pulled toward `prior` as if the prior had been fitted on `priorFrames` frames
   * (the mean and second moment pooled with weights frames : priorFrames). A speaker enrolled from
   * one or two clips has noisy statistics; the training speakers' pooled statistics steady them,
   * and their pull fades as enrolment grows (MAP adaptation of a Gaussian's moments).
   */
  shrinkToward(prior: InputNorm, priorFrames: number): InputNorm {
    if (!(priorFrames >= 0) || !Number.isFinite(priorFrames)) throw new ValueError(`shrinkToward: priorFrames must be finite and non-negative, got ${priorFrames}`);
    const total = this.frames + priorFrames;
    if (total === 0) throw new ValueError('shrinkToward: neither these statistics nor the prior carry any weight');
    const w = this.frames / total;
    const mean = new Float32Array(N_MFCC);
    const std = new Float32Array(N_MFCC);
    for (let r = 0; r < N_MFCC; r++) {
      const m = w * this.mean[r]! + (1 - w) * prior.mean[r]!;
      const second = w * (this.std[r]! ** 2 + this.mean[r]! ** 2) + (1 - w) * (prior.std[r]! ** 2 + prior.mean[r]! ** 2);
      mean[r] = m;
      std[r] = Math.max(Math.sqrt(Math.max(0, second - m * m)), 1e-6);
    }
    return new InputNorm(mean, std, total);
  }

  /** Normalises the first `frames` frames of the clip at `offset`, in place. */
  applyClip(features: Float32Array, offset: number, frames = contentFrames(features, offset)): void {
    for (let r = 0; r < N_MFCC; r++) {
      const m = this.mean[r]!;
      const s = 1 / this.std[r]!;
      const row = offset + r * N_FRAMES;
      for (let t = 0; t < frames; t++) features[row + t] = (features[row + t]! - m) * s;
    }
  }

  /** A normalised copy of n clips. */
  apply(features: Float32Array): Float32Array {
    const out = features.slice();
    for (let o = 0; o < out.length; o += CLIP) this.applyClip(out, o);
    return out;
  }

  /** For a weights file's string metadata, under keys `${prefix}_mean` and `${prefix}_std`. */
  toMetadata(prefix = 'input'): Record<string, string> {
    return { [`${prefix}_mean`]: JSON.stringify(Array.from(this.mean)), [`${prefix}_std`]: JSON.stringify(Array.from(this.std)) };
  }

  /** The statistics stored in a weights file's metadata, or null if it holds none (the original recipe has no input normaliser). */
  static fromMetadata(metadata: Record<string, string>, prefix = 'input'): InputNorm | null {
    if (metadata[`${prefix}_mean`] === undefined && metadata[`${prefix}_std`] === undefined) return null;
    const parse = (key: string): Float32Array => {
      let v: unknown;
      try {
        v = JSON.parse(metadata[key] ?? '');
      } catch {
        throw new ValueError(`weights metadata: ${key} is not JSON`);
      }
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new ValueError(`weights metadata: ${key} must be an array of ${N_MFCC} numbers`);
      return Float32Array.from(v as number[]);
    };
    return new InputNorm(parse(`${prefix}_mean`), parse(`${prefix}_std`));
  }
}

/**
 * Speaker normalisation: one InputNorm per speaker, fitted on that speaker's clips alone (labels
 * unused). Applied to a test speaker, it uses that speaker's unlabelled clips: a speaker-adaptive
 * protocol (it needs several clips of each new speaker), not one that scores a single clip alone.
 */
export function speakerNorms(features: Float32Array, speakers: readonly number[]): Map<number, InputNorm> {
  if (features.length !== speakers.length * CLIP) throw new ValueError(`speakerNorms: ${features.length} values for ${speakers.length} clips`);
  const norms = new Map<number, InputNorm>();
  for (const s of new Set(speakers)) norms.set(s, fitClips(features, clipsOf(speakers, s)));
  return norms;
}

/** Indices of `speaker`'s clips. */
const clipsOf = (speakers: readonly number[], speaker: number) => speakers.flatMap((v, i) => (v === speaker ? [i] : []));

/** InputNorm.fit on the clips at `idx`. */
function fitClips(features: Float32Array, idx: readonly number[]): InputNorm {
  const x = new Float32Array(idx.length * CLIP);
  idx.forEach((j, i) => x.set(features.subarray(j * CLIP, (j + 1) * CLIP), i * CLIP));
  return InputNorm.fit(x);
}

/**
 * Speaker normalisation from enrolment: each speaker's statistics fitted on `clips` of that
 * speaker's clips drawn at random (seeded), as a user would enrol a new speaker with a few
 * unlabelled recordings; all of them when the speaker has no more than `clips`. With `prior`,
 * each is shrunk toward the prior statistics (InputNorm.shrinkToward), as `enroll` does.
 */
export function enrolmentNorms(
  features: Float32Array, speakers: readonly number[], clips: number, seed = 0, prior: { norm: InputNorm; frames: number } | null = null,
): Map<number, InputNorm> {
  if (features.length !== speakers.length * CLIP) throw new ValueError(`enrolmentNorms: ${features.length} values for ${speakers.length} clips`);
  if (!Number.isInteger(clips) || clips < 1) throw new ValueError(`enrolmentNorms: clips must be a positive integer, got ${clips}`);
  const rng = new Generator(seed);
  const norms = new Map<number, InputNorm>();
  for (const s of [...new Set(speakers)].sort((a, b) => a - b)) {
    const own = fitClips(features, rng.shuffle(clipsOf(speakers, s)).slice(0, clips));
    norms.set(s, prior ? own.shrinkToward(prior.norm, prior.frames) : own);
  }
  return norms;
}

/** A copy of n clips, each normalised with its speaker's InputNorm. */
export function applySpeakerNorms(features: Float32Array, speakers: readonly number[], norms: ReadonlyMap<number, InputNorm>): Float32Array {
  if (features.length !== speakers.length * CLIP) throw new ValueError(`applySpeakerNorms: ${features.length} values for ${speakers.length} clips`);
  const out = features.slice();
  speakers.forEach((s, i) => {
    const norm = norms.get(s);
    if (!norm) throw new ValueError(`applySpeakerNorms: no statistics for speaker ${s}`);
    norm.applyClip(out, i * CLIP);
  });
  return out;
}

