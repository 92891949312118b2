/** The `ser` command, run as a user runs it: exit codes, messages and JSON output. */
import { existsSync, mkdirSync, mkdtempSync as makeTemp, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { audio, loadSafetensors, manualSeed, saveSafetensors, ser } from '../../src/index.js';
import { BUNDLED_WEIGHTS } from '../../src/node.js';
import { fixturePath } from '../helpers/fixtures.js';
import { run } from '../helpers/spawn.js';

/** `ser ARGS` in a child process, without blocking this worker (vitest keeps talking to it meanwhile). */
async function runSer(...args: string[]) {
  const r = await run(process.execPath, ['--import', 'tsx', 'src/node/bin.ts', ...args]);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

// every temporary folder the tests make, removed when they are done
const temps: string[] = [];
const mkdtempSync = (prefix: string) => {
  const d = makeTemp(prefix);
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A RAVDESS folder of the given actors, each with the stage clip twice: as strong angry (05-02) and as `second` (emotion-intensity). */
function ravdessFolder(actors: readonly string[], second: string): string {
  const data = mkdtempSync(join(tmpdir(), 'ser-cli-data-'));
  const wav = readFileSync(fixturePath('audio/stage.wav'));
  for (const a of actors) {
    mkdirSync(join(data, `Actor_${a}`));
    writeFileSync(join(data, `Actor_${a}`, `03-01-05-02-01-01-${a}.wav`), wav);
    writeFileSync(join(data, `Actor_${a}`, `03-01-${second}-01-01-${a}.wav`), wav);
  }
  return data;
}

const dir = mkdtempSync(join(tmpdir(), 'ser-cli-'));
manualSeed(3);
const weights = join(dir, 'w.safetensors');
writeFileSync(weights, saveSafetensors(new ser.EmotionCNN().stateDict()));

describe('ser CLI', () => {
  it('--help lists the commands; each command has its own help', async () => {
    const r = await runSer('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/predict FILE\.\.\./);
    expect((await runSer('train', '--help')).out).toMatch(/--protocol P/);
  });
  it('usage errors exit with 2 and say what is wrong', async () => {
    const r = await runSer('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'frobnicate'/);
    expect((await runSer('train')).err).toMatch(/train needs --data DIR/);
    expect((await runSer('train', '--data', dir, '--epochs', 'x')).code).toBe(2);
    const bare = await runSer();
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/usage: ser <command>/);
    expect((await runSer('--version')).out).toMatch(/^ser-ts \d+\.\d+\.\d+\n$/);
    const hop = await runSer('predict', '--hop', '-1', fixturePath('audio/stage.wav'));
    expect(hop.code).toBe(2);
    expect(hop.err).toBe("ser: --hop must be a positive number, got '-1'\n");
    const folder = await runSer('predict', '--weights', dir, fixturePath('audio/stage.wav'));
    expect(folder.code).toBe(1);
    expect(folder.err).toMatch(/^ser: weights '.*' is not a file \(a folder\?\)/);
    expect(folder.err).not.toMatch(/\n\s+at /); // no stack trace
    const threads = await runSer('predict', 'x.wav', '--threads', '0');
    expect(threads.code).toBe(2);
    expect(threads.err).toMatch(/--threads must be a positive integer, got '0'/);
  });
  it('flags of experiments that left the product are unknown options, and a bad protocol is refused before any clip is read', async () => {
    for (const flag of ['--mixup=0.2', '--speed=0.9,1.1', '--speaker-swap=0.5', '--swa=5', '--teacher=x', '--weight-decay=0.1', '--dropout=0.5']) {
      const r = await runSer('train', '--data', join(dir, 'nowhere'), flag);
      expect(r.code, flag).toBe(2);
      expect(r.err, flag).toMatch(/Unknown option/);
    }
    expect((await runSer('train', '--data', join(dir, 'nowhere'), '--recipe', 'heavy')).err).toMatch(/recipe must be one of original, improved, got 'heavy'/);
    for (const [args, message] of [[['--protocol', 'bogus'], /protocol must be folds, random, actors, all, got 'bogus'/], [['--fold', '7'], /fold must be 1–6, got 7/], [['--protocol', 'actors'], /needs test actors/]] as const) {
      // the data folder does not exist: the protocol is checked first
      const r = await runSer('train', '--data', join(dir, 'nowhere'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
    }
  });
  it('predict takes a folder, a quoted pattern and standard input; failed files get a JSON record too', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ser-cli-predict-'));
    mkdirSync(join(folder, 'sub'));
    writeFileSync(join(folder, 'sub', 'b.wav'), readFileSync(fixturePath('audio/stage.wav')));
    writeFileSync(join(folder, 'a.wav'), 'not a wave');
    writeFileSync(join(folder, 'notes.txt'), 'ignored');
    const r = await run(process.execPath, ['--import', 'tsx', 'src/node/bin.ts', 'predict', '--json', '--weights', weights, folder, join(folder, 'sub', '*.wav'), '-'], {});
    expect(r.code).toBe(1); // one file failed
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; label?: string; error?: string });
    expect(lines.map((l) => l.file)).toEqual([join(folder, 'a.wav'), join(folder, 'sub', 'b.wav'), join(folder, 'sub', 'b.wav'), '-']);
    expect(lines[0]!.error).toMatch(/not a WAV file/);
    expect(lines[3]!.error).toMatch(/empty|shorter than a RIFF header/); // standard input was empty here
    expect(ser.EMOTIONS).toContain(lines[1]!.label);
    expect((await runSer('predict', join(folder, '*.flac'))).err).toMatch(/\*\.flac: no file matches/);
  });
  it('predict: a clip without speech gets no emotion and is not a failure', async () => {
    const silence = join(dir, 'silence.wav');
    writeFileSync(silence, audio.encodeWav([new Float32Array(22050)], 22050));
    const j = await runSer('predict', '--json', '--weights', weights, silence);
    expect(j.code, j.err).toBe(0);
    expect(JSON.parse(j.out)).toMatchObject({ label: null, speech: false, probabilities: null });
    const t = await runSer('predict', '--weights', weights, silence);
    expect(t.out).toMatch(/silence\.wav: no speech detected/);
  });
  it('predict --json prints one object per file; a bad file fails alone, named', async () => {
    const r = await runSer('predict', '--json', '--weights', weights, fixturePath('audio/stage.wav'), join(dir, 'missing.wav'));
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { file: string; label: string; probabilities: Record<string, number>; error?: string });
    expect(lines.length).toBe(2);
    expect(lines[1]!.error).toMatch(/no such file/i);
    expect(lines[0]!.file).toMatch(/stage\.wav$/);
    expect(ser.EMOTIONS).toContain(lines[0]!.label);
    expect(Object.values(lines[0]!.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(r.err).toMatch(/missing\.wav: .*no such file/i);
  });
  it('train writes weights, a checkpoint and a report page; --resume continues from the checkpoint', async () => {
    const data = mkdtempSync(join(tmpdir(), 'ser-cli-data-'));
    mkdirSync(join(data, 'Actor_03'));
    writeFileSync(join(data, 'Actor_03', '03-01-05-02-01-01-03.wav'), readFileSync(fixturePath('audio/stage.wav')));
    writeFileSync(join(data, 'Actor_03', '03-01-04-02-01-01-03.wav'), readFileSync(fixturePath('audio/stage.wav')));
    const out = join(dir, 'trained.safetensors');
    const common = ['train', '--data', data, '--protocol', 'all', '--out', out, '--cache', join(dir, 'cache'), '--threads', '1'];
    const first = await runSer(...common, '--epochs', '1');
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/epoch {3}1\/1/);
    expect(existsSync(out) && existsSync(`${out}.ckpt`) && existsSync(join(dir, 'trained.report.html'))).toBe(true);
    const resumed = await runSer(...common, '--epochs', '2', '--resume');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(/resuming from/);
    expect(resumed.err).toMatch(/epoch {3}2\/2/);
    expect(resumed.err).not.toMatch(/epoch {3}1\/2/);
  });

  it('train --recipe improved holds out test and validation actors and stores the normaliser with the weights', async () => {
    const data = ravdessFolder(['03', '04', '05', '06'], '04-02');
    const out = join(dir, 'improved.safetensors');
    const r = await runSer('train', '--data', data, '--protocol', 'actors', '--test-actors', '3', '--recipe', 'improved', '--without', 'masks',
      '--epochs', '1', '--out', out, '--cache', join(dir, 'cache'), '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 training clips, 4 validation clips \(actors (4, 5|5, 6)\), 2 test clips; recipe improved without masks/);
    expect(r.err).toMatch(/val acc .* UAR/);
    expect(r.err).toMatch(/kept epoch 1/);
    const report = JSON.parse(readFileSync(join(dir, 'improved.report.json'), 'utf8')) as { recipe: { name: string }; reports: { valActors: number[] }[] };
    expect(report.recipe.name).toBe('improved without masks');
    expect(report.reports[0]!.valActors.length).toBe(2);
    const model = ser.EmotionRecognizer.fromSafetensors(readFileSync(out));
    expect(model.normalizer).not.toBeNull();
    const bad = await runSer('train', '--data', data, '--recipe', 'improved', '--without', 'dropout');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown recipe component 'dropout'/);
    expect((await runSer('train', '--data', data, '--patience', '3')).err).toMatch(/need a recipe with validation/);
    expect((await runSer('train', '--data', data, '--protocol', 'actors')).err).toMatch(/needs test actors/);
    expect((await runSer('train', '--data', data, '--protocol', 'actors', '--test-actors', '3,x')).err).toMatch(/actor numbers 1-24/);
  });

  it('train --degrade 1 --trim, then ser robustness scores the held-out clips clean, under conditions and segmented', async () => {
    const data = ravdessFolder(['03', '04', '05'], '04-02');
    const out = join(dir, 'robust.safetensors');
    const r = await runSer('train', '--data', data, '--protocol', 'actors', '--test-actors', '3', '--recipe', 'improved', '--without', 'validation',
      '--degrade', '1', '--trim', '--epochs', '1', '--out', out, '--cache', join(dir, 'cache'), '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/1 degraded copy of the training clips ready/);
    expect(r.err).toMatch(/extracting features of their speech/);
    expect(r.err).toMatch(/recipe improved without validation with degraded copies 1 with speech trimming/);
    expect(ser.EmotionRecognizer.fromBytes(readFileSync(out)).trim).toBe(true);
    const seg = await runSer('robustness', '--data', data, '--weights', out, '--protocol', 'actors', '--test-actors', '3', '--conditions', 'segmentation');
    expect(seg.code, seg.err).toBe(0);
    expect(seg.out).toMatch(/lead-1s[\s\S]*speech-only[\s\S]*excerpt-1\.5s[\s\S]*mean UAR under the 3 conditions/);
    const report = join(dir, 'robust.robustness.json');
    const b = await runSer('robustness', '--data', data, '--weights', out, '--protocol', 'actors', '--test-actors', '3',
      '--conditions', 'clean,telephone,babble-10dB,reverb-0.8s', '--out', report);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(/^condition/);
    expect(b.out).toMatch(/babble-10dB/);
    expect(b.out).toMatch(/mean UAR under the 3 conditions: \d+\.\d%/);
    const json = JSON.parse(readFileSync(report, 'utf8')) as { conditions: { name: string; uar: number[] }[]; clean: number; degraded: number };
    expect(json.conditions.map((c) => c.name)).toEqual(['clean', 'telephone', 'babble-10dB', 'reverb-0.8s']);
    expect(json.conditions.every((c) => c.uar.length === 1 && c.uar[0]! >= 0 && c.uar[0]! <= 1)).toBe(true);
    // the same seed gives the same report
    const again = await runSer('robustness', '--data', data, '--weights', out, '--protocol', 'actors', '--test-actors', '3', '--conditions', 'clean,telephone,babble-10dB,reverb-0.8s');
    expect(again.out).toBe(b.out);
    expect((await runSer('robustness', '--data', data, '--weights', out, '--conditions', 'telephone,radio')).err).toMatch(/--conditions: unknown radio; known: clean, band-16k/);
    expect((await runSer('robustness', '--data', data, '--weights', out, '--protocol', 'all')).err).toMatch(/--protocol all has no test clips/);
    expect((await runSer('robustness', '--data', data, '--weights', join(dir, 'none.safetensors'), '--fold', '1')).err).toMatch(/no weights at .*none-fold1\.safetensors|no weights at .*none\.safetensors/);
    expect((await runSer('train', '--data', data, '--recipe', 'improved', '--degrade', '0')).err).toMatch(/--degrade must be a positive integer, got '0'/);
  });

  it('train --deltas 2 --balance: conv1 takes Δ and ΔΔ channels, the weights say so, predict uses them', async () => {
    const data = ravdessFolder(['03', '04'], '01-01');
    const out = join(dir, 'deltas.safetensors');
    // --trim as the bundled weights are, so that the two make an ensemble below
    const r = await runSer('train', '--data', data, '--protocol', 'actors', '--test-actors', '3', '--recipe', 'improved', '--without', 'validation',
      '--deltas', '2', '--balance', '--trim', '--epochs', '1', '--out', out, '--cache', join(dir, 'cache'), '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/recipe improved without validation with class balance with deltas 2 with speech trimming/);
    const model = ser.EmotionRecognizer.fromSafetensors(readFileSync(out));
    expect(model.model.deltas).toBe(2);
    expect(model.model.conv1.weight.shape).toEqual([16, 3, 3, 3]);
    const p = await runSer('predict', '--json', '--weights', out, fixturePath('audio/stage.wav'));
    expect(p.code, p.err).toBe(0);
    const probs = Object.values(JSON.parse(p.out).probabilities as Record<string, number>);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // --weights twice: an ensemble, the mean of the two models' probabilities; evaluate takes it too
    const bundled = await runSer('predict', '--json', '--weights', BUNDLED_WEIGHTS, fixturePath('audio/stage.wav'));
    const both = await runSer('predict', '--json', '--weights', out, '--weights', BUNDLED_WEIGHTS, fixturePath('audio/stage.wav'));
    expect(both.code, both.err).toBe(0);
    const [pd, pb, pe] = [p, bundled, both].map((r) => JSON.parse(r.out).probabilities as Record<string, number>);
    for (const e of Object.keys(pe!)) expect(pe![e]).toBeCloseTo((pd![e]! + pb![e]!) / 2, 5);
    const ev = await runSer('evaluate', '--data', data, '--weights', out, '--weights', out, '--protocol', 'all', '--cache', join(dir, 'cache'));
    expect(ev.code, ev.err).toBe(0);
    expect(ev.out).toMatch(/all clips: accuracy [\d.]+%, UAR/);
    const bad = await runSer('train', '--data', data, '--deltas', '3');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--deltas must be 1 \(Δ\) or 2 \(Δ and ΔΔ\), got '3'/);
  });

  it('train --speaker-norm: evaluate scores the weights speaker by speaker, predict needs --enroll', async () => {
    const data = ravdessFolder(['03', '04'], '04-02');
    const out = join(dir, 'speaker-norm.safetensors');
    const cache = join(dir, 'cache');
    const r = await runSer('train', '--data', data, '--protocol', 'actors', '--test-actors', '3', '--recipe', 'improved', '--without', 'validation',
      '--speaker-norm', '--enrolment-copies', '2', '--epochs', '1', '--out', out, '--cache', cache, '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/recipe improved without validation with speaker normalisation with enrolment copies 2/);
    expect((await runSer('train', '--data', data, '--enrolment-copies', '2')).err).toMatch(/--enrolment-copies goes with --speaker-norm/);
    const e = await runSer('evaluate', '--data', data, '--weights', out, '--protocol', 'actors', '--test-actors', '3', '--cache', cache);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/UAR/);
    expect(e.err).toMatch(/speaker statistics from all of each speaker's clips/);
    // the weights carry the training speakers' pooled statistics (actor 4's clips here)
    const trained = ser.EmotionRecognizer.fromSafetensors(readFileSync(out));
    expect(trained.speakerNormalized).toBe(true);
    expect(trained.speakerPrior!.mean[0]).toBeCloseTo(ser.InputNorm.fit(ser.wavFeatures(readFileSync(fixturePath('audio/stage.wav')))).mean[0]!, 3);
    const e1 = await runSer('evaluate', '--data', data, '--weights', out, '--protocol', 'actors', '--test-actors', '3', '--cache', cache, '--enroll-clips', '1');
    expect(e1.code, e1.err).toBe(0);
    expect(e1.err).toMatch(/speaker statistics from 1 random clips of each speaker \(draw 0\), shrunk toward the training speakers' as if those were 8 s/);
    expect((await runSer('evaluate', '--data', data, '--weights', out, '--prior-seconds', '4')).err).toMatch(/--prior-seconds goes with --enroll-clips/);
    expect((await runSer('evaluate', '--data', data, '--weights', weights, '--enroll-clips', '4')).err).toMatch(/--enroll-clips goes with weights trained with --speaker-norm/);

    const stageWav = fixturePath('audio/stage.wav');
    const p = await runSer('predict', '--weights', out, stageWav);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/trained with --speaker-norm: give a few clips of the speaker with --enroll FILE/);
    const q = await runSer('predict', '--json', '--weights', out, '--enroll', stageWav, '--enroll', fixturePath('audio/clip48k.wav'), stageWav);
    expect(q.code, q.err).toBe(0);
    const line = JSON.parse(q.out) as { label: string; probabilities: Record<string, number> };
    expect(ser.EMOTIONS).toContain(line.label);
    expect(Object.values(line.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const bad = await runSer('predict', '--weights', out, '--enroll', join(dir, 'missing.wav'), stageWav);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/enrolment clip .*missing\.wav: ENOENT/);
    const garbage = join(dir, 'garbage.wav');
    writeFileSync(garbage, 'RIFF but not really a wave file');
    const g = await runSer('predict', '--weights', out, '--enroll', stageWav, '--enroll', garbage, stageWav);
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/enrolment clip .*garbage\.wav: /);
    expect((await runSer('predict', '--weights', weights, '--enroll', stageWav, stageWav)).err).toMatch(/--enroll and --same-speaker go with weights trained with --speaker-norm/);
    expect((await runSer('predict', '--weights', out, '--enroll', stageWav, '--prior-seconds', 'x', stageWav)).err).toMatch(/--prior-seconds must be a number of seconds/);
    // without --weights, enrolment selects the bundled speaker-normalised weights
    const bundled = await runSer('predict', '--json', '--same-speaker', stageWav);
    expect(bundled.code, bundled.err).toBe(0);
    expect(ser.EMOTIONS).toContain(JSON.parse(bundled.out).label);
    // --same-speaker: the files enrol themselves
    const same = await runSer('predict', '--json', '--weights', out, '--same-speaker', stageWav, fixturePath('audio/clip48k.wav'));
    expect(same.code, same.err).toBe(0);
    expect(JSON.parse(same.out.split('\n')[0]!).probabilities).toEqual(line.probabilities);
    const noPrior = await runSer('predict', '--json', '--weights', out, '--enroll', stageWav, '--prior-seconds', '0', stageWav);
    expect(noPrior.code, noPrior.err).toBe(0);
    expect(JSON.parse(noPrior.out).probabilities).not.toEqual(line.probabilities);
  });

  it('predict --weights model.pth reads a PyTorch state dict; convert writes it as safetensors; hostile pickles are refused', async () => {
    const pthFile = fixturePath('pth/emotion_cnn_sequential.pth');
    const direct = await runSer('predict', '--json', '--weights', pthFile, fixturePath('audio/stage.wav'));
    expect(direct.code, direct.err).toBe(0);
    const out = join(dir, 'converted.safetensors');
    const c = await runSer('convert', pthFile, out);
    expect(c.code, c.err).toBe(0);
    expect(c.err).toMatch(/emotion_cnn_sequential\.pth → .*converted\.safetensors: EmotionCNN, 25 tensors/);
    const viaConverted = await runSer('predict', '--json', '--weights', out, fixturePath('audio/stage.wav'));
    expect(JSON.parse(viaConverted.out).probabilities).toEqual(JSON.parse(direct.out).probabilities);
    const evil = await runSer('predict', '--weights', fixturePath('pth/hostile_os_system.pth'), fixturePath('audio/stage.wav'));
    expect(evil.code).toBe(1);
    expect(evil.err).toMatch(/refusing to load: the pickle refers to 'posix\.system'/);
    expect((await runSer('convert', pthFile)).code).toBe(2);
  });
  it('weights that do not fit and folders without data are clear errors', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not safetensors at all');
    expect((await runSer('predict', '--weights', bad, fixturePath('audio/stage.wav'))).err).toMatch(/bad\.safetensors: .*header/);
    const r = await runSer('train', '--data', join(dir, 'nowhere'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/data folder '.*nowhere' does not exist/);
    expect((await runSer('train', '--data', dir)).err).toMatch(/no RAVDESS speech files/);
  });
});
