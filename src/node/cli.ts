/**
 * The `ser` command: predict emotions of WAV files, train the EmotionCNN on RAVDESS, evaluate
 * weights. Node only. Run `ser --help` or `ser <command> --help`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SerTsError } from '../tensor/errors.js';
import { manualSeed } from '../tensor/random.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import { enableThreads } from './threads.js';
import { writeFileAtomic } from './files.js';
import { FeatureCache, extractFeatures, noisyFeatures, scanRavdess, speedFeatures, subset } from './dataset.js';
import { EMOTIONS, EMOBOX_FOLDS } from '../ser/labels.js';
import { EmotionCNN } from '../ser/model.js';
import { BUNDLED_ENSEMBLE, BUNDLED_SPEAKER_NORM_WEIGHTS, loadModel } from './model-file.js';
import { DEFAULT_PRIOR_SECONDS, EmotionRecognizer, type Recognizer, sameStatistics, secondsToFrames } from '../ser/predict.js';
import { evaluate, formatReport, type Report } from '../ser/metrics.js';
import { renderReportHtml } from '../ser/report-html.js';
import { type Split, actorSplit, foldSplit, randomSplit, validationSplit } from '../ser/splits.js';
import { type EpochStats, balancedClassWeights, keptEpoch, predictLabels, train } from '../ser/train.js';
import { InputNorm, applySpeakerNorms, enrolmentNorms, speakerNorms } from '../ser/normalize.js';
import { type Recipe, recipeByName, withoutComponents } from '../ser/recipe.js';

class UsageError extends SerTsError {}

const HELP: Record<string, string> = {
  main: `ser: speech emotion recognition (EmotionCNN over MFCC, trained on RAVDESS)

usage: ser <command> [options]

commands:
  predict FILE...      the emotion of each WAV file
  train --data DIR     train on a RAVDESS folder (Actor_NN/*.wav, any sample rate)
  evaluate --data DIR  score weights on a protocol's test clips

ser <command> --help for its options.`,
  predict: `usage: ser predict FILE... [--json] [--weights FILE] [--enroll FILE]... [--same-speaker] [--hop SECONDS] [--threads N]

  --json           one JSON object per line: {"file", "label", "probabilities", "seconds", "windows"}
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
  --threads N      worker threads for the kernels (default 1: one clip at a time is faster on one
                   thread, 3.9 against 4.7 ms an inference here, and needs no workers started)`,
  train: `usage: ser train --data DIR [options]

  --data DIR          RAVDESS speech clips, official layout (Actor_NN/03-01-EE-II-SS-RR-AA.wav)
  --protocol P        random: stratified 80/20 (seed 42), folds: EmoBox speaker-independent folds,
                      actors: hold out --test-actors, all: every clip, no test (for deployable
                      weights). Default: folds
  --fold K            with folds: only fold K (1-6); default: all six in turn
  --test-actors LIST  with actors: the held-out actors, e.g. 1,2,23
  --recipe R          original: the original project's recipe, exactly (default);
                      improved: input normalisation, mild noise/shift/gain/mask augmentation,
                      label smoothing 0.1, cosine learning rate, 40 epochs, best epoch chosen on
                      two validation actors taken from the training side (10% of it with random);
                      heavy: the first improved recipe tried (stronger augmentation, 30 epochs)
  --without LIST      switch parts of the recipe off, e.g. noise,masks (normalize, noise, shift,
                      gain, masks, smoothing, cosine, validation)
  --mixup ALPHA       add mixup: batches blended with a shuffled copy, λ ~ Beta(ALPHA, ALPHA)
                      (0.2-0.4 is usual; default: the recipe's, 0 = off)
  --speaker-norm      standardise each speaker's clips with that speaker's own statistics (test
                      speakers' too, from their unlabelled clips: a speaker-adaptive protocol;
                      such weights are scored by evaluate, not by predict)
  --enrolment-copies N  with --speaker-norm: N extra copies of the training clips normalised with
                      statistics of only 1, 2, 4 or 8 random clips of each speaker (as an enrolled
                      speaker's are), drawn half the time
  --balance           weight the loss per class so that every emotion counts alike (as UAR does;
                      RAVDESS has half as many neutral clips as any other emotion)
  --deltas N          add the MFCC's Δ (N = 1) or Δ and ΔΔ (N = 2) as input channels: the model
                      computes them from its MFCC input (HTK's regression over 9 frames), conv1
                      takes 1 + N channels
  --speaker-swap P    with chance P, a training clip takes on another training speaker's cepstral
                      mean and spread (its deviations from its own speaker's kept): many speakers'
                      statistics for every emotion; test clips untouched (one clip at a time)
  --swa K             stochastic weight averaging: the last K epochs run at a constant learning
                      rate (--swa-lr, default half of --lr; the schedule before them ends there),
                      the weights after each are averaged, batch-norm statistics recomputed on the
                      clean training clips (needs --without validation)
  --swa-lr X          the learning rate of the averaged epochs
  --teacher FILE      distillation: learn also from these weights' softened probabilities on each
                      training batch (repeat it for several, their mean is the target; {fold} in the
                      name stands for the fold number). Each must have been trained on the same
                      split, which its metadata records, with the same input normalisation
  --distill-weight A  the teachers' share of the loss, default 0.5
  --temperature T     softens teacher and student alike, default 2
  --weight-decay X    decoupled weight decay (AdamW, as torch.optim.AdamW's weight_decay): each
                      step also shrinks every parameter by lr · X of itself (default 0: Adam)
  --dropout P         the dropout before the last layer, in [0, 1) (default 0.3, the original's)
  --speed LIST        add speed perturbation: training clips also drawn (half the time) played
                      at one of these speeds, e.g. 0.9,1.1 (pitch and tempo together)
  --val-actors LIST   validation actors (default: one male and one female drawn from training)
  --patience N        stop after N epochs without a better validation UAR (default: never)
  --epochs N          default: the recipe's (40 original and improved, 30 heavy)
  --batch-size N      default 32
  --lr X              Adam learning rate, default 0.0005
  --seed S            weights, shuffling and augmentation seed, default 0
  --out FILE          final weights (safetensors); with several folds, FILE gets -foldK before .safetensors
  --checkpoint FILE   checkpoint after every epoch (written atomically); default: OUT.ckpt
  --resume            continue from the checkpoint
  --cache DIR         feature cache, default .cache/features
  --threads N         worker threads for the kernels, default: all cores`,
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

function predictCommand(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    json: { type: 'boolean' }, weights: { type: 'string', multiple: true }, hop: { type: 'string' }, threads: { type: 'string' }, enroll: { type: 'string', multiple: true },
    'prior-seconds': { type: 'string' }, 'same-speaker': { type: 'boolean' },
    help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.predict);
  if (!positionals.length) fail('predict needs at least one WAV file');
  enableThreads(intOpt(values.threads, 'threads', 1));
  const enrolment = [...(values.enroll ?? []), ...(values['same-speaker'] ? positionals : [])];
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
        return readFileSync(file);
      } catch (e) {
        return fail(`enrolment clip ${file}: ${(e as Error).message}`);
      }
    });
    speaker = model.enroll(clips, { priorSeconds, names: enrolment });
  }
  let failed = 0;
  for (const file of positionals) {
    try {
      const p = model.predict(readFileSync(file), { hopSeconds, speaker });
      if (values.json) {
        console.log(JSON.stringify({ file, label: p.label, probabilities: p.probabilities, seconds: +p.seconds.toFixed(3), windows: p.windows }));
      } else {
        const top = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([e, v]) => `${e} ${(100 * v).toFixed(1)}%`).join(', ');
        console.log(`${file}: ${p.label}  (${top}; ${p.seconds.toFixed(1)} s${p.windows.length ? `, ${p.windows.length} windows` : ''})`);
      }
    } catch (e) {
      failed++;
      process.stderr.write(`ser: ${file}: ${(e as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}

interface Protocol {
  name: string;
  splits: { label: string; split: Split }[];
}

function actorList(v: string, name: string): number[] {
  const list = v.split(',').map((a) => Number(a.trim()));
  if (!list.length || list.some((a) => !Number.isInteger(a) || a < 1 || a > 24)) fail(`--${name} must be a comma-separated list of actor numbers 1-24, got '${v}'`);
  return list;
}

function protocolOf(p: string | undefined, foldArg: string | undefined, testActors: string | undefined, labels: number[], actors: number[], dflt: string): Protocol {
  const name = p ?? dflt;
  if (testActors !== undefined && name !== 'actors') fail('--test-actors goes with --protocol actors');
  if (name === 'actors') {
    if (testActors === undefined) fail('--protocol actors needs --test-actors LIST');
    const held = actorList(testActors, 'test-actors');
    return { name, splits: [{ label: `test actors ${held.join(', ')}`, split: actorSplit(actors, held) }] };
  }
  const all = labels.map((_, i) => i);
  if (name === 'all') return { name, splits: [{ label: 'all clips', split: { train: all, test: [] } }] };
  if (name === 'random') return { name, splits: [{ label: 'random 80/20', split: randomSplit(labels, 0.2, 42) }] };
  if (name === 'folds') {
    const folds = foldArg === undefined ? EMOBOX_FOLDS.map((_, i) => i + 1) : [intOpt(foldArg, 'fold', 1)];
    return { name, splits: folds.map((k) => ({ label: `fold ${k} (test actors ${EMOBOX_FOLDS[k - 1]?.join(', ')})`, split: foldSplit(actors, k) })) };
  }
  return fail(`--protocol must be random, folds, actors or all, got '${name}'`);
}

function loadData(dir: string, cacheDir: string) {
  const items = scanRavdess(dir, warn);
  process.stderr.write(`${items.length} RAVDESS clips under ${dir}; extracting features (cache: ${cacheDir})\n`);
  const t0 = Date.now();
  const data = extractFeatures(items, {
    cache: new FeatureCache(cacheDir),
    warn,
    progress: (d, n) => {
      if (d % 200 === 0 || d === n) process.stderr.write(`  features ${d}/${n}\n`);
    },
  });
  process.stderr.write(`features ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return data;
}

const summary = (r: Report) => `accuracy ${(100 * r.accuracy).toFixed(1)}%, UAR ${(100 * r.uar).toFixed(1)}% (n = ${r.n})`;

function recipeOf(values: {
  recipe?: string; without?: string; epochs?: string; 'batch-size'?: string; lr?: string; mixup?: string; speed?: string; 'speaker-norm'?: boolean; 'enrolment-copies'?: string;
  deltas?: string; balance?: boolean; 'speaker-swap'?: string; swa?: string; 'swa-lr'?: string;
  teacher?: string[]; 'distill-weight'?: string; temperature?: string; 'weight-decay'?: string; dropout?: string;
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
  if (values.mixup !== undefined) {
    recipe.mixup = numOpt(values.mixup, 'mixup', recipe.mixup);
    if (recipe.mixup > 0) recipe.name += ` with mixup ${recipe.mixup}`;
  }
  if (values.speed !== undefined) {
    const factors = values.speed.split(',').map((v) => Number(v.trim()));
    if (!factors.length || factors.some((f) => !(f >= 0.5 && f <= 2))) fail(`--speed must be a list of factors in [0.5, 2], e.g. 0.9,1.1, got '${values.speed}'`);
    recipe.speed = factors;
    recipe.speedProb = 0.5;
    recipe.name += ` with speed ${factors.join(',')}`;
  }
  if (values.balance) {
    recipe.balance = true;
    recipe.name += ' with class balance';
  }
  if (values.deltas !== undefined) {
    const d = Number(values.deltas);
    if (!(d === 1 || d === 2)) fail(`--deltas must be 1 (Δ) or 2 (Δ and ΔΔ), got '${values.deltas}'`);
    recipe.deltas = d;
    recipe.name += ` with deltas ${d}`;
  }
  if (values['speaker-swap'] !== undefined) {
    const p = Number(values['speaker-swap']);
    if (!(p > 0 && p <= 1)) fail(`--speaker-swap must be a probability in (0, 1], got '${values['speaker-swap']}'`);
    if (values['speaker-norm']) fail('--speaker-swap re-colours clips with other speakers\' statistics, which --speaker-norm removes: use one or the other');
    recipe.speakerSwap = p;
    recipe.name += ` with speaker swap ${p}`;
  }
  if (values['swa-lr'] !== undefined && values.swa === undefined) fail('--swa-lr goes with --swa');
  if (values.swa !== undefined) {
    const epochs = intOpt(values.swa, 'swa', 1);
    if (epochs > recipe.epochs) fail(`--swa ${epochs} averages more epochs than the run has (${recipe.epochs})`);
    if (recipe.validation) fail('--swa averages the last epochs, validation keeps the best one: add --without validation');
    const lr = numOpt(values['swa-lr'], 'swa-lr', recipe.lr / 2);
    if (!(lr > 0)) fail(`--swa-lr must be positive, got '${values['swa-lr']}'`);
    recipe.swa = { epochs, lr };
    recipe.name += ` with swa ${epochs}${values['swa-lr'] !== undefined ? ` at ${lr}` : ''}`;
  }
  if ((values['distill-weight'] !== undefined || values.temperature !== undefined) && !values.teacher?.length) fail('--distill-weight and --temperature go with --teacher');
  if (values.teacher?.length) {
    const weight = numOpt(values['distill-weight'], 'distill-weight', 0.5);
    const temperature = numOpt(values.temperature, 'temperature', 2);
    if (!(weight > 0 && weight <= 1)) fail(`--distill-weight must be in (0, 1], got '${values['distill-weight']}'`);
    if (!(temperature > 0)) fail(`--temperature must be positive, got '${values.temperature}'`);
    recipe.distill = { teachers: values.teacher, weight, temperature };
    recipe.name += ` with distillation ${weight} T ${temperature}`;
  }
  if (values['weight-decay'] !== undefined) {
    const wd = Number(values['weight-decay']);
    if (!(wd >= 0 && Number.isFinite(wd))) fail(`--weight-decay must be a non-negative number, got '${values['weight-decay']}'`);
    if (wd > 0) {
      recipe.weightDecay = wd;
      recipe.name += ` with weight decay ${wd}`;
    }
  }
  if (values.dropout !== undefined) {
    const p = Number(values.dropout);
    if (!(p >= 0 && p < 1)) fail(`--dropout must be a probability in [0, 1), got '${values.dropout}'`);
    recipe.dropout = p;
    recipe.name += ` with dropout ${p}`;
  }
  if (values['speaker-norm']) {
    recipe.speakerNorm = true;
    recipe.name += ' with speaker normalisation';
  }
  if (values['enrolment-copies'] !== undefined) {
    if (!recipe.speakerNorm) fail('--enrolment-copies goes with --speaker-norm');
    recipe.enrolmentCopies = intOpt(values['enrolment-copies'], 'enrolment-copies', 1);
    recipe.name += ` with enrolment copies ${recipe.enrolmentCopies}`;
  }
  return recipe;
}

/**
 * The teachers of one split: each file (`{fold}` replaced by the fold number) must have been
 * trained on this very split, which its metadata records, and normalise its input as the student
 * does; a teacher that heard this split's test actors would leak them into the student.
 */
