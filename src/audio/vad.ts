/**
 * Voice activity: which frames of a clip hold speech, from two cues a model need not learn. Energy:
 * speech comes in syllables, so its frame energies swing by many decibels, while silence, hum, a
 * tone or steady noise stay level; a frame is a candidate when it rises well above the clip's own
 * floor (its 10th-percentile frame) and above an absolute floor: −60 dBFS, or 35 dB under the
 * clip's loudest frames (99th percentile) when that is lower, so a recording made 30 dB quieter is
 * cut where it would be at full level rather than to its loudest syllables (never below −90 dBFS).
 * Spectral flatness over the speech band (100–4000 Hz): voiced speech has harmonics and formants
 * (flatness near 0), white or wind-like noise is flat (near 0.56 for white noise), so a candidate
 * must be below 0.45. A syllable lasts longer than a frame, so candidates count only in runs of at
 * least 3 frames (70 ms): a lone frame of babble or a click in the lead-in does not start the speech.
 * A clip (or window) holds speech when at least 0.1 s of its frames do. Frames are centred where
 * the MFCC's are (every 512 samples), so the mask lines up with the model's input; each is 512
 * samples long, a quarter of the MFCC's window: enough resolution (43 Hz) for these cues at a
 * quarter of the FFT work. No trained model: nothing to download, and the same answer in Node and
 * in a browser. The clip's mean is taken out first: a DC offset is a step at the clip's two ends
 * (the frames there are padded with zeros), broadband and far from flat, so without it every clip
 * with an offset would hold "speech" from its first frame to its last.
 *
 * Each of these choices was measured on the robustness benchmark's conditions, by how far they move
 * the cut of RAVDESS's test clips (docs/results.md).
 */
import { DEFAULT_HOP } from './defaults.js';
import { spectrogramFrames } from './spectrum.js';

export interface VadOptions {
  sampleRate: number;
  /** Decibels above the clip's floor a frame must reach (at most; less when the clip's range is small). Default 10. */
  marginDb?: number;
  /** Frames below this level are never speech, unless the clip is quiet (`quietFloorDb`). Default −60 dBFS. */
  floorDbfs?: number;
  /** The absolute floor sits at most this far under the clip's loudest frames (99th percentile), down to `minFloorDbfs`. Default 35 dB. */
  quietFloorDb?: number;
  /** The lowest absolute floor, for the quietest clips. Default −90 dBFS. */
  minFloorDbfs?: number;
  /** Frames flatter than this (0–1) are noise. Default 0.45. */
  maxFlatness?: number;
  /** A clip whose frame energies span less than this (90th minus 10th percentile) has no syllables: no speech. Default 6 dB. */
  minRangeDb?: number;
  /** Candidate frames count only in runs of at least this many. Default 3 (70 ms at 22050 Hz). */
  minRunFrames?: number;
  /** Seconds of speech frames that make a clip (or a window) speech. Default 0.1. */
  minSpeechSeconds?: number;
}

export interface VoiceActivity {
  /** 1 where a frame holds speech, per MFCC frame. */
  frames: Uint8Array;
  /** Frame energies (dBFS) and spectral flatness, for plots and for tuning. */
  energyDb: Float32Array;
  flatness: Float32Array;
  /** Frames of speech needed for a clip or window to count as speech. */
  minFrames: number;
}

function percentile(v: Float32Array, p: number): number {
  const s = Float32Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(p * (s.length - 1))))]!;
}

function withoutMean(y: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i]!;
  const mean = y.length > 0 ? sum / y.length : 0;
  if (mean === 0) return y;
  const out = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i]! - mean;
  return out;
}

/** Clears every run of 1s shorter than `minRun` in place. */
function dropShortRuns(frames: Uint8Array, minRun: number): void {
  for (let t = 0; t < frames.length; ) {
    if (!frames[t]) { t++; continue; }
    let end = t;
    while (end < frames.length && frames[end]) end++;
    if (end - t < minRun) frames.fill(0, t, end);
    t = end;
  }
}

export function voiceActivity(y: Float32Array, opts: VadOptions): VoiceActivity {
  const { sampleRate } = opts;
  const marginDb = opts.marginDb ?? 10;
  const floorDbfs = opts.floorDbfs ?? -60;
  const maxFlatness = opts.maxFlatness ?? 0.45;
  const minRangeDb = opts.minRangeDb ?? 6;
  const minRun = Math.max(1, Math.round(opts.minRunFrames ?? 3));
  const nFft = 512;
  const hop = DEFAULT_HOP;
  const spec = spectrogramFrames(withoutMean(y), { nFft, hopLength: hop });
  const lo = Math.max(1, Math.floor((100 * nFft) / sampleRate));
  const hi = Math.min(spec.bins - 1, Math.ceil((4000 * nFft) / sampleRate));
  // a full-scale sine's power in one bin of a Hann-windowed frame, for dBFS: (A · Σw / 2)² with Σw = nFft / 2
  const fullScale = (nFft / 4) ** 2;
  const energyDb = new Float32Array(spec.frames);
  const flatness = new Float32Array(spec.frames);
  for (let t = 0; t < spec.frames; t++) {
    let sum = 0;
    let logSum = 0;
    for (let k = lo; k <= hi; k++) {
      const p = spec.data[t * spec.bins + k]! + 1e-20;
      sum += p;
      logSum += Math.log(p);
    }
    const n = hi - lo + 1;
    energyDb[t] = 10 * Math.log10(sum / fullScale + 1e-20);
    flatness[t] = Math.exp(logSum / n) / (sum / n);
  }
  const floor = percentile(energyDb, 0.1);
  const range = percentile(energyDb, 0.9) - floor;
  const threshold = floor + Math.max(3, Math.min(marginDb, range / 2));
  const absolute = Math.max(opts.minFloorDbfs ?? -90, Math.min(floorDbfs, percentile(energyDb, 0.99) - (opts.quietFloorDb ?? 35)));
  const frames = new Uint8Array(spec.frames);
  if (range >= minRangeDb) {
    for (let t = 0; t < spec.frames; t++) frames[t] = Number(energyDb[t]! >= threshold && energyDb[t]! >= absolute && flatness[t]! < maxFlatness);
    dropShortRuns(frames, minRun);
  }
  const minFrames = Math.max(1, Math.round(((opts.minSpeechSeconds ?? 0.1) * sampleRate) / hop));
  return { frames, energyDb, flatness, minFrames };
}

/** Whether frames [start, end) of a voice-activity mask hold speech. */
export function hasSpeech(vad: VoiceActivity, start = 0, end = vad.frames.length): boolean {
  let n = 0;
  for (let t = Math.max(0, start); t < Math.min(end, vad.frames.length); t++) n += vad.frames[t]!;
  return n >= vad.minFrames;
}

/**
 * The frames [start, end) from the first to the last speech frame of a voice-activity mask,
 * widened by `margin` frames either side (within the clip), or null when the clip holds no speech
 * (`hasSpeech`). What trimming a clip to its speech keeps: the silence or noise before and after it
 * goes, pauses within it stay.
 */
export function speechSpan(vad: VoiceActivity, margin = 0): { start: number; end: number } | null {
  if (!hasSpeech(vad)) return null;
  const first = vad.frames.indexOf(1);
  const last = vad.frames.lastIndexOf(1);
  return { start: Math.max(0, first - margin), end: Math.min(vad.frames.length, last + 1 + margin) };
}
