/**
 * The web app in a real browser: Debian's Chromium, headless, driven by puppeteer-core (which
 * downloads no browser). The page is built from examples/web and served on 127.0.0.1; Chromium's
 * fake capture device plays a WAV file as the microphone; WebGL2 runs on SwiftShader.
 *
 * Without Chromium (CHROMIUM_PATH, or /usr/bin/chromium) these tests are skipped, saying so,
 * except in CI, where .ci/run installs it and its absence is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../examples/web/build.js';
import { serve } from '../../examples/web/serve.js';
import { decodeWav, encodeWav } from '../../src/audio/wav.js';
import { run } from '../helpers/spawn.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIP = join(ROOT, 'examples/audio/03-01-04-02-01-01-02.wav'); // actor 2, sad, 48 kHz
const MIC_CLIP = join(ROOT, 'examples/audio/03-01-05-02-01-01-01.wav'); // actor 1, angry
const OUTPUT = join(ROOT, 'test/output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

interface AppState {
  ready: boolean;
  busy: boolean;
  backend: string;
  mode?: string;
  last: { prediction: { label: string; probabilities: Record<string, number>; windows: unknown[] }; backend: string } | null;
  timeline: { start: number; end: number; label: string | null }[];
  errors: string[];
}

let dir = '';
let server: Server;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const appState = () => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as { serApp: unknown }).serApp))) as Promise<AppState>;

/** Chooses a file in the page's file input, as a person would. */
async function upload(path: string): Promise<void> {
  const input = await page.$('#file');
  await page.evaluate(() => { (globalThis as unknown as { serApp: AppState }).serApp.last = null; });
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(path);
}

/** Waits until the page has answered (or shown an error since `errorsBefore`). */
async function settled(errorsBefore: number, timeout = 60_000): Promise<AppState> {
  await page.waitForFunction((n) => {
    const s = (globalThis as unknown as { serApp: AppState }).serApp;
    return !s.busy && (s.last !== null || s.errors.length > n);
  }, { timeout, polling: 100 }, errorsBefore);
  return appState();
}