function loadTeachers(paths: readonly string[], fold: number | null, split: string, normalizer: InputNorm | null, speakerNorm: boolean): { path: string; model: EmotionCNN }[] {
  return paths.map((pattern) => {
    if (pattern.includes('{fold}') && fold === null) fail(`--teacher ${pattern}: {fold} needs --protocol folds`);
    const path = pattern.replaceAll('{fold}', String(fold));
    if (!existsSync(path)) fail(`--teacher: weights file '${path}' does not exist`);
    let recognizer: EmotionRecognizer;
    let trainedOn: string | undefined;
    try {
      const bytes = readFileSync(path);
      recognizer = EmotionRecognizer.fromSafetensors(bytes);
      trainedOn = loadSafetensors(bytes).metadata.split;
    } catch (e) {
      return fail(`--teacher ${path}: ${(e as Error).message}`);
    }
    if (trainedOn !== split) fail(`--teacher ${path} was trained on '${trainedOn ?? 'an unrecorded split'}', not on '${split}': a teacher must not have heard this split's test clips`);
    if (recognizer.speakerNormalized !== speakerNorm) fail(`--teacher ${path} was trained ${recognizer.speakerNormalized ? 'with' : 'without'} --speaker-norm, the student ${speakerNorm ? 'with' : 'without'}`);
    if (!sameStatistics(recognizer.normalizer, normalizer)) fail(`--teacher ${path} normalises its input differently from the student (another recipe or other training clips)`);
    return { path, model: recognizer.model };
  });
}

