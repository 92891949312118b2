/** Finding RAVDESS clips on disk and turning them into cached features (Node only). */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SerTsError } from '../tensor/errors.js';
import { writeFileAtomic } from './files.js';
import { Generator } from '../tensor/random.js';
import { load } from '../audio/load.js';
import { noisyWaveform } from '../ser/augment.js';
import { applyCondition, drawConditions } from '../ser/conditions.js';
import { FEATURE_SETTINGS, SAMPLE_RATE, clipFeatures, wavFeatures } from '../ser/features.js';
import { type RavdessClip, parseRavdessName } from '../ser/labels.js';
import { N_FRAMES, N_MFCC } from '../ser/model.js';

export class DatasetError extends SerTsError {}

export interface DatasetItem extends RavdessClip {
  path: string;
}

/**
 * Every RAVDESS speech clip (`03-01-EE-II-SS-RR-AA.wav`) under `dir`, at any depth (the official
 * layout is Actor_NN/*.wav), sorted by path. A file name seen twice is kept once.
 */
export function scanRavdess(dir: string, warn: (msg: string) => void = () => {}): DatasetItem[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DatasetError(`data folder '${dir}' does not exist or is not a folder`);
  const found = new Map<string, DatasetItem>();
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (depth < 4 && !name.startsWith('.')) walk(p, depth + 1);
        continue;
      }
      const info = parseRavdessName(name);
      if (!info) continue;
      const key = name.toLowerCase();
      if (found.has(key)) {
        warn(`skipping ${relative(dir, p)}: same name as ${relative(dir, found.get(key)!.path)}`);
        continue;
      }
      found.set(key, { ...info, path: p });
    }
  };
  walk(dir, 0);
  if (found.size === 0) throw new DatasetError(`no RAVDESS speech files (03-01-EE-II-SS-RR-AA.wav) under '${dir}'`);
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

const CLIP = N_MFCC * N_FRAMES;
const settingsKey = createHash('sha256').update(JSON.stringify(FEATURE_SETTINGS)).digest('hex').slice(0, 12);

/**
 * Features on disk, one file per clip, named by the hash of the clip's bytes under a folder named
 * by the hash of the feature settings: a renamed file still hits, a changed setting never does.
 * Each entry starts with a SHA-256 of the settings, the clip's hash and the values, and holds only
 * finite values: an entry that was damaged, edited or written by other settings is a miss, and the
 * features are computed again.
 */
export class FeatureCache {
  private readonly key: string;

  /** `variant` names anything else the stored features depend on (an augmentation's settings). */
  constructor(readonly dir: string, variant = '') {
    this.key = variant ? `${settingsKey}-${createHash('sha256').update(variant).digest('hex').slice(0, 12)}` : settingsKey;
  }

  private entry(bytes: Uint8Array): { file: string; clip: string } {
    const clip = createHash('sha256').update(bytes).digest('hex');
    return { file: join(this.dir, this.key, `${clip}.ftr`), clip };
  }

  private digest(clip: string, values: Uint8Array): Buffer {
    return createHash('sha256').update(this.key).update(clip).update(values).digest();
  }

  get(bytes: Uint8Array): Float32Array | null {
    const { file, clip } = this.entry(bytes);
    if (!existsSync(file)) return null;
    const b = readFileSync(file);
    if (b.length !== 32 + CLIP * 4) return null;
    const values = b.subarray(32);
    if (!this.digest(clip, values).equals(b.subarray(0, 32))) return null;
    const f = new Float32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.length));
    return f.every(Number.isFinite) ? f : null;
  }

  put(bytes: Uint8Array, features: Float32Array): void {
    const { file, clip } = this.entry(bytes);
    const values = new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
    writeFileAtomic(file, Buffer.concat([this.digest(clip, values), values]));
  }
}

export interface Extracted {
  items: DatasetItem[];
  features: Float32Array;
  labels: number[];
  actors: number[];
}

/** Features of every readable clip; an unreadable one is skipped with a warning that names it. */
export function extractFeatures(
  items: DatasetItem[],
  opts: { cache?: FeatureCache | null; trim?: boolean; warn?: (m: string) => void; progress?: (done: number, total: number) => void } = {},
): Extracted {
  // trimmed features are other features: their own part of the cache
  const cache = opts.cache && opts.trim ? new FeatureCache(opts.cache.dir, TRIM_VARIANT) : opts.cache;
  const kept: DatasetItem[] = [];
  const feats: Float32Array[] = [];
  items.forEach((item, i) => {
    try {
      const bytes = readFileSync(item.path);
      let f = cache?.get(bytes) ?? null;
      if (!f) {
        f = wavFeatures(bytes, { trim: opts.trim });
        cache?.put(bytes, f);
      }
      feats.push(f);
      kept.push(item);
    } catch (e) {
      opts.warn?.(`skipping ${item.path}: ${(e as Error).message}`);
    }
    opts.progress?.(i + 1, items.length);
  });
  if (!kept.length) throw new DatasetError('no clip could be read');
  const features = new Float32Array(kept.length * CLIP);
  feats.forEach((f, i) => features.set(f, i * CLIP));
  return { items: kept, features, labels: kept.map((k) => k.label), actors: kept.map((k) => k.actor) };
}

