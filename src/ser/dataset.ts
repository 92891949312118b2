/** Finding RAVDESS clips on disk and turning them into cached features (Node only). */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SerError } from '../tensor/errors.js';
import { writeFileAtomic } from '../node/files.js';
import { FEATURE_SETTINGS, wavFeatures } from './features.js';
import { type RavdessClip, parseRavdessName } from './labels.js';
import { N_FRAMES, N_MFCC } from './model.js';

export class DatasetError extends SerError {}

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
 */
export class FeatureCache {
  constructor(readonly dir: string) {}

  private file(bytes: Uint8Array): string {
    return join(this.dir, settingsKey, `${createHash('sha256').update(bytes).digest('hex')}.f32`);
  }

  get(bytes: Uint8Array): Float32Array | null {
    const f = this.file(bytes);
    if (!existsSync(f)) return null;
    const b = readFileSync(f);
    if (b.length !== CLIP * 4) return null; // damaged: recompute
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  }

  put(bytes: Uint8Array, features: Float32Array): void {
    writeFileAtomic(this.file(bytes), new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
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
  items: DatasetItem[], opts: { cache?: FeatureCache | null; warn?: (m: string) => void; progress?: (done: number, total: number) => void } = {},
): Extracted {
  const kept: DatasetItem[] = [];
  const feats: Float32Array[] = [];
  items.forEach((item, i) => {
    try {
      const bytes = readFileSync(item.path);
      let f = opts.cache?.get(bytes) ?? null;
      if (!f) {
        f = wavFeatures(bytes);
        opts.cache?.put(bytes, f);
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

/** The rows of `features` at `idx`. */
export function subset(features: Float32Array, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * CLIP);
  idx.forEach((j, i) => out.set(features.subarray(j * CLIP, (j + 1) * CLIP), i * CLIP));
  return out;
}
