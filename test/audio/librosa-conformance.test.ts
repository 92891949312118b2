/**
 * Every librosa reference in ../shared/reference/librosa (60 clips read at 22.05 kHz, 120 read
 * from 48 kHz originals, 4 resampled waveforms), run end to end from the audio files. The data
 * sits beside the repository (CI has it); FLAC is decoded to WAV with Debian's `flac`. Without
 * either, the suite says so and skips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audio } from '../../src/index.js';
import { absDiff, snrDb } from '../helpers/fixtures.js';

const SHARED = new URL('../../../shared/', import.meta.url).pathname;
const REF = join(SHARED, 'reference/librosa');
const hasFlac = (() => {
  try {
    execFileSync('flac', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const available = existsSync(join(REF, 'manifest.json')) && hasFlac;
if (!available) console.warn(`librosa conformance skipped: ${existsSync(REF) ? 'the flac command is missing' : `${REF} is absent`}`);

interface Entry { name: string; file: string; shape: number[]; audio?: string }
const entries: Entry[] = available ? (JSON.parse(readFileSync(join(REF, 'manifest.json'), 'utf8')) as { entries: Entry[] }).entries : [];
const cache = join(tmpdir(), 'ser-ts-conformance');

function wavOf(rel: string): Uint8Array {
  const out = join(cache, rel.replace(/\.flac$/, '.wav'));
  if (!existsSync(out)) {
    mkdirSync(join(out, '..'), { recursive: true });
    // decode beside, then rename: an interrupted run must not leave a half file for the next one
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('flac', ['-d', '-s', '-f', '-o', tmp, join(SHARED, 'data', rel)], { stdio: 'ignore' });
    renameSync(tmp, out);
  }
  return readFileSync(out);
}

function reference(e: Entry): Float32Array {
  const b = readFileSync(join(REF, e.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

describe.runIf(available)('librosa conformance on every shared reference', () => {
  it('MFCC from 22.05 kHz files: max |Δ| ≤ 1e-3 on every clip, full length and 174 frames', () => {
    const clips = entries.filter((e) => e.name.startsWith('mfcc/22k/'));
    expect(clips.length).toBe(60);
    let worst = 0;
    for (const e of clips) {
      const m = audio.mfcc(audio.load(wavOf(e.audio!)));
      expect(m.shape, e.name).toEqual(e.shape);
      const fixed = reference(entries.find((x) => x.name === e.name.replace('mfcc/', 'mfcc174/'))!);
      worst = Math.max(worst, absDiff(m.toArray(), reference(e)).max, absDiff(audio.fixFrames(m).toArray(), fixed).max);
    }
    console.log(`22.05 kHz: worst max |Δ| over 60 clips ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-3);
  });

  it('MFCC end to end from the 48 kHz originals (decode, downmix, resample): mean |Δ| ≤ 0.3 on every clip', () => {
    const clips = entries.filter((e) => e.name.startsWith('mfcc174/48k/'));
    expect(clips.length).toBe(120);
    let worst = 0;
    for (const e of clips) {
      const m = audio.fixFrames(audio.mfcc(audio.load(wavOf(e.audio!))));
      worst = Math.max(worst, absDiff(m.toArray(), reference(e)).mean);
    }
    console.log(`48 kHz: worst mean |Δ| over 120 clips ${worst.toFixed(4)}`);
    expect(worst).toBeLessThanOrEqual(0.3);
  });

  it('resampled waveforms: ≥ 40 dB SNR against soxr HQ on every reference', () => {
    const clips = entries.filter((e) => e.name.startsWith('resampled/'));
    expect(clips.length).toBe(4);
    const snrs = clips.map((e) => {
      const y = audio.load(wavOf(e.audio!));
      const ref = reference(e);
      expect(y.length, e.name).toBe(ref.length);
      return snrDb(y, ref);
    });
    console.log(`resampling SNR: ${snrs.map((s) => s.toFixed(1)).join(', ')} dB`);
    for (const s of snrs) expect(s).toBeGreaterThanOrEqual(40);
  });
});
