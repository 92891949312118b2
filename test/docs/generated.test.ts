/**
 * The generated parts of the docs match what they are generated from: docs/results.md's tables
 * the reports in docs/results/ser, docs/speed.md's tables and the README's speed summary the
 * committed benchmark run (bench/results/latest.json). Each generator's --check is the judge.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/spawn.js';

const tsx = ['--import', 'tsx'];

describe('generated docs are up to date', () => {
  it('docs/results.md against docs/results/ser', async () => {
    const r = await run(process.execPath, [...tsx, 'scripts/results-doc.ts', '--check']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  });

  it('docs/speed.md and the README against bench/results/latest.json, and the check notices another run', async () => {
    const r = await run(process.execPath, [...tsx, 'scripts/readme-bench.ts', '--check']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // a run that is not the one the docs were written from: one figure changed
    const dir = mkdtempSync(join(tmpdir(), 'ser-bench-'));
    try {
      const other = JSON.parse(readFileSync('bench/results/latest.json', 'utf8')) as { rows: { medianMs: number }[] };
      other.rows[0]!.medianMs *= 2;
      writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
      const stale = await run(process.execPath, [...tsx, 'scripts/readme-bench.ts', '--check', join(dir, 'other.json')]);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('not up to date');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
