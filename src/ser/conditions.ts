/**
 * Recording conditions as data: what the robustness benchmark scores every test clip under
 * (`BENCHMARK_CONDITIONS`, fixed levels) and what a robust recipe draws for its training copies
 * (`drawConditions`, random levels over wider ranges). The signal processing is src/audio/degrade.ts.
 */
import { ValueError } from '../tensor/errors.js';
import type { Generator } from '../tensor/random.js';
import {
  addNoise, babble, bandLimit, dcOffset, gain16, lowPass, pinkNoise, reverb, telephone, tilt, whiteNoise,
} from '../audio/degrade.js';
import { DEFAULT_HOP } from '../audio/defaults.js';
import { speechSpan, voiceActivity } from '../audio/vad.js';

export type NoiseKind = 'white' | 'pink' | 'babble';

export type Condition =
  | { kind: 'clean' }
  /** Recorded at `rate` Hz and resampled: no content above rate/2. */
  | { kind: 'bandlimit'; rate: number }
  /** An 8 kHz telephone line: 300–3400 Hz, µ-law. */
  | { kind: 'telephone' }
  /** A lossy codec's low-pass at `hz` (8th-order Butterworth). */
  | { kind: 'lowpass'; hz: number }
  /** A room with this reverberation time (seconds), synthetic impulse response. */
  | { kind: 'reverb'; rt60: number }
  /** Noise at `snrDb` below the active speech level; babble is made of other speakers' clips. */
  | { kind: 'noise'; noise: NoiseKind; snrDb: number }
  /** Level change in dB, clipped at full scale and quantised to 16 bits. */
  | { kind: 'gain'; db: number }
  | { kind: 'dc'; offset: number }
  /** `db` more at high than at low frequencies, around 1 kHz. */
  | { kind: 'tilt'; db: number }
  /** `seconds` of digital silence before the clip, as a recording started early (segmentation). */
  | { kind: 'lead'; seconds: number }
  /** Only the clip's speech (voice activity, 0.1 s either side), as a tightly segmented corpus cuts it. */
  | { kind: 'speechOnly' }
  /** The first `seconds` of the clip's speech: a short utterance. */
  | { kind: 'excerpt'; seconds: number };

export interface ConditionContext {
  sampleRate: number;
  rng: Generator;
  /** Clips of other speakers than the clip's (babble needs them). */
  voices?: () => readonly Float32Array[];
}

/** `y` under condition `c`: a new array, of the same length but for the segmentation conditions (lead, speechOnly, excerpt). */
export function applyCondition(y: Float32Array, c: Condition, ctx: ConditionContext): Float32Array {
  const { sampleRate: sr, rng } = ctx;
  switch (c.kind) {
    case 'clean': return Float32Array.from(y);
    case 'bandlimit': return bandLimit(y, sr, c.rate);
    case 'telephone': return telephone(y, sr);
    case 'lowpass': return lowPass(y, sr, c.hz);
    case 'reverb': return reverb(y, sr, c.rt60, rng);
    case 'gain': return gain16(y, c.db);
    case 'dc': return dcOffset(y, c.offset);
    case 'tilt': return tilt(y, sr, c.db);
    case 'lead': {
      const out = new Float32Array(y.length + Math.round(c.seconds * sr));
      out.set(y, out.length - y.length);
      return out;
    }
    case 'speechOnly': case 'excerpt': {
      const span = speechSpan(voiceActivity(y, { sampleRate: sr }));
      if (!span) return Float32Array.from(y);
      const hop = DEFAULT_HOP;
      const start = Math.max(0, span.start * hop - Math.round(0.1 * sr));
      const end = c.kind === 'excerpt' ? Math.min(y.length, start + Math.round(c.seconds * sr)) : Math.min(y.length, span.end * hop + Math.round(0.1 * sr));
      return y.slice(start, end);
    }
    case 'noise': {
      let noise: Float32Array;
      if (c.noise === 'white') noise = whiteNoise(y.length, rng);
      else if (c.noise === 'pink') noise = pinkNoise(y.length, sr, rng);
      else {
        const voices = ctx.voices?.();
        if (!voices?.length) throw new ValueError('babble noise needs clips of other speakers (ConditionContext.voices)');
        noise = babble(voices, y.length, rng);
      }
      return addNoise(y, noise, c.snrDb);
    }
    default: throw new ValueError(`unknown condition '${(c as { kind: string }).kind}'`);
  }
}

