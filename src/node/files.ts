import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes to a temporary file beside `path`, then renames it into place: readers never see half a file. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const TEMP = /\.tmp-(\d+)-[0-9a-f]{8}$/;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, but not ours to signal
  }
};

/**
 * Removes the temporary files that writeFileAtomic leaves when its process is killed mid-write
 * (`NAME.tmp-PID-XXXXXXXX` whose PID no longer runs) from `dir` and, with `depth` 1, its
 * sub-folders. Returns what it removed.
 */
export function removeStaleTemps(dir: string, depth = 0): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth > 0) removed.push(...removeStaleTemps(path, depth - 1));
    const m = TEMP.exec(e.name);
    if (e.isFile() && m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}
