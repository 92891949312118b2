/**
 * Bundle sizes of the browser entries, minified by esbuild and gzipped (level 9): the figures in
 * the README's "In the browser".
 *
 *   npx tsx scripts/bundle-size.ts
 */
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(`../src/${p}`, import.meta.url));
const entries: [string, string][] = [
  ['`ser-ts` (everything)', `export * from ${JSON.stringify(src('index.ts'))};`],
  ['`ser-ts`: load a model and classify a clip', `import { ser } from ${JSON.stringify(src('index.ts'))}; globalThis.run = async (u, b) => (await ser.loadModelFrom(u)).predict(b);`],
  ['`ser-ts/browser`', `export * from ${JSON.stringify(src('browser.ts'))};`],
  ['`ser-ts/worker` (gpu.js inlined, loaded lazily by bundlers that split)', `import ${JSON.stringify(src('worker.ts'))};`],
  ['`ser-ts/gpu`', `export * from ${JSON.stringify(src('gpu.ts'))};`],
];

console.log('| bundle | minified | min+gzip |\n| --- | ---: | ---: |');
for (const [name, contents] of entries) {
  const r = await build({ stdin: { contents, resolveDir: src('.'), loader: 'ts' }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
  const code = r.outputFiles[0]!.contents;
  console.log(`| ${name} | ${(code.length / 1024).toFixed(0)} KiB | ${(gzipSync(code, { level: 9 }).length / 1024).toFixed(0)} KiB |`);
}
const weights = readdirSync(src('ser/weights')).filter((f) => f.endsWith('.safetensors'));
console.log(`\nweights, served beside the bundle: ${weights.map((f) => `${f} ${(statSync(src(`ser/weights/${f}`)).size / 2 ** 20).toFixed(1)} MiB`).join(', ')}`);