/** A condition's name in reports: 'noise-babble-10dB', 'reverb-0.8s', … */
export function conditionName(c: Condition): string {
  switch (c.kind) {
    case 'clean': case 'telephone': return c.kind;
    case 'bandlimit': return `band-${c.rate / 1000}k`;
    case 'lowpass': return `lowpass-${c.hz / 1000}k`;
    case 'reverb': return `reverb-${c.rt60}s`;
    case 'noise': return `${c.noise}-${c.snrDb}dB`;
    case 'gain': return `gain${c.db > 0 ? '+' : ''}${c.db}dB`;
    case 'dc': return `dc-${c.offset}`;
    case 'tilt': return `tilt${c.db > 0 ? '+' : ''}${c.db}dB`;
    case 'lead': return `lead-${c.seconds}s`;
    case 'speechOnly': return 'speech-only';
    case 'excerpt': return `excerpt-${c.seconds}s`;
    default: return 'unknown';
  }
}

/**
 * The benchmark's conditions: a recording from a 16 or 8 kHz source, a telephone line, a codec's
 * 4 kHz low-pass, three rooms, three noises at three SNRs, a quiet and a clipping level, a DC offset
 * and a bright and a dull microphone.
 */
export const BENCHMARK_CONDITIONS: readonly Condition[] = [
  { kind: 'clean' },
  { kind: 'bandlimit', rate: 16000 }, { kind: 'bandlimit', rate: 8000 }, { kind: 'telephone' }, { kind: 'lowpass', hz: 4000 },
  { kind: 'reverb', rt60: 0.3 }, { kind: 'reverb', rt60: 0.5 }, { kind: 'reverb', rt60: 0.8 },
  ...(['white', 'pink', 'babble'] as const).flatMap((noise) => [20, 10, 5].map((snrDb) => ({ kind: 'noise' as const, noise, snrDb }))),
  { kind: 'gain', db: -30 }, { kind: 'gain', db: 10 }, { kind: 'dc', offset: 0.05 },
  { kind: 'tilt', db: 6 }, { kind: 'tilt', db: -6 },
];

/**
 * Where a recording starts and stops around its speech, which corpora and live captures do
 * differently: clean as RAVDESS ships it (about a second of studio silence first), a second more
 * silence before it, only the speech, and its first 1.5 s. Reported apart from the benchmark's
 * mean (`ser robustness --conditions segmentation`): they move the speech within the model's window
 * rather than change how it sounds.
 */
export const SEGMENTATION_CONDITIONS: readonly Condition[] = [
  { kind: 'clean' }, { kind: 'lead', seconds: 1 }, { kind: 'speechOnly' }, { kind: 'excerpt', seconds: 1.5 },
];

const uniform = (rng: Generator, lo: number, hi: number) => lo + (hi - lo) * rng.uniform();

/** One condition of a family drawn at random, its level drawn over a range wider than the benchmark's. */
function drawOne(rng: Generator, family: number): Condition {
  switch (family) {
    case 0: return { kind: 'bandlimit', rate: Math.round(uniform(rng, 6000, 16000)) };
    case 1: return { kind: 'telephone' };
    case 2: return { kind: 'lowpass', hz: Math.round(uniform(rng, 3000, 8000)) };
    case 3: return { kind: 'reverb', rt60: uniform(rng, 0.2, 1.0) };
    case 4: return { kind: 'noise', noise: (['white', 'pink', 'babble'] as const)[rng.int(3)]!, snrDb: uniform(rng, 0, 25) };
    case 5: return { kind: 'gain', db: uniform(rng, -30, 10) };
    case 6: return { kind: 'dc', offset: uniform(rng, -0.1, 0.1) };
    default: return { kind: 'tilt', db: uniform(rng, -9, 9) };
  }
}

const FAMILIES = 8;

/**
 * The conditions of one training copy: one family drawn uniformly, and half the time a second of
 * another family applied after it (a reverberant room and a noisy one, say, as real recordings
 * combine them).
 */
export function drawConditions(rng: Generator): Condition[] {
  const first = rng.int(FAMILIES);
  const out = [drawOne(rng, first)];
  if (rng.uniform() < 0.5) out.push(drawOne(rng, (first + 1 + rng.int(FAMILIES - 1)) % FAMILIES));
  return out;
}