function trainCommand(args: string[]): void {
  const { values } = parseArgs({ args, options: {
    data: { type: 'string' }, protocol: { type: 'string' }, fold: { type: 'string' }, 'test-actors': { type: 'string' }, epochs: { type: 'string' },
    'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
    recipe: { type: 'string' }, without: { type: 'string' }, mixup: { type: 'string' }, speed: { type: 'string' }, 'speaker-norm': { type: 'boolean' }, 'enrolment-copies': { type: 'string' },
    deltas: { type: 'string' }, balance: { type: 'boolean' }, 'speaker-swap': { type: 'string' }, swa: { type: 'string' }, 'swa-lr': { type: 'string' }, 'weight-decay': { type: 'string' }, dropout: { type: 'string' },
    teacher: { type: 'string', multiple: true }, 'distill-weight': { type: 'string' }, temperature: { type: 'string' }, 'val-actors': { type: 'string' }, patience: { type: 'string' },
    checkpoint: { type: 'string' }, resume: { type: 'boolean' }, cache: { type: 'string' }, threads: { type: 'string' },
    help: { type: 'boolean' },
  } });
  if (values.help) return void console.log(HELP.train);
  if (!values.data) fail('train needs --data DIR');
  const recipe = recipeOf(values);
  const seed = seedOpt(values.seed);
  const patience = values.patience === undefined ? undefined : intOpt(values.patience, 'patience', 1);
  const valActorsArg = values['val-actors'] === undefined ? undefined : actorList(values['val-actors'], 'val-actors');
  if ((valActorsArg || patience) && !recipe.validation) fail('--val-actors and --patience need a recipe with validation (--recipe improved)');
  enableThreads(intOpt(values.threads, 'threads', availableParallelism()));
  const cacheDir = values.cache ?? '.cache/features';
  const data = loadData(values.data, cacheDir);
  const protocol = protocolOf(values.protocol, values.fold, values['test-actors'], data.labels, data.actors, 'folds');
  if (recipe.validation && protocol.name === 'all' && !valActorsArg) {
    process.stderr.write('note: protocol all trains on every clip; without --val-actors there is no validation, the last epoch is kept\n');
    recipe.validation = false;
  }
  const out = values.out ?? `emotion-cnn-${protocol.name}.safetensors`;
  // speaker normalisation: every clip standardised with its own speaker's statistics
  const spk = recipe.speakerNorm ? speakerNorms(data.features, data.actors) : null;
  const features = spk ? applySpeakerNorms(data.features, data.actors, spk) : data.features;
  const bySpeaker = (copies: Float32Array, idx: readonly number[]) => (spk ? applySpeakerNorms(copies, idx.map((j) => data.actors[j]!), spk) : copies);
  const reports: { label: string; report: Report; valActors?: number[]; keptEpoch?: number; valUar?: number }[] = [];
  for (const [i, { label, split }] of protocol.splits.entries()) {
    const suffix = protocol.splits.length > 1 ? `-fold${protocol.name === 'folds' && values.fold === undefined ? i + 1 : values.fold}` : '';
    const weightsFile = suffix ? out.replace(/(\.safetensors)?$/, `${suffix}.safetensors`) : out;
    const ckpt = values.checkpoint ? values.checkpoint.replace(/(\.ckpt)?$/, `${suffix}.ckpt`) : `${weightsFile}.ckpt`;
    const val = recipe.validation
      ? validationSplit(split.train, data.labels, data.actors, { byActor: protocol.name !== 'random', valActors: valActorsArg, seed })
      : { train: split.train, validation: [], valActors: [] };
    const trainFeatures = subset(features, val.train);
    const trainSpeakers = val.train.map((j) => data.actors[j]!);
    process.stderr.write(`\n== ${label}: ${val.train.length} training clips, ${val.validation.length} validation clips${val.valActors.length ? ` (actors ${val.valActors.join(', ')})` : ''}, ${split.test.length} test clips; recipe ${recipe.name}\n`);
    const normalizer = recipe.normalize ? InputNorm.fit(trainFeatures) : null;
    let noisy: Float32Array | null = null;
    if (recipe.noise) {
      const t0 = Date.now();
      noisy = bySpeaker(noisyFeatures(val.train.map((j) => data.items[j]!), { seed, snrDb: recipe.noiseSnrDb, cache: new FeatureCache(cacheDir) }), val.train);
      process.stderr.write(`noisy copies of the training clips ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    const speed: Float32Array[] = [];
    for (const factor of recipe.speed ?? []) {
      const t0 = Date.now();
      speed.push(bySpeaker(speedFeatures(val.train.map((j) => data.items[j]!), factor, { cache: new FeatureCache(cacheDir) }), val.train));
      process.stderr.write(`speed ×${factor} copies of the training clips ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    // the training speakers' pooled raw statistics: what enrolling a new speaker shrinks toward
    const speakerPrior = spk ? InputNorm.fit(subset(data.features, val.train)) : null;
    // copies normalised as an enrolled speaker is: from a few clips, shrunk toward that prior
    const enrolled: Float32Array[] = [];
    if (speakerPrior && recipe.enrolmentCopies) {
      const raw = subset(data.features, val.train);
      const prior = { norm: speakerPrior, frames: secondsToFrames(DEFAULT_PRIOR_SECONDS) };
      for (let e = 0; e < recipe.enrolmentCopies; e++) {
        enrolled.push(applySpeakerNorms(raw, trainSpeakers, enrolmentNorms(raw, trainSpeakers, [1, 2, 4, 8][e % 4]!, seed * 1000 + e, prior)));
      }
    }
    const teachers = recipe.distill ? loadTeachers(recipe.distill.teachers, protocol.name === 'folds' ? Number(values.fold ?? i + 1) : null, label, normalizer, recipe.speakerNorm) : [];
    manualSeed(seed);
    const model = new EmotionCNN({ deltas: recipe.deltas ?? 0, dropout: recipe.dropout });
    let resume: Uint8Array | undefined;
    if (values.resume) {
      try {
        resume = readFileSync(ckpt);
        process.stderr.write(`resuming from ${ckpt}\n`);
      } catch {
        fail(`--resume: no checkpoint at ${ckpt}`);
      }
    }
    const history: EpochStats[] = train(model, { features: trainFeatures, labels: val.train.map((j) => data.labels[j]!) }, {
      epochs: recipe.epochs, batchSize: recipe.batchSize, lr: recipe.lr, seed, resume,
      normalizer, noisy, noiseProb: recipe.noiseProb, augment: recipe.augment,
      c0Scale: spk ? val.train.map((j) => 1 / spk.get(data.actors[j]!)!.std[0]!) : null, labelSmoothing: recipe.labelSmoothing,
      speakerSwap: recipe.speakerSwap ? { speakers: trainSpeakers, norms: speakerNorms(trainFeatures, trainSpeakers), prob: recipe.speakerSwap } : null,
      classWeights: recipe.balance ? balancedClassWeights(val.train.map((j) => data.labels[j]!)) : null, mixup: recipe.mixup, speed, speedProb: recipe.speedProb, enrolled, schedule: recipe.schedule, patience, swa: recipe.swa ?? null, weightDecay: recipe.weightDecay ?? 0,
      distill: recipe.distill ? { teachers: teachers.map((t) => t.model), weight: recipe.distill.weight, temperature: recipe.distill.temperature } : null,
      validation: val.validation.length ? { features: subset(features, val.validation), labels: val.validation.map((j) => data.labels[j]!) } : null,
      onEpoch: (s, checkpoint) => {
        writeFileAtomic(ckpt, checkpoint());
        const v = s.valUar === undefined ? '' : `  val acc ${(100 * s.valAccuracy!).toFixed(1)}% UAR ${(100 * s.valUar).toFixed(1)}%`;
        process.stderr.write(`epoch ${String(s.epoch).padStart(3)}/${s.epochs}  loss ${s.loss.toFixed(4)}  train acc ${(100 * s.accuracy).toFixed(1)}%${v}  lr ${s.lr.toExponential(2)}  ${s.seconds.toFixed(1)} s  ${s.samplesPerSecond.toFixed(1)} samples/s\n`);
      },
    });
    const kept = keptEpoch(history);
    if (recipe.validation && kept) process.stderr.write(`kept epoch ${kept.epoch} (validation UAR ${(100 * kept.valUar!).toFixed(1)}%)\n`);
    if (recipe.swa) process.stderr.write(`weights averaged over the last ${recipe.swa.epochs} epochs; batch-norm statistics recomputed on the ${val.train.length} clean training clips\n`);
    writeFileAtomic(weightsFile, saveSafetensors(model.stateDict(), { metadata: {
      kind: 'ser-ts EmotionCNN', protocol: protocol.name, split: label, recipe: JSON.stringify(recipe), epochs: String(recipe.epochs), seed: String(seed),
      emotions: EMOTIONS.join(','), deltas: String(recipe.deltas ?? 0), ...(normalizer?.toMetadata() ?? {}),
      ...(speakerPrior ? { speaker_norm: 'true', ...speakerPrior.toMetadata('speaker_prior') } : {}),
    } }));
    process.stderr.write(`weights written to ${weightsFile}\n`);
    let report: Report | undefined;
    if (split.test.length) {
      const pred = predictLabels(model, subset(features, split.test), 64, normalizer);
      report = evaluate(split.test.map((j) => data.labels[j]!), pred, EMOTIONS.length);
      reports.push({ label, report, ...(recipe.validation ? { valActors: val.valActors, keptEpoch: kept?.epoch, valUar: kept?.valUar } : {}) });
      console.log(`\n${label}: ${summary(report)}\n${formatReport(report, EMOTIONS)}`);
    }
    const html = weightsFile.replace(/(\.safetensors)?$/, '.report.html');
    writeFileAtomic(html, renderReportHtml({
      title: `EmotionCNN, ${protocol.name}: ${label}`, names: EMOTIONS, report, history,
      notes: [
        `Recipe ${recipe.name}: ${val.train.length} training clips, ${val.validation.length} validation clips, ${split.test.length} test clips; ${recipe.epochs} epochs, batch ${recipe.batchSize}, ${recipe.weightDecay ? `AdamW (weight decay ${recipe.weightDecay})` : 'Adam'} lr ${recipe.lr}${recipe.schedule === 'cosine' ? ' (cosine)' : ''}, seed ${seed}.`,
        ...(recipe.validation && kept ? [`Kept epoch ${kept.epoch}, the best by validation UAR (${(100 * kept.valUar!).toFixed(1)}%).`] : []),
        ...(recipe.distill ? [`Distilled from ${teachers.length} teacher(s) (${teachers.map((t) => t.path).join(', ')}), weight ${recipe.distill.weight}, temperature ${recipe.distill.temperature}.`] : []),
        ...(recipe.swa ? [`Weights averaged over the last ${recipe.swa.epochs} epochs (run at lr ${recipe.swa.lr}); batch-norm statistics recomputed on the clean training clips.`] : []),
      ],
    }));
    process.stderr.write(`report page written to ${html}\n`);
  }
  if (reports.length) {
    const mean = (f: (r: Report) => number) => reports.reduce((s, r) => s + f(r.report), 0) / reports.length;
    if (reports.length > 1) console.log(`\nmean over ${reports.length} folds: accuracy ${(100 * mean((r) => r.accuracy)).toFixed(1)}%, UAR ${(100 * mean((r) => r.uar)).toFixed(1)}%`);
    const reportFile = join(dirname(out), `${basename(out).replace(/\.safetensors$/, '')}.report.json`);
    writeFileAtomic(reportFile, `${JSON.stringify({ protocol: protocol.name, recipe, epochs: recipe.epochs, batchSize: recipe.batchSize, lr: recipe.lr, seed, reports }, null, 1)}\n`);
    process.stderr.write(`report written to ${reportFile}\n`);
  }
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
  enableThreads();
  const recognizer = recognizerOf(values.weights);
  if (enrolClips !== undefined && !recognizer.speakerNormalized) fail('--enroll-clips goes with weights trained with --speaker-norm; these were not');
  const data = loadData(values.data, values.cache ?? '.cache/features');
  const protocol = protocolOf(values.protocol, values.fold, values['test-actors'], data.labels, data.actors, 'all');
  let features = data.features;
  if (recognizer.speakerNormalized) {
    const prior = recognizer.speakerPrior && priorSeconds > 0 ? { norm: recognizer.speakerPrior, frames: secondsToFrames(priorSeconds) } : null;
    const norms = enrolClips === undefined ? speakerNorms(data.features, data.actors) : enrolmentNorms(data.features, data.actors, enrolClips, enrolSeed, prior);
    const how = enrolClips === undefined ? 'all of each speaker\'s clips' : `${enrolClips} random clips of each speaker (draw ${enrolSeed})${prior ? `, shrunk toward the training speakers' as if those were ${priorSeconds} s` : ''}`;
    process.stderr.write(`speaker statistics from ${how}\n`);
    features = applySpeakerNorms(data.features, data.actors, norms);
  }
  for (const { label, split } of protocol.splits) {
    const idx = protocol.name === 'all' ? split.train : split.test;
    const p = recognizer.scoreClips(subset(features, idx));
    const k = EMOTIONS.length;
    const pred = idx.map((_, i) => p.subarray(i * k, (i + 1) * k).reduce((best, v, c, row) => (v > row[best]! ? c : best), 0));
    const report = evaluate(idx.map((j) => data.labels[j]!), pred, k);
    console.log(`\n${label}: ${summary(report)}\n${formatReport(report, EMOTIONS)}`);
  }
}

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') console.log(HELP.main);
    else if (command === 'predict') predictCommand(rest);
    else if (command === 'train') trainCommand(rest);
    else if (command === 'evaluate') evaluateCommand(rest);
    else fail(`unknown command '${command}'\n\n${HELP.main}`);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`ser: ${(e as Error).message}\n`);
    if (!(e instanceof SerTsError) && !usage) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return usage ? 2 : 1;
  }
}