export { subset } from '../ser/features.js';

export interface NoiseOptions {
  /** The SNR of each copy is drawn uniformly from this range, in dB. Default [10, 30]. */
  snrDb?: [number, number];
  seed?: number;
  cache?: FeatureCache | null;
  /** Features of each copy's speech (`clipFeatures`' trim). */
  trim?: boolean;
  warn?: (m: string) => void;
}

/** What trimmed features add to a cache variant; it names the detector's version, as features cut by another detector are other features. */
const TRIM_VARIANT = 'trim:speech:vad2';
const trimmed = (variant: string, trim: boolean | undefined) => (trim ? `${variant}:${TRIM_VARIANT}` : variant);

/**
 * Features of a noisy copy of each item (white noise at a random SNR), for augmentation. The noise
 * of a clip is seeded by the seed and the clip's bytes, so a copy does not depend on which other
 * clips are in the list. A clip that cannot be read is an error here: it was readable a moment ago.
 */
export function noisyFeatures(items: readonly DatasetItem[], opts: NoiseOptions = {}): Float32Array {
  const [lo, hi] = opts.snrDb ?? [10, 30];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) throw new DatasetError(`noise: snrDb must be a range [low, high], got [${lo}, ${hi}]`);
  const seed = opts.seed ?? 0;
  const cache = opts.cache ? new FeatureCache(opts.cache.dir, trimmed(`noise:${lo}:${hi}:${seed}`, opts.trim)) : null;
  return derivedFeatures(items, cache, seed, (bytes, rng) => {
    const snr = lo + (hi - lo) * rng.uniform();
    return clipFeatures(noisyWaveform(load(bytes, { sampleRate: SAMPLE_RATE }), snr, rng), { trim: opts.trim });
  });
}

/**
 * Features of one derived copy of each item, made by `make` from the clip's bytes with a generator
 * seeded by those bytes and `salt` (so a copy does not depend on the list's order), through `cache`.
 */
function derivedFeatures(
  items: readonly DatasetItem[], cache: FeatureCache | null, salt: number, make: (bytes: Uint8Array, rng: Generator, item: DatasetItem) => Float32Array,
): Float32Array {
  const out = new Float32Array(items.length * CLIP);
  items.forEach((item, i) => {
    const bytes = readFileSync(item.path);
    let f = cache?.get(bytes) ?? null;
    if (!f) {
      const digest = createHash('sha256').update(bytes).digest();
      f = make(bytes, new Generator((digest.readUInt32LE(0) ^ salt) >>> 0), item);
      cache?.put(bytes, f);
    }
    out.set(f, i * CLIP);
  });
  return out;
}

/**
 * Waveforms of clips by path, at the features' sample rate, the last `capacity` kept: babble draws
 * a few other speakers' clips again and again.
 */
export class WaveformPool {
  private readonly kept = new Map<string, Float32Array>();
  constructor(private readonly capacity = 256) {}

  get(path: string): Float32Array {
    let y = this.kept.get(path);
    if (y) {
      this.kept.delete(path);
    } else {
      y = load(readFileSync(path), { sampleRate: SAMPLE_RATE });
      if (this.kept.size >= this.capacity) this.kept.delete(this.kept.keys().next().value!);
    }
    this.kept.set(path, y);
    return y;
  }
}

/** Four clips of speakers other than `actor`, drawn from `items` (babble's voices). */
export function otherVoices(items: readonly DatasetItem[], actor: number, rng: Generator, pool: WaveformPool, count = 4): Float32Array[] {
  const others = items.filter((it) => it.actor !== actor);
  if (!others.length) return [];
  return Array.from({ length: count }, () => pool.get(others[rng.int(others.length)]!.path));
}

/**
 * Features of `copies` copies of each item, each under recording conditions drawn at random
 * (`drawConditions`; babble made of the other items' speakers), for robust training. Seeded by the
 * seed, the copy's index and the clip's bytes; cached under a variant that names the seed, the copy
 * and the list of clips (babble depends on which other clips there are).
 */
export function degradedFeatures(items: readonly DatasetItem[], opts: { seed?: number; copies: number; cache?: FeatureCache | null; trim?: boolean }): Float32Array[] {
  const seed = opts.seed ?? 0;
  const pool = new WaveformPool();
  const list = createHash('sha256').update(items.map((it) => it.path).join('\n')).digest('hex').slice(0, 16);
  return Array.from({ length: opts.copies }, (_, e) => {
    const cache = opts.cache ? new FeatureCache(opts.cache.dir, trimmed(`degraded:v1:${seed}:${e}:${list}`, opts.trim)) : null;
    return derivedFeatures(items, cache, seed ^ Math.imul(e + 1, 0x9e3779b1), (bytes, rng, item) => {
      let y = load(bytes, { sampleRate: SAMPLE_RATE });
      for (const c of drawConditions(rng)) {
        y = applyCondition(y, c, { sampleRate: SAMPLE_RATE, rng, voices: () => otherVoices(items, item.actor, rng, pool) });
      }
      return clipFeatures(y, { trim: opts.trim });
    });
  });
}
