/**
 * Loading trained weights from anywhere, asynchronously: a URL (fetched), a fetch `Response`, a
 * `Blob`/`File`, or the bytes themselves. One API for browsers and Node: in Node a `file:` URL or a
 * plain path is read from disk (the only place this module touches Node, through an import that
 * bundlers cannot see, so browser bundles never include it).
 *
 *   const model = await loadModelFrom('https://example.org/emotion-cnn.safetensors');
 *   const pair  = await loadModelFrom(bundledWeightUrls());   // the bundled ensemble
 */
import { SerTsError } from '../tensor/errors.js';
import { EmotionEnsemble, EmotionRecognizer } from './predict.js';

/** Where weights can come from. A string is a URL (relative to the page in browsers) or, in Node, a path. */
export type WeightsSource = string | URL | Response | Blob | ArrayBuffer | ArrayBufferView;

/** The bundled weights, by the name `bundledWeightUrls` takes. */
export const BUNDLED_FILES = {
  /** The bundled ensemble (the default of `ser predict`): two seeds of the best recipe. */
  ensemble: ['emotion-cnn.safetensors', 'emotion-cnn-seed1.safetensors'],
  /** One model of that ensemble (half the work per clip). */
  single: ['emotion-cnn.safetensors'],
  /** The speaker-normalised model, for speakers enrolled with a few clips. */
  speakerNorm: ['emotion-cnn-speaker-norm.safetensors'],
} as const;

/**
 * URLs of the bundled weights. By default they sit beside this module in the package
 * (`ser-ts/weights/…`), which is right for unbundled ESM, Node and a CDN. A bundle moves this module,
 * so web apps copy `node_modules/ser-ts/dist/ser/weights/` to their static files and pass that
 * folder's URL as `base` (see the README's "In the browser").
 */
export function bundledWeightUrls(which: keyof typeof BUNDLED_FILES = 'ensemble', base?: string | URL): URL[] {
  const folder = base === undefined ? new URL('./weights/', import.meta.url) : new URL(String(base).replace(/\/?$/, '/'), globalThis.location?.href);
  return BUNDLED_FILES[which].map((f) => new URL(f, folder));
}

/**
 * An EmotionRecognizer from one source, or an EmotionEnsemble averaging several. Errors name the
 * source: a URL that answered 404, a path that does not exist, bytes that are not safetensors.
 */
export async function loadModelFrom(source: WeightsSource): Promise<EmotionRecognizer>;
export async function loadModelFrom(sources: readonly WeightsSource[]): Promise<EmotionEnsemble>;
export async function loadModelFrom(source: WeightsSource | readonly WeightsSource[]): Promise<EmotionRecognizer | EmotionEnsemble> {
  if (Array.isArray(source)) {
    if (!source.length) throw new SerTsError('loadModelFrom: an ensemble needs at least one weights source');
    const members = await Promise.all(source.map((s) => loadModelFrom(s as WeightsSource)));
    return new EmotionEnsemble(members);
  }
  const bytes = await readSource(source as WeightsSource);
  try {
    return EmotionRecognizer.fromSafetensors(bytes);
  } catch (e) {
    (e as Error).message = `${describe(source as WeightsSource)}: ${(e as Error).message}`;
    throw e;
  }
}

/** The bytes behind a source. */
export async function readSource(source: WeightsSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof Response !== 'undefined' && source instanceof Response) return responseBytes(source, source.url || 'response');
  if (typeof source === 'string' || source instanceof URL) {
    const url = toUrl(source);
    if (url === null || url.protocol === 'file:') return readLocalFile(url ?? String(source));
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new SerTsError(`could not fetch weights from ${url.href}: ${(e as Error).message}`);
    }
    return responseBytes(response, url.href);
  }
  throw new SerTsError('loadModelFrom: a source is a URL, a path (Node), a Response, a Blob, an ArrayBuffer or bytes');
}

async function responseBytes(r: Response, what: string): Promise<Uint8Array> {
  if (!r.ok) throw new SerTsError(`could not fetch weights from ${what}: HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''}`);
  return new Uint8Array(await r.arrayBuffer());
}

const isNode = () => typeof process !== 'undefined' && !!process.versions?.node;

/** A URL, or null for what only a file system can resolve (a Node path). */
function toUrl(source: string | URL): URL | null {
  if (source instanceof URL) return source;
  if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) return new URL(source); // a scheme, not a Windows drive
  if (isNode()) return null;
  return new URL(source, globalThis.location?.href);
}

async function readLocalFile(path: URL | string): Promise<Uint8Array> {
  if (!isNode()) throw new SerTsError(`cannot read ${String(path)}: files are read from disk in Node only; in a browser pass a URL the page can fetch`);
  // hidden from bundlers on purpose (a name they cannot fold into a constant): this branch runs in
  // Node only, and browser bundles must neither include node:fs nor name it
  const fsName = ['node', 'fs/promises'].join(':');
  const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsName)) as typeof import('node:fs/promises');
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const shown = path instanceof URL ? path.href : path;
    throw new SerTsError(code === 'ENOENT' ? `weights file '${shown}' does not exist` : `cannot read weights file '${shown}': ${(e as Error).message}`);
  }
}

function describe(source: WeightsSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof Response !== 'undefined' && source instanceof Response) return source.url || 'response';
  if (typeof File !== 'undefined' && source instanceof File) return source.name;
  return 'weights';
}
