/**
 * Ours (gpu.js, WebGL2) against TensorFlow.js's WebGL backend on the same renderer: Debian's
 * Chromium, headless; on a machine without a GPU that renderer is SwiftShader (software), which
 * says how the kernels compare, not how fast a GPU is. Prints one JSON line; `npm run bench` runs
 * it when Chromium is there and puts the rows beside the others.
 *
 *   npx tsx bench/webgl.ts [--quick]
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { serve } from '../examples/web/serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.log(JSON.stringify({ error: `no Chromium at ${CHROMIUM}` }));
  process.exit(0);
}
const quick = process.argv.includes('--quick');
const dir = mkdtempSync(join(tmpdir(), 'ser-webgl-bench-'));
try {
  await build({ entryPoints: [fileURLToPath(new URL('./webgl-page.ts', import.meta.url))], outfile: join(dir, 'page.js'), bundle: true, format: 'esm', platform: 'browser', logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="page.js"></script>');
  const server = await serve(dir, 0);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, protocolTimeout: 900_000, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => typeof (globalThis as unknown as { runWebgl?: unknown }).runWebgl === 'function', { timeout: 60_000 });
    const reps = quick ? { trainReps: 1, inferReps: 3 } : { trainReps: 3, inferReps: 10 };
    const r = await page.evaluate((o) => (globalThis as unknown as { runWebgl: (o: unknown) => Promise<unknown> }).runWebgl(o), reps);
    console.log(JSON.stringify({ chromium: await browser.version(), ...(r as object) }));
  } finally {
    await browser.close();
    server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
