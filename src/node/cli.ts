/**
 * The `ser` command: predict emotions of WAV files, train the EmotionCNN on RAVDESS, evaluate
 * weights. Node only. Run `ser --help` or `ser <command> --help`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { SerTsError } from '../tensor/errors.js';
import { EMOTIONS } from '../ser/labels.js';
import { evaluate, formatReport } from '../ser/metrics.js';
import { DEFAULT_PRIOR_SECONDS, type Recognizer, secondsToFrames } from '../ser/predict.js';
import { type InputNorm, applySpeakerNorms, enrolmentNorms, speakerNorms } from '../ser/normalize.js';
import { type Recipe, checkRecipe, recipeByName, withoutComponents } from '../ser/recipe.js';
import { argmaxRows } from '../ser/scoring.js';
import { subset } from '../ser/features.js';
import { type Protocol, type ProtocolName, checkProtocol, protocolSplits } from '../ser/splits.js';
import { enableThreads } from './threads.js';
import { loadRavdess, runExperiment, summary } from './experiment.js';
import { BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS, BUNDLED_WEIGHTS, loadModel } from './model-file.js';
import { exportOnnx } from '../ser/onnx-export.js';
import { writeFileAtomic } from './files.js';
import { encodeWeights } from '../ser/weights-file.js';
import { BENCHMARK_CONDITIONS, SEGMENTATION_CONDITIONS, conditionName } from '../ser/conditions.js';
import { formatRobustness, runRobustness } from './robustness.js';

class UsageError extends SerTsError {}

const HELP: Record<string, string> = {
  main: `ser: speech emotion recognition (EmotionCNN over MFCC, trained on RAVDESS)

usage: ser <command> [options]

commands:
  predict FILE...      the emotion of each WAV file
  train --data DIR     train on a RAVDESS folder (Actor_NN/*.wav, any sample rate)
  evaluate --data DIR  score weights on a protocol's test clips
  robustness --data DIR  score each fold's weights on its test clips clean and under 21 recording conditions
  convert IN OUT       write weights (safetensors, or a PyTorch .pth state dict) as this library's safetensors
  export --onnx FILE   write the EmotionCNN as an ONNX graph (normalisation and Δ/ΔΔ inside), for onnxruntime

ser <command> --help for its options; ser --version for the version.`,
  predict: `usage: ser predict FILE|DIR|'PATTERN'|-... [--json] [--weights FILE] [--enroll FILE]... [--same-speaker] [--hop SECONDS] [--threads N]

  FILE, DIR, PATTERN, -  a WAV file; a folder (its .wav files, recursively); a quoted pattern such as
                   'clips/*.wav'; - for a WAV on standard input
  --json           one JSON object per line: {"file", "label", "speech", "probabilities", "seconds",
                   "windows"} (label and probabilities null when no speech is detected), or
                   {"file", "error"} for a file that could not be classified
  --weights FILE   safetensors weights; repeat it for an ensemble that averages the models'
                   probabilities (default: the bundled ensemble, the best recipe trained on all 24
                   RAVDESS actors with several seeds; with --enroll, the bundled speaker-normalised
                   model)
  --enroll FILE    a clip of the speaker, for weights trained with --speaker-norm (unlabelled, any
                   emotion; repeat the option: more clips give steadier statistics); the FILEs to
                   classify may be among them. All FILEs are taken to be that one speaker
  --same-speaker   the FILEs are one speaker: enrol from them (and any --enroll clips)
  --prior-seconds S  with enrolment: the training speakers' statistics weigh as much as S seconds of
                   the speaker's (default ${DEFAULT_PRIOR_SECONDS}; 0: the enrolment clips alone)
  --hop SECONDS    clips longer than 4 s are scored in 4 s windows this far apart (default 2)
  --threads N      worker threads for the kernels (default 1: one clip at a time is small work,
                   and needs no workers started)`,
  train: `usage: ser train --data DIR [options]

  --data DIR          RAVDESS speech clips, official layout (Actor_NN/03-01-EE-II-SS-RR-AA.wav)
  --protocol P        random: stratified 80/20 (seed 42), folds: EmoBox speaker-independent folds,
                      actors: hold out --test-actors, all: every clip, no test (for deployable
                      weights). Default: folds
  --fold K            with folds: only fold K (1-6); default: all six in turn
  --test-actors LIST  with actors: the held-out actors, e.g. 1,2,23
  --recipe R          original: the original project's recipe, exactly (default);
                      improved: input normalisation, noisy copies, shift/gain/mask augmentation,
                      label smoothing 0.1, cosine learning rate, best epoch chosen on two
                      validation actors taken from the training side (10% of it with random)
  --without LIST      switch parts of the recipe off, e.g. noise,masks (normalize, noise, shift,
                      gain, masks, smoothing, cosine, validation)
  --balance           weight the loss per class so that every emotion counts alike (as UAR does)
  --deltas N          add the MFCC's Δ (N = 1) or Δ and ΔΔ (N = 2) as input channels (the model
                      computes them from its input; conv1 takes 1 + N channels)
  --speaker-norm      standardise each speaker's clips with that speaker's own statistics (test
                      speakers' too, from their unlabelled clips: a speaker-adaptive protocol;
                      predicting with such weights needs enrolment clips)
  --enrolment-copies N  with --speaker-norm: N extra copies of the training clips normalised with
                      statistics of only 1, 2, 4 or 8 random clips of each speaker (as an enrolled
                      speaker's are), drawn half the time
  --degrade N         N copies of every training clip under recording conditions drawn at random
                      (band limits, telephone, codec low-pass, rooms, noise, level, DC, tilt),
                      drawn half the time
  --trim              cut every clip to its speech (voice activity) before its MFCC is windowed,
                      training copies too; the weights file records it and prediction does the same
  --val-actors LIST   validation actors (default: one male and one female drawn from training)
  --patience N        stop after N epochs without a better validation UAR (default: never)
  --epochs N          default: the recipe's (40)
  --batch-size N      default 32
  --lr X              Adam learning rate, default 0.0005
  --seed S            weights, shuffling and augmentation seed, default 0
  --out FILE          final weights (safetensors); with several folds, FILE gets -foldK before .safetensors
  --checkpoint FILE   checkpoint after every epoch (written atomically); default: OUT.ckpt
  --resume            continue from the checkpoint
  --cache DIR         feature cache, default .cache/features
  --threads N         worker threads for the kernels, default: all cores`,
  export: `usage: ser export --onnx FILE [--weights FILE]

  Writes one EmotionCNN (default: the bundled seed-0 model) as an ONNX graph, operator set 13:
  input mfcc [N, 1, 40, 174] float32, the raw MFCC as this library computes it (N dynamic); output
  logits [N, 8] (softmax them for probabilities). The input normalisation and the Δ/ΔΔ channels of
  the weights are inside the graph, and batch norm is folded into the convolutions.`,
  convert: `usage: ser convert IN OUT

  Reads weights (this library's safetensors, or a PyTorch state dict saved with torch.save: keys as
  the EmotionCNN's attributes, an nn.Sequential's indices, or either with DataParallel's module.
  prefix) and writes them as safetensors with this library's metadata. Nothing in a .pth file is
  run: its pickle may name only what a state dict needs.`,
  robustness: `usage: ser robustness --data DIR --weights FILE... [--protocol folds|actors|random] [--fold K] [--test-actors LIST]
                      [--conditions LIST] [--seed S] [--out REPORT.json]

  Scores each split's test clips with that split's weights (FILE-foldK.safetensors for several
  folds, as ser train --out FILE writes them; FILE for one split), clean and under each recording
  condition, applied to the test waveforms only: band-16k, band-8k, telephone, lowpass-4k,
  reverb-0.3s/0.5s/0.8s, white/pink/babble at 20, 10 and 5 dB SNR, gain-30dB, gain+10dB (clipped,
  16-bit), dc-0.05, tilt+6dB, tilt-6dB. Babble is made of the split's training speakers. Prints UAR per
  condition and split, the mean under the conditions and the gap to clean. --weights twice or more:
  each split's models averaged (an ensemble).

  --conditions LIST   only these conditions, by name (e.g. clean,telephone,babble-5dB); or
                      segmentation: where the recording starts and stops around the speech
                      (clean, lead-1s: a second of silence first, speech-only, excerpt-1.5s)
  --seed S            seeds the noise, rooms and babble (default 0)
  --out FILE          the report as JSON`,
  evaluate: `usage: ser evaluate --data DIR --weights FILE [--protocol random|folds|actors|all] [--fold K] [--test-actors LIST]
                    [--enroll-clips K] [--enroll-seed S]

  Scores the weights on the protocol's test clips (all clips with --protocol all) and prints
  accuracy, UAR, per-class precision/recall/F1 and the confusion matrix. Repeat --weights to
  score an ensemble (the models' probabilities averaged).

  --enroll-clips K  for weights trained with --speaker-norm: each speaker's statistics from K of
                    that speaker's clips drawn at random (as a new user would enrol), instead of
                    from all of them (the default)
  --enroll-seed S   the draw of --enroll-clips, default 0
  --prior-seconds S with --enroll-clips: the training speakers' statistics weigh as much as S
                    seconds of the speaker's (default ${DEFAULT_PRIOR_SECONDS}, as predict --enroll)`,
};

function fail(msg: string): never {
  throw new UsageError(msg);
}

function intOpt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

function seedOpt(v: string | undefined, name = 'seed'): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
}

function priorOpt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--prior-seconds must be a number of seconds, 0 or more, got '${v}'`);
  return n;
}

function numOpt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got '${v}'`);
  return n;
}

/** One weights file: its model; several (--weights repeated): their ensemble. */
const recognizerOf = (files: readonly string[]): Recognizer => (files.length === 1 ? loadModel(files[0]!) : loadModel(files));