describe.skipIf(!haveChromium)('the web app in Chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ser-web-'));
    await buildApp(join(dir, 'site'));
    server = await serve(join(dir, 'site'), 0);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${MIC_CLIP}`,
      ],
    });
    page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.setViewport({ width: 1000, height: 1100 });
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { serApp?: AppState }).serApp?.ready || (globalThis as unknown as { serApp?: AppState }).serApp?.errors.length, { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the model without console errors, with labels a screen reader can read', async () => {
    const s = await appState();
    expect(s.errors).toEqual([]);
    expect(s.ready).toBe(true);
    expect(consoleErrors).toEqual([]);
    const labels = await page.$$eval('canvas', (cs) => cs.map((c) => `${c.getAttribute('role')}: ${c.getAttribute('aria-label')}`));
    expect(labels).toHaveLength(3);
    for (const l of labels) expect(l).toMatch(/^img: \w+/);
    expect(await page.$eval('#status', (e) => e.getAttribute('aria-live'))).toBe('polite');
    // every control can be reached with the keyboard
    expect(await page.$$eval('input, button', (es) => es.every((e) => (e as HTMLElement).tabIndex >= 0))).toBe(true);
  });

  it('a WAV upload gives the label and probabilities of `ser predict --json`, within 1e-6', async () => {
    const cli = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/node/bin.ts'), 'predict', '--json', CLIP]);
    expect(cli.code, cli.stderr).toBe(0);
    const expected = JSON.parse(cli.stdout) as { label: string; probabilities: Record<string, number> };
    await upload(CLIP);
    const s = await settled(0);
    expect(s.errors).toEqual([]);
    expect(s.last!.prediction.label).toBe(expected.label);
    for (const [e, p] of Object.entries(expected.probabilities)) expect(Math.abs(s.last!.prediction.probabilities[e]! - p)).toBeLessThan(1e-6);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'web-app.png'), fullPage: true });
    console.log(`screenshot of the app: ${join(OUTPUT, 'web-app.png')}`);
  }, 120_000);

  it.skipIf(!existsSync('/usr/bin/flac'))('a FLAC file, decoded by the browser, gives the WAV\'s answer within 1e-5', async () => {
    const flac = join(dir, 'clip.flac');
    const enc = await run('/usr/bin/flac', ['--silent', '-f', '-o', flac, CLIP]);
    expect(enc.code, enc.stderr).toBe(0);
    const wav = (await appState()).last!.prediction;
    await upload(flac);
    const s = await settled(0);
    expect(s.errors).toEqual([]);
    expect(s.last!.prediction.label).toBe(wav.label);
    // lossless and at the file's own rate, so no browser resampling; Chromium's FLAC decoder is still
    // not bit-identical to the WAV decoder (probabilities differ by 1.6e-6 here)
    for (const [e, p] of Object.entries(wav.probabilities)) expect(Math.abs(s.last!.prediction.probabilities[e]! - p)).toBeLessThan(1e-5);
  }, 120_000);

  it('bad input gets a clear message in the page, and the page stays usable', async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['notes.txt', new TextEncoder().encode('these are not the samples you are looking for'), /not audio the browser can decode/],
      ['empty.wav', new Uint8Array(0), /empty/],
      ['broken.wav', encodeWav([new Float32Array(22050).fill(0.1)], 22050).subarray(0, 30), /WAV/],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const before = (await appState()).errors.length;
      await upload(path);
      const s = await settled(before);
      expect(s.errors.length, name).toBe(before + 1);
      expect(s.errors.at(-1), name).toMatch(message);
      expect(await page.$eval('#error', (e) => !(e as HTMLElement).hidden && e.getAttribute('role'))).toBe('alert');
    }
    // silence is no error: the page says no speech was detected, and names no emotion
    const silence = join(dir, 'silence.wav');
    writeFileSync(silence, encodeWav([new Float32Array(22050)], 22050));
    const before = (await appState()).errors.length;
    await upload(silence);
    const quiet = await settled(before);
    expect(quiet.errors.length).toBe(before);
    expect(quiet.last!.prediction).toMatchObject({ label: null, speech: false, probabilities: null });
    expect(await page.$eval('#label', (e) => e.textContent)).toBe('no speech detected');
    // and a good file still works afterwards
    await upload(CLIP);
    expect((await settled((await appState()).errors.length)).last).not.toBeNull();
  }, 120_000);

  it('a long recording is scored a segment at a time, with progress, into a timeline', async () => {
    // 150 s: the clip again and again with pauses (at 22050 Hz, so the file stays small)
    const clip = decodeWav(readFileSync(CLIP)).channels[0]!.filter((_, i) => i % 2 === 0); // 24 kHz: a rate of its own, resampled like any
    const total = new Float32Array(24000 * 150);
    for (let at = 0; at + clip.length < total.length; at += clip.length + 24000) total.set(clip, at);
    const path = join(dir, 'long.wav');
    writeFileSync(path, encodeWav([total], 24000));
    let sawProgress = false;
    const before = (await appState()).errors.length;
    await upload(path);
    await page.waitForFunction(() => !(document.getElementById('progress') as HTMLProgressElement).hidden, { timeout: 30_000 }).then(() => (sawProgress = true));
    const s = await settled(before, 120_000);
    expect(s.errors.length).toBe(before);
    expect(sawProgress).toBe(true);
    // windows every 2 s over 150 s, from three independently scored minutes
    expect(s.timeline.length).toBeGreaterThan(60);
    expect(Math.max(...s.timeline.map((t) => t.end))).toBeGreaterThan(145);
    expect(await page.$eval('#progress', (e) => (e as HTMLElement).hidden)).toBe(true);
  }, 180_000);

  it('the microphone (Chromium\'s fake capture device) produces a live timeline', async () => {
    const before = (await appState()).errors.length;
    await page.click('#record');
    await page.waitForFunction(() => (globalThis as unknown as { serApp: AppState }).serApp.timeline.filter((t) => t.label !== null).length >= 3, { timeout: 30_000, polling: 200 });
    await page.click('#record');
    const s = await appState();
    expect(s.errors.slice(before)).toEqual([]);
    const voiced = s.timeline.filter((t) => t.label !== null);
    // at least once a second: consecutive windows end about a second apart
    const ends = voiced.map((t) => t.end);
    expect(Math.max(...ends.slice(1).map((e, i) => e - ends[i]!))).toBeLessThan(2.5);
    expect(await page.$eval('#record', (e) => e.getAttribute('aria-pressed'))).toBe('false');
  }, 60_000);

  it('the GPU switch runs the model on WebGL2 and agrees with the CPU within 1e-4', async () => {
    const before = (await appState()).errors.length;
    await upload(CLIP);
    const cpu = await settled(before);
    expect(cpu.last!.backend).toBe('cpu');
    await page.click('input[value=gpu]');
    await page.waitForFunction((n) => {
      const s = (globalThis as unknown as { serApp: AppState }).serApp;
      return (s.last?.backend === 'gpu' && !s.busy) || s.errors.length > n;
    }, { timeout: 120_000, polling: 200 }, before);
    const gpu = await appState();
    expect(gpu.errors.slice(before)).toEqual([]);
    expect(gpu.mode).toBe('webgl2');
    expect(gpu.last!.prediction.label).toBe(cpu.last!.prediction.label);
    for (const [e, p] of Object.entries(cpu.last!.prediction.probabilities)) expect(Math.abs(gpu.last!.prediction.probabilities[e]! - p)).toBeLessThan(1e-4);
    expect(await page.$eval('#timing', (e) => e.textContent)).toMatch(/^gpu \(webgl2\): .* model [\d.]+ ms/);
    await page.click('input[value=cpu]');
    await page.waitForFunction(() => (globalThis as unknown as { serApp: AppState }).serApp.last?.backend === 'cpu', { timeout: 60_000 });
    expect(consoleErrors).toEqual([]);
  }, 180_000);

  it('the Auto switch picks the CPU on SwiftShader and says why', async () => {
    await page.click('input[value=auto]');
    await page.waitForFunction(() => (globalThis as unknown as { serApp: AppState & { autoReason?: string } }).serApp.autoReason !== undefined, { timeout: 60_000 });
    const s = (await appState()) as AppState & { autoReason?: string };
    expect(s.backend).toBe('cpu');
    expect(s.autoReason).toMatch(/software rasteriser \(.*SwiftShader/i);
    // the file is scored again on the backend auto chose
    await page.waitForFunction(() => !(globalThis as unknown as { serApp: AppState }).serApp.busy, { timeout: 60_000 });
    expect((await appState()).last!.backend).toBe('cpu');
    await page.click('input[value=cpu]');
  }, 90_000);

  it('a refused microphone is a message, not a frozen page', async () => {
    // a second browser whose permission prompts are answered "no"
    const refusing = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
    try {
      const denied = await refusing.newPage();
      await denied.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      await denied.waitForFunction(() => (globalThis as unknown as { serApp?: AppState }).serApp?.ready, { timeout: 60_000 });
      await denied.click('#record');
      await denied.waitForFunction(() => (globalThis as unknown as { serApp: AppState }).serApp.errors.length > 0, { timeout: 30_000 });
      const errors = await denied.evaluate(() => (globalThis as unknown as { serApp: AppState }).serApp.errors);
      expect(errors).toEqual(['microphone: microphone permission was denied: allow it in the browser to record']);
      expect(await denied.$eval('#record', (e) => e.getAttribute('aria-pressed'))).toBe('false');
    } finally {
      await refusing.close();
    }
  }, 90_000);

  it('works offline once loaded (the service worker serves the page, the scripts and the weights)', async () => {
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.reload(); // the page is now controlled by the service worker
    await page.waitForFunction(() => (globalThis as unknown as { serApp: AppState }).serApp?.ready, { timeout: 60_000 });
    await page.setOfflineMode(true);
    try {
      await page.reload();
      await page.waitForFunction(() => (globalThis as unknown as { serApp: AppState }).serApp?.ready || (globalThis as unknown as { serApp: AppState }).serApp?.errors.length, { timeout: 60_000 });
      expect((await appState()).errors).toEqual([]);
      await upload(CLIP);
      expect((await settled(0)).last!.prediction.label).toBe('sad');
    } finally {
      await page.setOfflineMode(false);
    }
  }, 120_000);
});
