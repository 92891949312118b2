/**
 * Copies what the audio tests need from ../shared/reference/librosa (librosa 0.10.2 outputs) into
 * test/fixtures/audio, so the tests run from the repository alone:
 *   apt-get install -y flac && npx tsx scripts/gen_audio_fixtures.ts
 * - stage.wav: the 22.05 kHz clip behind reference/librosa/stages (16-bit, as released);
 * - clip48k.wav: one 48 kHz original, with librosa's resampled waveform and MFCC of it;
 * - librosa.safetensors: the stage arrays, the synthetic signals and their MFCCs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Tensor, saveSafetensors, tensor } from '../src/index.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const REF = join(SHARED, 'reference/librosa');
const OUT = new URL('../test/fixtures/audio/', import.meta.url).pathname;

interface Entry { name: string; file: string; shape: number[]; audio?: string }
const manifest = JSON.parse(readFileSync(join(REF, 'manifest.json'), 'utf8')) as { entries: Entry[] };
const entry = (name: string) => {
  const e = manifest.entries.find((x) => x.name === name);
  if (!e) throw new Error(`no reference ${name}`);
  return e;
};
const array = (name: string): Tensor => {
  const e = entry(name);
  const b = readFileSync(join(REF, e.file));
  return tensor(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)), e.shape);
};

const tmp = mkdtempSync(join(tmpdir(), 'ser-fixtures-'));
function flacToWav(rel: string, out: string): void {
  const wav = join(tmp, 'x.wav');
  execFileSync('flac', ['-d', '-s', '-f', '-o', wav, join(SHARED, 'data', rel)]);
  writeFileSync(`${out}.tmp`, readFileSync(wav));
  renameSync(`${out}.tmp`, out);
}

flacToWav(entry('stages/waveform').audio!, join(OUT, 'stage.wav'));
const clip48 = '03-01-01-01-01-01-01';
flacToWav(entry(`mfcc/48k/${clip48}`).audio!, join(OUT, 'clip48k.wav'));

const tensors: Record<string, Tensor> = {};
for (const s of ['waveform', 'power_spectrogram', 'mel_filterbank', 'log_mel_db', 'mfcc']) tensors[`stages.${s}`] = array(`stages/${s}`);
for (const s of ['sine_440hz_1s', 'chirp_50_8000hz_2s', 'silence_1s', 'impulse_0p5s', 'short_1000_samples']) {
  tensors[`synthetic.${s}.signal`] = array(`synthetic/${s}_signal`);
  tensors[`synthetic.${s}.mfcc`] = array(`mfcc/synthetic/${s}`);
  tensors[`synthetic.${s}.mfcc174`] = array(`mfcc174/synthetic/${s}`);
}
tensors['clip48k.resampled'] = array(`resampled/${clip48}`);
tensors['clip48k.mfcc'] = array(`mfcc/48k/${clip48}`);
tensors['clip48k.mfcc174'] = array(`mfcc174/48k/${clip48}`);
const file = join(OUT, 'librosa.safetensors');
writeFileSync(`${file}.tmp`, saveSafetensors(tensors, { metadata: { source: 'librosa 0.10.2 via ../shared/reference/librosa' } }));
renameSync(`${file}.tmp`, file);
console.log(`wrote ${Object.keys(tensors).length} arrays and 2 WAVs to ${OUT}`);