const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);

/**
 * The files a predict argument names: a WAV file; a folder (its .wav files, recursively, sorted);
 * a pattern with * or ? in its last part (quoted, so the shell leaves it), e.g. 'clips/*.wav'; or
 * '-' for standard input.
 */
function expandInputs(args: readonly string[]): string[] {
  return args.flatMap((a) => {
    if (a === '-') return [a];
    if (existsSync(a) && statSync(a).isDirectory()) {
      const found = listWavs(a);
      if (!found.length) fail(`${a}: a folder without .wav files`);
      return found;
    }
    const name = basename(a);
    if (/[*?]/.test(name) && !existsSync(a)) {
      const dir = dirname(a);
      const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      const found = existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f)) : [];
      if (!found.length) fail(`${a}: no file matches`);
      return found;
    }
    return [a];
  });
}

function listWavs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((p, q) => p.name.localeCompare(q.name)).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return listWavs(path);
    return e.isFile() && /\.wav$/i.test(e.name) ? [path] : [];
  });
}

function predictCommand(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    json: { type: 'boolean' }, weights: { type: 'string', multiple: true }, hop: { type: 'string' }, threads: { type: 'string' }, enroll: { type: 'string', multiple: true },
    'prior-seconds': { type: 'string' }, 'same-speaker': { type: 'boolean' },
    help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.predict);
  if (!positionals.length) fail('predict needs at least one WAV file (or a folder, a quoted pattern, or - for standard input)');
  const files = expandInputs(positionals);
  if (files.filter((f) => f === '-').length > 1) fail("'-' (standard input) can be given once");
  enableThreads(intOpt(values.threads, 'threads', 1));
  const stdin = files.includes('-') ? readFileSync(0) : null;
  const read = (f: string) => (f === '-' ? stdin! : readFileSync(f));
  const enrolment = [...(values.enroll ?? []), ...(values['same-speaker'] ? files : [])];
  const model = recognizerOf(values.weights ?? (enrolment.length ? [BUNDLED_SPEAKER_NORM_WEIGHTS] : BUNDLED_ENSEMBLE));
  const hopSeconds = numOpt(values.hop, 'hop', 2);
  const priorSeconds = priorOpt(values['prior-seconds']);
  if (priorSeconds !== undefined && !enrolment.length) fail('--prior-seconds goes with --enroll or --same-speaker');
  if (model.speakerNormalized && !enrolment.length) fail('these weights were trained with --speaker-norm: give a few clips of the speaker with --enroll FILE (repeat it; the files to classify may be among them), or --same-speaker');
  if (!model.speakerNormalized && enrolment.length) fail('--enroll and --same-speaker go with weights trained with --speaker-norm; these were not');
  let speaker: InputNorm | undefined;
  if (enrolment.length) {
    const clips = enrolment.map((file) => {
      try {
        return read(file);
      } catch (e) {
        return fail(`enrolment clip ${file}: ${(e as Error).message}`);
      }
    });
    speaker = model.enroll(clips, { priorSeconds, names: enrolment });
  }
  let failed = 0;
  for (const file of files) {
    try {
      const p = model.predict(read(file), { hopSeconds, speaker });
      if (values.json) {
        console.log(JSON.stringify({ file, label: p.label, speech: p.speech, probabilities: p.probabilities, seconds: +p.seconds.toFixed(3), windows: p.windows }));
      } else if (!p.probabilities) {
        console.log(`${file}: no speech detected  (${p.seconds.toFixed(1)} s)`);
      } else {
        const top = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([e, v]) => `${e} ${(100 * v).toFixed(1)}%`).join(', ');
        const quiet = p.windows.filter((w) => !w.speech).length;
        console.log(`${file}: ${p.label}  (${top}; ${p.seconds.toFixed(1)} s${p.windows.length ? `, ${p.windows.length} windows${quiet ? `, ${quiet} without speech` : ''}` : ''})`);
      }
    } catch (e) {
      failed++;
      // a failed file has its record too, so a JSON consumer sees every input once
      if (values.json) console.log(JSON.stringify({ file, error: (e as Error).message }));
      process.stderr.write(`ser: ${file}: ${(e as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

function actorList(v: string, name: string): number[] {
  const list = v.split(',').map((a) => Number(a.trim()));
  if (!list.length || list.some((a) => !Number.isInteger(a) || a < 1 || a > 24)) fail(`--${name} must be a comma-separated list of actor numbers 1-24, got '${v}'`);
  return list;
}

/** The protocol the flags name, checked before any clip is read. */
function protocolOf(p: string | undefined, fold: string | undefined, testActors: string | undefined, dflt: ProtocolName): Protocol {
  const protocol: Protocol = {
    name: (p ?? dflt) as ProtocolName,
    fold: fold === undefined ? undefined : intOpt(fold, 'fold', 1),
    testActors: testActors === undefined ? undefined : actorList(testActors, 'test-actors'),
  };
  try {
    return checkProtocol(protocol);
  } catch (e) {
    return fail(`--protocol: ${(e as Error).message}`);
  }
}

/** The recipe the flags describe; its name records every change, as reports file it. */
function recipeOf(values: {
  recipe?: string; without?: string; epochs?: string; 'batch-size'?: string; lr?: string; 'speaker-norm'?: boolean; 'enrolment-copies'?: string;
  deltas?: string; balance?: boolean; degrade?: string; trim?: boolean;
}): Recipe {
  let recipe: Recipe;
  try {
    recipe = recipeByName(values.recipe ?? 'original');
    if (values.without) recipe = withoutComponents(recipe, values.without.split(',').map((c) => c.trim()).filter(Boolean));
  } catch (e) {
    return fail(`--recipe/--without: ${(e as Error).message}`);
  }
  recipe.epochs = intOpt(values.epochs, 'epochs', recipe.epochs);
  recipe.batchSize = intOpt(values['batch-size'], 'batch-size', recipe.batchSize);
  recipe.lr = numOpt(values.lr, 'lr', recipe.lr);
  if (values.balance) {
    recipe.loss.balance = true;
    recipe.name += ' with class balance';
  }
  if (values.deltas !== undefined) {
    const d = Number(values.deltas);
    if (!(d === 1 || d === 2)) fail(`--deltas must be 1 (Δ) or 2 (Δ and ΔΔ), got '${values.deltas}'`);
    recipe.deltas = d as 1 | 2;
    recipe.name += ` with deltas ${d}`;
  }
  if (values['speaker-norm']) {
    recipe.speakerNorm = true;
    recipe.name += ' with speaker normalisation';
  }
  if (values['enrolment-copies'] !== undefined) {
    if (!recipe.speakerNorm) fail('--enrolment-copies goes with --speaker-norm');
    const copies = intOpt(values['enrolment-copies'], 'enrolment-copies', 1);
    // drawn before the noisy copies, half the time
    recipe.sources.unshift({ kind: 'enrolled', prob: 0.5, copies });
    recipe.name += ` with enrolment copies ${copies}`;
  }
  if (values.degrade !== undefined) {
    const copies = intOpt(values.degrade, 'degrade', 1);
    recipe.sources.push({ kind: 'degraded', prob: 0.5, copies });
    recipe.name += ` with degraded copies ${copies}`;
  }
  if (values.trim) {
    recipe.trim = true;
    recipe.name += ' with speech trimming';
  }
  try {
    return checkRecipe(recipe);
  } catch (e) {
    return fail((e as Error).message);
  }
}

function trainCommand(args: string[]): void {
  const { values } = parseArgs({ args, options: {
    data: { type: 'string' }, protocol: { type: 'string' }, fold: { type: 'string' }, 'test-actors': { type: 'string' }, epochs: { type: 'string' },
    'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
    recipe: { type: 'string' }, without: { type: 'string' }, 'speaker-norm': { type: 'boolean' }, 'enrolment-copies': { type: 'string' },
    deltas: { type: 'string' }, balance: { type: 'boolean' }, 'val-actors': { type: 'string' }, patience: { type: 'string' },
    degrade: { type: 'string' }, trim: { type: 'boolean' }, checkpoint: { type: 'string' }, resume: { type: 'boolean' }, cache: { type: 'string' },
    threads: { type: 'string' }, help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.train);
  if (!values.data) fail('train needs --data DIR');
  const recipe = recipeOf(values);
  const protocol = protocolOf(values.protocol, values.fold, values['test-actors'], 'folds');
  const patience = values.patience === undefined ? undefined : intOpt(values.patience, 'patience', 1);
  const valActors = values['val-actors'] === undefined ? undefined : actorList(values['val-actors'], 'val-actors');
  if ((valActors || patience) && !recipe.validation) fail('--val-actors and --patience need a recipe with validation (--recipe improved)');
  enableThreads(intOpt(values.threads, 'threads', availableParallelism()));
  runExperiment({
    data: values.data, recipe, protocol, seed: seedOpt(values.seed), valActors, patience, out: values.out, checkpoint: values.checkpoint,
    resume: values.resume, cache: values.cache, log: (line) => process.stderr.write(`${line}\n`), print: (line) => console.log(line),
  });
}

function robustnessCommand(args: string[]): void {
  const { values } = parseArgs({ args, options: {
    data: { type: 'string' }, weights: { type: 'string', multiple: true }, protocol: { type: 'string' }, fold: { type: 'string' }, 'test-actors': { type: 'string' },
    conditions: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.robustness);
  if (!values.data) fail('robustness needs --data DIR');
  if (!values.weights) fail('robustness needs --weights FILE (per fold: the --out given to ser train)');
  const protocol = protocolOf(values.protocol, values.fold, values['test-actors'], 'folds');
  if (protocol.name === 'all') fail("--protocol all has no test clips: use folds, actors or random");
  let conditions = BENCHMARK_CONDITIONS;
  if (values.conditions === 'segmentation') {
    conditions = SEGMENTATION_CONDITIONS;
  } else if (values.conditions !== undefined) {
    const names = values.conditions.split(',').map((c) => c.trim()).filter(Boolean);
    const known = new Map([...BENCHMARK_CONDITIONS, ...SEGMENTATION_CONDITIONS].map((c) => [conditionName(c), c]));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length || !names.length) fail(`--conditions: unknown ${unknown.join(', ') || '(empty list)'}; known: ${[...known.keys()].join(', ')} (or segmentation: ${SEGMENTATION_CONDITIONS.map(conditionName).join(', ')})`);
    conditions = names.map((n) => known.get(n)!);
  }
  const report = runRobustness({
    data: values.data, weights: values.weights, protocol, conditions, seed: seedOpt(values.seed), out: values.out,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(formatRobustness(report));
  if (values.out) process.stderr.write(`report written to ${values.out}\n`);
}

function evaluateCommand(args: string[]): void {
  const { values } = parseArgs({ args, options: {
    data: { type: 'string' }, weights: { type: 'string', multiple: true }, protocol: { type: 'string' }, fold: { type: 'string' },
    'test-actors': { type: 'string' }, cache: { type: 'string' }, 'enroll-clips': { type: 'string' }, 'enroll-seed': { type: 'string' },
    'prior-seconds': { type: 'string' }, help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.evaluate);
  if (!values.data) fail('evaluate needs --data DIR');
  if (!values.weights) fail('evaluate needs --weights FILE');
  const enrolClips = values['enroll-clips'] === undefined ? undefined : intOpt(values['enroll-clips'], 'enroll-clips', 1);
  const enrolSeed = seedOpt(values['enroll-seed'], 'enroll-seed');
  const priorSeconds = priorOpt(values['prior-seconds']) ?? DEFAULT_PRIOR_SECONDS;
  if (values['prior-seconds'] !== undefined && enrolClips === undefined) fail('--prior-seconds goes with --enroll-clips');
  const protocol = protocolOf(values.protocol, values.fold, values['test-actors'], 'all');
  enableThreads();
  const recognizer = recognizerOf(values.weights);
  if (enrolClips !== undefined && !recognizer.speakerNormalized) fail('--enroll-clips goes with weights trained with --speaker-norm; these were not');
  const data = loadRavdess(values.data, values.cache ?? '.cache/features', (line) => process.stderr.write(`${line}\n`), { trim: recognizer.trim });
  let features = data.features;
  if (recognizer.speakerNormalized) {
    const prior = recognizer.speakerPrior && priorSeconds > 0 ? { norm: recognizer.speakerPrior, frames: secondsToFrames(priorSeconds) } : null;
    const norms = enrolClips === undefined ? speakerNorms(data.features, data.actors) : enrolmentNorms(data.features, data.actors, enrolClips, enrolSeed, prior);
    const how = enrolClips === undefined ? 'all of each speaker\'s clips' : `${enrolClips} random clips of each speaker (draw ${enrolSeed})${prior ? `, shrunk toward the training speakers' as if those were ${priorSeconds} s` : ''}`;
    process.stderr.write(`speaker statistics from ${how}\n`);
    features = applySpeakerNorms(data.features, data.actors, norms);
  }
  for (const { label, split } of protocolSplits(protocol, data.labels, data.actors)) {
    const idx = protocol.name === 'all' ? split.train : split.test;
    const pred = argmaxRows(recognizer.scoreClips(subset(features, idx)));
    const report = evaluate(idx.map((j) => data.labels[j]!), pred, EMOTIONS.length);
    console.log(`\n${label}: ${summary(report)}\n${formatReport(report, EMOTIONS)}`);
  }
}

/**
 * `--hop -1`: node's parseArgs reads a value that starts with a dash as an option and says only
 * "ambiguous"; joined as `--hop=-1`, the option's own check says what is wrong with it.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (/^--[a-z-]+$/.test(a) && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function exportCommand(args: string[]): void {
  const { values } = parseArgs({ args, options: { onnx: { type: 'string' }, weights: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return void console.log(HELP.export);
  if (!values.onnx) fail('export needs --onnx FILE');
  const weights = values.weights ?? BUNDLED_WEIGHTS;
  const r = loadModel(weights);
  if (r.speakerNormalized) fail(`${weights} was trained with --speaker-norm: its input needs each speaker's statistics, which an exported graph cannot carry; export weights trained without it`);
  const bytes = exportOnnx(r.model, { normalizer: r.normalizer, description: `EmotionCNN from ${basename(weights)}: input mfcc [N, 1, 40, 174] (raw MFCC, librosa's defaults at 22050 Hz${r.trim ? ', of the clip cut to its speech: ser-ts clipFeatures(y, { trim: true })' : ''}), output logits [N, 8] for ${EMOTIONS.join(', ')}` });
  writeFileAtomic(values.onnx, bytes);
  process.stderr.write(`${weights} → ${values.onnx}: ONNX opset 13, ${(bytes.length / 2 ** 20).toFixed(1)} MiB; input mfcc [N, 1, 40, 174], output logits [N, 8]${r.normalizer ? ', input normalisation inside' : ''}${r.model.deltas ? `, Δ${r.model.deltas > 1 ? '/ΔΔ' : ''} inside` : ''}${r.trim ? '; trained on clips cut to their speech: feed it clipFeatures(y, { trim: true })' : ''}\n`);
}

function convertCommand(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' } } });
  if (values.help) return void console.log(HELP.convert);
  if (positionals.length !== 2) fail('convert needs an input and an output file: ser convert model.pth model.safetensors');
  const [input, output] = positionals as [string, string];
  const r = loadModel(input);
  writeFileAtomic(output, encodeWeights(r.model, { normalizer: r.normalizer, trim: r.trim, speakerNorm: r.speakerNormalized, speakerPrior: r.speakerPrior, training: r.training }));
  process.stderr.write(`${input} → ${output}: EmotionCNN${r.model.deltas ? ` with deltas ${r.model.deltas}` : ''}, ${Object.keys(r.model.stateDict()).length} tensors\n`);
}

export function main(argv: string[]): number {
  const [command, ...raw] = argv;
  const rest = joinNegativeValues(raw);
  try {
    if (!command) {
      process.stderr.write(`${HELP.main}\n`);
      return 2;
    }
    if (command === '--version' || command === '-V') console.log(`ser-ts ${version()}`);
    else if (command === '--help' || command === '-h' || command === 'help') console.log(HELP.main);
    else if (command === 'predict') predictCommand(rest);
    else if (command === 'train') trainCommand(rest);
    else if (command === 'evaluate') evaluateCommand(rest);
    else if (command === 'robustness') robustnessCommand(rest);
    else if (command === 'convert') convertCommand(rest);
    else if (command === 'export') exportCommand(rest);
    else fail(`unknown command '${command}'\n\n${HELP.main}`);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`ser: ${(e as Error).message}\n`);
    if (!(e instanceof SerTsError) && !usage) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return usage ? 2 : 1;
  }
}
