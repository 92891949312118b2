/**
 * The gpu.js backend's kernels one by one at the EmotionCNN's training shapes, on WebGL2 in Debian's
 * Chromium (SwiftShader without a GPU): where a training step's time goes. docs/speed.md's
 * per-kernel figures of 2026-12-04 came from this page, run at each commit.
 *
 *   npx tsx experiments/gl-kernel-timing.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { serve } from '../examples/web/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-gl-kernels-'));
try {
  await build({ entryPoints: [fileURLToPath(new URL('./gl-kernel-timing-page.ts', import.meta.url))], outfile: join(dir, 'page.js'), bundle: true, format: 'esm', platform: 'browser', logLevel: 'warning' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="page.js"></script>');
  const server = await serve(dir, 0);
  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, protocolTimeout: 900_000, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => typeof (globalThis as unknown as { runKernels?: unknown }).runKernels === 'function', { timeout: 60_000 });
    const r = await page.evaluate(() => (globalThis as unknown as { runKernels: () => Record<string, number> }).runKernels());
    for (const [k, ms] of Object.entries(r)) console.log(`${k.padEnd(22)} ${ms.toFixed(1)} ms`);
  } finally {
    await browser.close();
    server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
