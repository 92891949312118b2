/**
 * The package as a web developer meets it: `ser-ts` and its sub-entries bundled through the
 * package's `exports` (a fresh build of dist/) by esbuild, Vite and Rollup with their usual
 * settings, for the browser and for Node. Browser bundles must not reach a Node built-in; the Node
 * bundle must still classify a clip.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjsPlugin from '@rollup/plugin-commonjs';

// the plugin is CommonJS typed as a namespace under NodeNext
const commonjs = commonjsPlugin as unknown as (opts?: { ignoreDynamicRequires?: boolean }) => import('rollup').Plugin;
import { run } from '../helpers/spawn.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BROWSER_ENTRIES = ['ser-ts', 'ser-ts/gpu', 'ser-ts/browser', 'ser-ts/worker'];
let dir = '';

/** A consumer project whose node_modules/ser-ts is this repository, as `npm install` of it would give. */
beforeAll(async () => {
  const built = await run('npm', ['run', 'build'], { cwd: ROOT });
  expect(built.code, built.stderr).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'ser-bundle-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'ser-ts'), 'dir');
  for (const e of [...BROWSER_ENTRIES, 'ser-ts/node']) writeFileSync(join(dir, `${name(e)}.js`), `import * as m from '${e}';\nglobalThis.entry = m;\n`);
}, 60_000);
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

const name = (entry: string) => entry.replace('/', '-');

const BUILTINS = /^(node:|(fs|path|os|crypto|worker_threads|child_process|url|module)(\/|$))/;

