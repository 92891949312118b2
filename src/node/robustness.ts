/**
 * The robustness benchmark: each split's test clips scored by that split's weights (as `ser train`
 * wrote them, FILE-foldK.safetensors) clean and under every recording condition of
 * BENCHMARK_CONDITIONS, applied to the test waveforms only, seeded per condition and clip. Babble
 * is made of clips of the split's training speakers, never the test ones. What `ser robustness`
 * runs; the report gives UAR per condition and split, their means, and the gap to clean.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SerTsError } from '../tensor/errors.js';
import { Generator } from '../tensor/random.js';
import { EMOBOX_FOLDS, EMOTIONS } from '../ser/labels.js';
import { evaluate } from '../ser/metrics.js';
import { N_FRAMES, N_MFCC } from '../ser/model.js';
import { argmaxRows } from '../ser/scoring.js';
import { BENCHMARK_CONDITIONS, type Condition, applyCondition, conditionName } from '../ser/conditions.js';
import { SAMPLE_RATE, clipFeatures } from '../ser/features.js';
import { type Protocol, checkProtocol, protocolSplits } from '../ser/splits.js';
import { WaveformPool, otherVoices, scanRavdess } from './dataset.js';
import { writeFileAtomic } from './files.js';
import { loadModel } from './model-file.js';

export interface RobustnessOptions {
  data: string;
  /**
   * Weights per split: FILE itself for one split, FILE-foldK.safetensors for each of several (as
   * `ser train --out FILE` names them). Several FILEs: each split's models averaged (an ensemble).
   */
  weights: string | readonly string[];
  protocol: Protocol;
  conditions?: readonly Condition[];
  /** Seeds the conditions' randomness (noise, rooms, babble). Default 0. */
  seed?: number;
  /** The report as JSON, written atomically. */
  out?: string;
  log?: (line: string) => void;
}

export interface RobustnessReport {
  protocol: string;
  weights: string[];
  seed: number;
  splits: string[];
  /** UAR per condition: per split and the mean over splits. */
  conditions: { name: string; condition: Condition; uar: number[]; mean: number }[];
  clean: number | null;
  /** Mean UAR over the conditions other than clean. */
  degraded: number;
}

const CLIP = N_MFCC * N_FRAMES;

/**
 * The weights file of a split, as runExperiment names them: FILE-foldK.safetensors for fold K of
 * several; for a single split FILE, or FILE-foldK when only that exists (one fold of a six-fold run).
 */
export function splitWeights(file: string, fold: number | undefined, count: number): string {
  const perFold = fold === undefined ? file : file.replace(/(\.safetensors)?$/, `-fold${fold}.safetensors`);
  return count > 1 || (!existsSync(file) && existsSync(perFold)) ? perFold : file;
}

/** A generator for clip `clip` under condition `c`: the same draw whatever else is scored. */
function rngFor(seed: number, condition: string, clip: string): Generator {
  const d = createHash('sha256').update(`${seed}\n${condition}\n${clip}`).digest();
  return new Generator(d.readUInt32LE(0));
}

export function runRobustness(o: RobustnessOptions): RobustnessReport {
  const log = o.log ?? (() => {});
  const seed = o.seed ?? 0;
  const conditions = o.conditions ?? BENCHMARK_CONDITIONS;
  checkProtocol(o.protocol);
  if (o.protocol.name === 'all') throw new SerTsError("robustness: protocol 'all' has no test clips; use folds, actors or random");
  // the weights are looked for before any clip is read: the protocol alone says which splits there are
  const folds = o.protocol.name !== 'folds' ? [undefined] : o.protocol.fold !== undefined ? [o.protocol.fold] : EMOBOX_FOLDS.map((_, i) => i + 1);
  const weights = typeof o.weights === 'string' ? [o.weights] : [...o.weights];
  if (!weights.length) throw new SerTsError('robustness: no weights given');
  const files = folds.map((k) => weights.map((w) => splitWeights(w, k, folds.length)));
  const missing = files.flat().filter((f) => !existsSync(f));
  if (missing.length) throw new SerTsError(`robustness: no weights at ${missing.join(', ')} (train them with ser train --protocol ${o.protocol.name} --out ${weights[0]})`);
  const items = scanRavdess(o.data, (m) => log(`warning: ${m}`));
  const labels = items.map((it) => it.label);
  const actors = items.map((it) => it.actor);
  const splits = protocolSplits(o.protocol, labels, actors);
  const uar = conditions.map(() => [] as number[]);
  const pool = new WaveformPool(64);
  splits.forEach(({ label, split }, s) => {
    const model = files[s]!.length === 1 ? loadModel(files[s]![0]!) : loadModel(files[s]!);
    const test = split.test.map((j) => items[j]!);
    const voices = split.train.map((j) => items[j]!);
    const clean = test.map((it) => pool.get(it.path));
    const t0 = Date.now();
    conditions.forEach((c, ci) => {
      const name = conditionName(c);
      const feats = new Float32Array(test.length * CLIP);
      test.forEach((it, i) => {
        const rng = rngFor(seed, name, it.path.split(/[\\/]/).pop()!);
        const y = applyCondition(clean[i]!, c, { sampleRate: SAMPLE_RATE, rng, voices: () => otherVoices(voices, it.actor, rng, pool) });
        feats.set(clipFeatures(y, { trim: model.trim }), i * CLIP);
      });
      const pred = argmaxRows(model.scoreClips(feats));
      uar[ci]!.push(evaluate(test.map((it) => it.label), pred, EMOTIONS.length).uar);
    });
    log(`${label}: ${conditions.length} conditions × ${test.length} clips in ${((Date.now() - t0) / 1000).toFixed(0)} s; clean-first UAR ${uar.map((u) => (100 * u[s]!).toFixed(1)).join(' ')}`);
  });
  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const rows = conditions.map((c, ci) => ({ name: conditionName(c), condition: c, uar: uar[ci]!, mean: mean(uar[ci]!) }));
  const others = rows.filter((r) => r.condition.kind !== 'clean');
  const report: RobustnessReport = {
    protocol: o.protocol.name, weights, seed, splits: splits.map((s) => s.label),
    conditions: rows, clean: rows.find((r) => r.condition.kind === 'clean')?.mean ?? null, degraded: others.length ? mean(others.map((r) => r.mean)) : NaN,
  };
  if (o.out) writeFileAtomic(o.out, `${JSON.stringify(report, null, 1)}\n`);
  return report;
}

/** The report as a text table: one row per condition, one column per split, then the mean. */
export function formatRobustness(r: RobustnessReport): string {
  const pct = (v: number) => (100 * v).toFixed(1).padStart(6);
  const head = `${'condition'.padEnd(16)}${r.splits.map((_, i) => `  s${i + 1}`.padStart(6)).join('')}  mean`;
  const lines = r.conditions.map((c) => `${c.name.padEnd(16)}${c.uar.map(pct).join('')}${pct(c.mean)}`);
  const tail = [`mean UAR under the ${r.conditions.filter((c) => c.condition.kind !== 'clean').length} conditions: ${(100 * r.degraded).toFixed(1)}%`];
  if (r.clean !== null) tail.push(`clean: ${(100 * r.clean).toFixed(1)}%; gap ${(100 * (r.clean - r.degraded)).toFixed(1)} points`);
  return [head, ...lines, ...tail].join('\n');
}
