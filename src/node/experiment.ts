/**
 * A training run on a RAVDESS folder, with files: features from the cache, one `prepareRun` +
 * `runTraining` per split of the protocol, a checkpoint after every epoch (so `resume` continues a
 * killed run exactly), and the weights, report pages and report JSON written atomically. What
 * `ser train` runs; the CLI only parses its flags into these options.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SerTsError } from '../tensor/errors.js';
import { EMOTIONS } from '../ser/labels.js';
import { type Report, formatReport } from '../ser/metrics.js';
import { prepareRun, runTraining } from '../ser/pipeline.js';
import type { Recipe } from '../ser/recipe.js';
import { renderReportHtml } from '../ser/report-html.js';
import { type Protocol, checkProtocol, protocolSplits } from '../ser/splits.js';
import { type Extracted, FeatureCache, degradedFeatures, extractFeatures, noisyFeatures, scanRavdess } from './dataset.js';
import { removeStaleTemps, writeFileAtomic } from './files.js';

export interface ExperimentOptions {
  /** A RAVDESS folder in the official layout. */
  data: string;
  recipe: Recipe;
  protocol: Protocol;
  seed?: number;
  valActors?: readonly number[];
  patience?: number;
  /** Weights file; with several splits, FILE-foldK.safetensors. Default emotion-cnn-PROTOCOL.safetensors. */
  out?: string;
  /** Checkpoint file (default OUT.ckpt); with several splits, -foldK before .ckpt. */
  checkpoint?: string;
  /** Continue each split from its checkpoint. */
  resume?: boolean;
  /** Feature cache folder. Default .cache/features. */
  cache?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Results (stdout in the CLI). */
  print?: (line: string) => void;
}

export interface SplitResult {
  label: string;
  weightsFile: string;
  report: Report | null;
  valActors?: number[];
  keptEpoch?: number;
  valUar?: number;
}

export const summary = (r: Report) => `accuracy ${(100 * r.accuracy).toFixed(1)}%, UAR ${(100 * r.uar).toFixed(1)}% (n = ${r.n})`;