/** Node built-ins a browser bundle still imports: left external in its module graph, or named in an import in its code. */
function nodeImports(code: string, externals: readonly string[]): string[] {
  const named = code.match(/(?:\bfrom|\bimport\()\s*["']node:[a-z/_]+["']/g) ?? [];
  return [...new Set([...externals.filter((e) => BUILTINS.test(e)), ...named])];
}

/** What Rollup (and so Vite) left outside the bundle. */
const rollupExternals = (output: readonly { type: string; imports?: string[]; dynamicImports?: string[] }[]) =>
  output.flatMap((c) => (c.type === 'chunk' ? [...(c.imports ?? []), ...(c.dynamicImports ?? [])] : []));

describe('browser bundles', () => {
  it.each(BROWSER_ENTRIES)('esbuild bundles %s for the browser with no Node built-in', async (entry) => {
    const r = await esbuild({ entryPoints: [join(dir, `${name(entry)}.js`)], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
    const code = r.outputFiles[0]!.text;
    const externals = Object.values(r.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    expect(nodeImports(code, externals)).toEqual([]);
    // no Node-only module of ours is reachable from a browser entry
    expect(Object.keys(r.metafile.inputs).filter((f) => /dist\/(node|ser\/(cli|dataset|model-file|bin))/.test(f))).toEqual([]);
    if (entry === 'ser-ts') expect(Object.keys(r.metafile.inputs).some((f) => f.includes('gpu.js/'))).toBe(false);
  });

  it('esbuild refuses ser-ts/node for the browser, naming the Node built-in', async () => {
    await expect(esbuild({ entryPoints: [join(dir, 'ser-ts-node.js')], bundle: true, platform: 'browser', write: false, logLevel: 'silent' })).rejects.toThrow(/node:/);
  });

  it.each(['ser-ts', 'ser-ts/gpu', 'ser-ts/browser'])('Vite bundles %s for the browser', async (entry) => {
    const out = await viteBuild({
      configFile: false, root: dir, logLevel: 'silent',
      build: { write: false, lib: { entry: join(dir, `${name(entry)}.js`), formats: ['es'], fileName: 'out' } },
    });
    const output = ((Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string; imports?: string[]; dynamicImports?: string[] }[] }[]).flatMap((o) => o.output);
    const code = output.map((c) => c.code ?? '').join('\n');
    expect(code.length).toBeGreaterThan(10_000);
    expect(nodeImports(code, rollupExternals(output))).toEqual([]);
  }, 120_000);

  it.each(['ser-ts', 'ser-ts/gpu', 'ser-ts/browser'])('Rollup (node-resolve, commonjs) bundles %s for the browser', async (entry) => {
    const bundle = await rollup({ input: join(dir, `${name(entry)}.js`), plugins: [nodeResolve({ browser: true }), commonjs()], onwarn: () => {} });
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true });
    const code = output.map((c) => ('code' in c ? c.code : '')).join('\n');
    expect(code.length).toBeGreaterThan(10_000);
    expect(nodeImports(code, rollupExternals(output))).toEqual([]);
  }, 120_000);
});

describe('Node bundles', () => {
  it('esbuild bundles ser-ts for Node, and the bundle classifies a clip as the library does', async () => {
    const src = join(dir, 'predict.js');
    writeFileSync(src, `import { ser } from 'ser-ts';
import { readFileSync } from 'node:fs';
const model = await ser.loadModelFrom(ser.bundledWeightUrls('single', ${JSON.stringify(pathToFileURL(join(ROOT, 'src/ser/weights')).href)}));
const p = model.predict(readFileSync(${JSON.stringify(join(ROOT, 'examples/audio/03-01-05-02-01-01-01.wav'))}));
console.log(JSON.stringify(p.probabilities));
`);
    const outfile = join(dir, 'predict.bundle.mjs');
    await esbuild({ entryPoints: [src], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent' });
    const r = await run(process.execPath, [outfile]);
    expect(r.code, r.stderr).toBe(0);
    const bundled = JSON.parse(r.stdout) as Record<string, number>;
    const { loadModel, BUNDLED_WEIGHTS } = await import('../../src/node.js');
    const direct = loadModel(BUNDLED_WEIGHTS).predict(readFileSync(join(ROOT, 'examples/audio/03-01-05-02-01-01-01.wav')));
    expect(bundled).toEqual(direct.probabilities);
  }, 60_000);

  it.each(['ser-ts', 'ser-ts/node', 'ser-ts/gpu'])('Rollup bundles %s for Node', async (entry) => {
    const bundle = await rollup({ input: join(dir, `${name(entry)}.js`), plugins: [nodeResolve({ exportConditions: ['node'], preferBuiltins: true }), commonjs({ ignoreDynamicRequires: true })], // headless-gl (gpu.js's optional GPU in Node) is a native addon: left to Node, as any native module is
    external: (id) => id.startsWith('node:') || id === 'gl', onwarn: () => {} });
    const { output } = await bundle.generate({ format: 'es', inlineDynamicImports: true });
    expect(output[0]!.code.length).toBeGreaterThan(10_000);
  }, 120_000);

  it('Vite bundles ser-ts/node for Node (SSR build)', async () => {
    const out = await viteBuild({ configFile: false, root: dir, logLevel: 'silent', build: { write: false, ssr: join(dir, 'ser-ts-node.js') } });
    const outputs = (Array.isArray(out) ? out : [out]) as { output: { code?: string }[] }[];
    expect(outputs.flatMap((o) => o.output).map((c) => c.code ?? '').join('').length).toBeGreaterThan(1000);
  }, 120_000);
});

describe('the package as npm ships it', () => {
  it('require() from CommonJS works (Node ≥ 20.19 loads the ES modules), for the main and Node entries', async () => {
    const r = await run(process.execPath, ['-e', "const m = require('ser-ts'); const n = require('ser-ts/node'); console.log(typeof m.ser.loadModelFrom, typeof n.loadModel)"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('function function');
  });
  it('without gpu.js (an optional peer dependency) ser-ts works and ser-ts/gpu says what to install', async () => {
    // an install without gpu.js: the package's files and wavefile, nothing else
    const bare = mkdtempSync(join(tmpdir(), 'ser-no-gpu-'));
    try {
      mkdirSync(join(bare, 'node_modules'));
      cpSync(join(ROOT, 'dist'), join(bare, 'node_modules/ser-ts/dist'), { recursive: true });
      cpSync(join(ROOT, 'package.json'), join(bare, 'node_modules/ser-ts/package.json'));
      symlinkSync(join(ROOT, 'node_modules/wavefile'), join(bare, 'node_modules/wavefile'), 'dir');
      const cpu = await run(process.execPath, ['--input-type=module', '-e', "const { ser } = await import('ser-ts'); console.log(ser.EMOTIONS.length)"], { cwd: bare });
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(cpu.stdout.trim()).toBe('8');
      const gpu = await run(process.execPath, ['--input-type=module', '-e', "await import('ser-ts/gpu')"], { cwd: bare });
      expect(gpu.code).not.toBe(0);
      expect(gpu.stderr).toMatch(/ser-ts\/gpu needs the gpu\.js package, an optional peer dependency that is not installed: npm install gpu\.js@2\.24\.1/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
  it('the tarball holds the build, the weights, the README, the licence and the docs it links to, and no sources or tests', async () => {
    const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/browser.js', 'dist/worker.js', 'dist/node/bin.js', 'dist/ser/weights/emotion-cnn.safetensors', 'docs/results.md', 'docs/speed.md']) expect(files, f).toContain(f);
    expect(files.filter((f) => /^(src|test|examples|bench|scripts|experiments)\//.test(f))).toEqual([]);
    // every local link of the README points into the tarball
    const links = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/\]\(((?!https?:|#)[^)#]+)/g)].map((m) => m[1]!);
    expect(links.filter((l) => !files.includes(l))).toEqual([]);
  }, 60_000);
});

