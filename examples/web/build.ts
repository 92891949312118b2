/**
 * Builds the web app into examples/web/dist: the page, its script and the worker bundled by
 * esbuild (minified, for the browser), the bundled weights, and a service worker that caches them
 * all so the app works offline once loaded.
 *
 *   npm run web:build          # then: npm run web:serve
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, 'dist');

export async function buildApp(out = DIST): Promise<string[]> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'app.ts'), worker: join(here, 'emotion-worker.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) cpSync(join(here, f), join(out, f));
  const weights = join(here, '../../src/ser/weights');
  mkdirSync(join(out, 'weights'));
  for (const f of readdirSync(weights).filter((f) => f.endsWith('.safetensors'))) cpSync(join(weights, f), join(out, 'weights', f));
  // the service worker caches every file, under a name that changes with their contents
  const files = listFiles(out).filter((f) => !f.endsWith('.map'));
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(join(out, f)));
  const sw = readFileSync(join(here, 'sw.js'), 'utf8')
    .replace('__VERSION__', hash.digest('hex').slice(0, 12))
    .replace('__FILES__', JSON.stringify(['./', ...files.map((f) => `./${f}`)]));
  writeFileSync(join(out, 'sw.js'), sw);
  return files;
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), root) : [relative(root, join(dir, e.name)).split('\\').join('/')]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildApp();
  console.log(`built ${files.length} files into ${relative(process.cwd(), DIST)}/; serve them with: npm run web:serve`);
}