/** RAVDESS clips and their features, through the cache. */
export function loadRavdess(dir: string, cacheDir: string, log: (line: string) => void = () => {}, opts: { trim?: boolean } = {}): Extracted {
  const items = scanRavdess(dir, (m) => log(`warning: ${m}`));
  log(`${items.length} RAVDESS clips under ${dir}; extracting features${opts.trim ? ' of their speech' : ''} (cache: ${cacheDir})`);
  const t0 = Date.now();
  const data = extractFeatures(items, {
    cache: new FeatureCache(cacheDir),
    trim: opts.trim,
    warn: (m) => log(`warning: ${m}`),
    progress: (d, n) => {
      if (d % 200 === 0 || d === n) log(`  features ${d}/${n}`);
    },
  });
  log(`features ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return data;
}

export function runExperiment(o: ExperimentOptions): SplitResult[] {
  const log = o.log ?? (() => {});
  const print = o.print ?? (() => {});
  const seed = o.seed ?? 0;
  const { recipe } = o;
  checkProtocol(o.protocol);
  const cacheDir = o.cache ?? '.cache/features';
  const data = loadRavdess(o.data, cacheDir, log, { trim: recipe.trim });
  const splits = protocolSplits(o.protocol, data.labels, data.actors);
  const out = o.out ?? `emotion-cnn-${o.protocol.name}.safetensors`;
  // parts of files that a killed run was writing: nobody will finish them
  const stale = [...new Set([dirname(out), dirname(o.checkpoint ?? out)])].flatMap((d) => removeStaleTemps(d)).concat(removeStaleTemps(cacheDir, 1));
  if (stale.length) log(`removed ${stale.length} temporary file(s) left by a killed run`);
  const waveforms = {
    noisy: (idx: readonly number[], n: { seed: number; snrDb: [number, number] }) => {
      const t0 = Date.now();
      const copies = noisyFeatures(idx.map((j) => data.items[j]!), { ...n, cache: new FeatureCache(cacheDir), trim: recipe.trim });
      log(`noisy copies of the training clips ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return copies;
    },
    degraded: (idx: readonly number[], d: { seed: number; copies: number }) => {
      const t0 = Date.now();
      const copies = degradedFeatures(idx.map((j) => data.items[j]!), { ...d, cache: new FeatureCache(cacheDir), trim: recipe.trim });
      log(`${d.copies} degraded cop${d.copies > 1 ? 'ies' : 'y'} of the training clips ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return copies;
    },
  };
  const results: SplitResult[] = [];
  for (const { label, fold, split } of splits) {
    const suffix = splits.length > 1 ? `-fold${fold}` : '';
    const weightsFile = suffix ? out.replace(/(\.safetensors)?$/, `${suffix}.safetensors`) : out;
    const ckpt = o.checkpoint ? o.checkpoint.replace(/(\.ckpt)?$/, `${suffix}.ckpt`) : `${weightsFile}.ckpt`;
    const run = prepareRun(recipe, data, split, {
      seed, label, protocol: o.protocol.name, byActor: o.protocol.name !== 'random', valActors: o.valActors, patience: o.patience, waveforms,
    });
    for (const note of run.notes) log(`note: ${note}`);
    log(`\n== ${label}: ${run.trainIdx.length} training clips, ${run.valIdx.length} validation clips${run.valActors.length ? ` (actors ${run.valActors.join(', ')})` : ''}, ${split.test.length} test clips; recipe ${recipe.name}`);
    let resume: Uint8Array | undefined;
    if (o.resume) {
      try {
        resume = readFileSync(ckpt);
      } catch {
        throw new SerTsError(`--resume: no checkpoint at ${ckpt}`);
      }
      log(`resuming from ${ckpt}`);
    }
    const trained = runTraining(run, {
      resume,
      onEpoch: (s, checkpoint) => {
        writeFileAtomic(ckpt, checkpoint());
        const v = s.valUar === undefined ? '' : `  val acc ${(100 * s.valAccuracy!).toFixed(1)}% UAR ${(100 * s.valUar).toFixed(1)}%`;
        log(`epoch ${String(s.epoch).padStart(3)}/${s.epochs}  loss ${s.loss.toFixed(4)}  train acc ${(100 * s.accuracy).toFixed(1)}%${v}  lr ${s.lr.toExponential(2)}  ${s.seconds.toFixed(1)} s  ${s.samplesPerSecond.toFixed(1)} samples/s`);
      },
    });
    const { kept, report } = trained;
    const validated = run.valIdx.length > 0;
    if (validated && kept) log(`kept epoch ${kept.epoch} (validation UAR ${(100 * kept.valUar!).toFixed(1)}%)`);
    writeFileAtomic(weightsFile, run.encode(trained.model));
    log(`weights written to ${weightsFile}`);
    if (report) print(`\n${label}: ${summary(report)}\n${formatReport(report, EMOTIONS)}`);
    results.push({ label, weightsFile, report, ...(validated ? { valActors: run.valActors, keptEpoch: kept?.epoch, valUar: kept?.valUar } : {}) });
    const html = weightsFile.replace(/(\.safetensors)?$/, '.report.html');
    writeFileAtomic(html, renderReportHtml({
      title: `EmotionCNN, ${o.protocol.name}: ${label}`, names: EMOTIONS, report: report ?? undefined, history: trained.history,
      notes: [
        `Recipe ${recipe.name}: ${run.trainIdx.length} training clips, ${run.valIdx.length} validation clips, ${split.test.length} test clips; ${recipe.epochs} epochs, batch ${recipe.batchSize}, Adam lr ${recipe.lr}${recipe.schedule === 'cosine' ? ' (cosine)' : ''}, seed ${seed}.`,
        ...(validated && kept ? [`Kept epoch ${kept.epoch}, the best by validation UAR (${(100 * kept.valUar!).toFixed(1)}%).`] : []),
      ],
    }));
    log(`report page written to ${html}`);
  }
  const scored = results.filter((r) => r.report);
  if (scored.length) {
    const mean = (f: (r: Report) => number) => scored.reduce((s, r) => s + f(r.report!), 0) / scored.length;
    if (scored.length > 1) print(`\nmean over ${scored.length} folds: accuracy ${(100 * mean((r) => r.accuracy)).toFixed(1)}%, UAR ${(100 * mean((r) => r.uar)).toFixed(1)}%`);
    const reportFile = join(dirname(out), `${basename(out).replace(/\.safetensors$/, '')}.report.json`);
    const reports = scored.map(({ weightsFile: _, ...r }) => r);
    writeFileAtomic(reportFile, `${JSON.stringify({ protocol: o.protocol.name, recipe, epochs: recipe.epochs, batchSize: recipe.batchSize, lr: recipe.lr, seed, reports }, null, 1)}\n`);
    log(`report written to ${reportFile}`);
  }
  return results;
}
