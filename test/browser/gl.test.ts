/**
 * The gpu.js backend on real GLSL: Debian's Chromium, headless, with WebGL2 and WebGL1 on
 * SwiftShader. Every kernel of the seam against the CPU backend (as test/tensor/gpu.test.ts does in
 * Node's emulated modes), and on WebGL2 the whole EmotionCNN training step against PyTorch.
 * Skipped without Chromium, saying so, except under CI=true (see app.test.ts).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../examples/web/serve.js';
import { fixturePath } from '../helpers/fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM}: .ci/run installs Debian's chromium package`);

interface Check { what: string; value: number; limit: number }
interface GlResult { mode: string; seam: Check[]; model: Check[]; seamMs: number; modelMs: number; stats: { launches: number; compiled: number } }

let dir = '';
let server: Server;
let browser: Browser;
let page: Page;

describe.skipIf(!haveChromium)('the gpu.js backend on WebGL in Chromium (SwiftShader)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ser-gl-'));
    await build({ entryPoints: [fileURLToPath(new URL('./gl-page.ts', import.meta.url))], outfile: join(dir, 'gl.js'), bundle: true, format: 'esm', platform: 'browser', logLevel: 'warning' });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="gl.js"></script>');
    copyFileSync(fixturePath('torch/emotion_cnn.safetensors'), join(dir, 'emotion_cnn.safetensors'));
    server = await serve(dir, 0);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'] });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => typeof (globalThis as unknown as { runGl?: unknown }).runGl === 'function', { timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (mode: string, withModel: boolean) =>
    page.evaluate((m, w) => (globalThis as unknown as { runGl: (m: string, w: boolean) => Promise<GlResult> }).runGl(m, w), mode, withModel);

  it('WebGL2: every seam kernel within its tolerance of the CPU backend, and the EmotionCNN training step within 1e-4 of PyTorch', async () => {
    const r = await run('webgl2', true);
    expect(r.mode).toBe('webgl2');
    expect(r.seam.length).toBeGreaterThan(60);
    for (const c of r.seam) expect(c.value, `webgl2 ${c.what}`).toBeLessThanOrEqual(c.limit);
    expect(r.model.length).toBeGreaterThan(40);
    for (const c of r.model) expect(c.value, `webgl2 ${c.what}`).toBeLessThanOrEqual(c.limit);
    console.log(`webgl2 on SwiftShader: ${r.seam.length} seam cases in ${(r.seamMs / 1000).toFixed(1)} s, the training-step fixture in ${(r.modelMs / 1000).toFixed(1)} s (${r.stats.launches} launches, ${r.stats.compiled} kernels compiled)`);
  }, 240_000);

  type MemorySample = { step: number; textures: number; tensors: number; kernels: number; loss: number };
  type MemoryRun = { samples: MemorySample[]; leaked: number; compiled: number; ms: number };
  const memoryRun = (steps: number, maxKernels: number, shapes: number) =>
    page.evaluate((s, k, n) => (globalThis as unknown as { memoryRun: (s: number, k: number, n: number) => MemoryRun }).memoryRun(s, k, n), steps, maxKernels, shapes);

  it('memory stays flat: 200 training steps in tidy scopes keep the same live textures and tensors', async () => {
    const r = await memoryRun(200, 256, 1);
    const at = (s: number) => r.samples.find((x) => x.step === s)!;
    for (const s of [50, 100, 150, 200]) {
      expect(at(s).textures, `live textures at step ${s}`).toBe(at(10).textures);
      expect(at(s).tensors, `live tensors at step ${s}`).toBe(at(10).tensors);
    }
    expect(at(200).loss).toBeLessThan(at(10).loss);
    expect(r.leaked).toBeGreaterThan(5 * 20); // without tidy, every step leaves its textures: the count sees it
    console.log(`200 steps on WebGL2 in ${(r.ms / 1000).toFixed(1)} s: ${at(200).textures} live textures and ${at(200).tensors} tensors at steps 10 to 200, ${r.compiled} kernels compiled; 5 steps without tidy left ${r.leaked} textures`);
  }, 240_000);

  it('the kernel cache stays within its bound: three batch shapes with room for fewer kernels evict and compile again, and still train', async () => {
    const r = await memoryRun(12, 48, 3);
    for (const s of r.samples) expect(s.kernels).toBeLessThanOrEqual(48);
    expect(r.compiled).toBeGreaterThan(48);
    const last = r.samples.at(-1)!;
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(last.textures).toBe(r.samples.find((x) => x.step === 10)!.textures);
  }, 240_000);

  it('WebGL1: every seam kernel within its tolerance of the CPU backend', async () => {
    const r = await run('webgl', false);
    expect(r.mode).toBe('webgl');
    for (const c of r.seam) expect(c.value, `webgl ${c.what}`).toBeLessThanOrEqual(c.limit);
  }, 240_000);

  it("auto picks the CPU on SwiftShader, naming the renderer; gpu.js's webasm mode is refused in a page", async () => {
    const r = await page.evaluate(() => (globalThis as unknown as { autoHere: () => { decision: { backend: string; reason: string; renderer?: string }; renderer: string | null; webasm: string } }).autoHere());
    expect(r.renderer).toMatch(/SwiftShader/i);
    expect(r.decision.backend).toBe('cpu');
    expect(r.decision.reason).toMatch(/software rasteriser \(.*SwiftShader/i);
    console.log(`auto on Chromium: ${r.decision.reason}; webasm: ${r.webasm}`);
    expect(r.webasm).toMatch(/'webasm' mode runs out of WebAssembly memory in browsers/);
  }, 60_000);
});
