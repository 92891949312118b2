/**
 * Deterministic release of backend storage, in the style of TensorFlow.js: `t.dispose()`, a scope
 * helper `tidy(fn)` that disposes every tensor made inside it except what it returns (or what is
 * passed to `keep`), and `memory()`. The CPU backend's storage is garbage-collected memory, so
 * there this is bookkeeping (and use after dispose is an error on every backend alike); the GPU
 * backend's textures are not reclaimed until deleted, which is what this is for.
 *
 * Storage is reference-counted per handle: views (`reshape`, `detach`) share their source's handle,
 * and a handle is released when the last tensor holding it is disposed. Inside a scope, handles a
 * backend makes and no tensor holds (an op's temporaries, the statistics batch norm keeps for its
 * backward) are released when the scope ends too: run the forward and backward passes of a step in
 * one scope. Tensors that live on (parameters, optimiser state) hold their handles and are untouched.
 */
import type { Backend, Handle } from './backend.js';

interface Scope {
  tensors: Set<Disposable>;
  /** Handles made by backends while this scope was innermost. */
  handles: { backend: Backend; handle: object }[];
}

/** What a scope can release: a Tensor (kept abstract here to avoid an import cycle). */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  readonly _backend: Backend;
  readonly _handle: Handle;
}

const scopes: Scope[] = [];
const refs = new WeakMap<object, number>();
const kept = new WeakSet<Disposable>();
/** Handles already given back, so that none is released twice. */
const released = new WeakSet<object>();
let liveTensors = 0;
let liveBytes = 0;
const collected = typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry<number>((bytes) => {
  liveTensors--;
  liveBytes -= bytes;
});

const isObject = (h: unknown): h is object => typeof h === 'object' && h !== null;

/** @internal A tensor now holds `h`. */
export function retain(h: Handle): void {
  if (isObject(h)) refs.set(h, (refs.get(h) ?? 0) + 1);
}

/** @internal A tensor no longer holds `h`; the last one gives it back to its backend. */
export function release(b: Backend, h: Handle): void {
  if (!isObject(h)) return;
  const n = (refs.get(h) ?? 1) - 1;
  if (n > 0) {
    refs.set(h, n);
    return;
  }
  refs.delete(h);
  if (released.has(h)) return;
  released.add(h);
  b.dispose?.(h);
}

/** @internal Called by every new tensor: counted, and owned by the innermost scope. */
export function track(t: Disposable, bytes: number): void {
  liveTensors++;
  liveBytes += bytes;
  collected?.register(t, bytes, t);
  scopes.at(-1)?.tensors.add(t);
}

/** @internal Called once by Tensor.dispose. */
export function untrack(t: Disposable, bytes: number): void {
  liveTensors--;
  liveBytes -= bytes;
  collected?.unregister(t);
}

/**
 * For backends that can release storage (those with `dispose`): every handle a backend makes, its
 * internal temporaries included, is reported here, so that a scope can release those no tensor
 * ends up holding. Outside scopes it costs a length check.
 */
export function madeInScope(backend: Backend, h: unknown): void {
  if (scopes.length && isObject(h)) scopes[scopes.length - 1]!.handles.push({ backend, handle: h });
}

/** Keeps `t` alive past the scope it was made in (tidy's result is kept without this). */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.tensors.delete(t);
  return t;
}

/** Tensors found in a value tidy returns: a tensor, or arrays and plain objects of them. */
function tensorsIn(v: unknown, out: Set<Disposable>, depth = 0): void {
  if (!isObject(v) || depth > 4) return;
  if ('dispose' in v && '_handle' in v) out.add(v as Disposable);
  else if (Array.isArray(v)) v.forEach((x) => tensorsIn(x, out, depth + 1));
  else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => tensorsIn(x, out, depth + 1));
}

/**
 * Runs `fn` and disposes every tensor it made, except those in its result (a tensor, or arrays or
 * plain objects of tensors, which move to the enclosing scope) and those passed to `keep`; then
 * releases the handles backends made inside that no tensor holds. Scopes nest. Not for async
 * functions: the scope would close before their work does.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: new Set(), handles: [] };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new TypeError('tidy: fn returned a Promise; tidy only scopes synchronous work');
  const survivors = new Set<Disposable>();
  tensorsIn(result, survivors);
  const parent = scopes.at(-1);
  for (const t of scope.tensors) {
    if (survivors.has(t)) parent?.tensors.add(t);
    else if (!kept.has(t)) t.dispose();
  }
  const held = new Set<object>();
  for (const t of survivors) if (isObject(t._handle)) held.add(t._handle);
  for (const { backend, handle } of scope.handles) {
    // made here and held by no tensor: an op's temporary
    if (refs.has(handle) || held.has(handle) || released.has(handle)) continue;
    released.add(handle);
    backend.dispose?.(handle);
  }
  return result;
}

export interface MemoryInfo {
  /** Tensors neither disposed nor garbage-collected. */
  numTensors: number;
  /** Their size in bytes (4 per value; views count again). */
  numBytes: number;
  /** Scopes open now (tidy calls in progress). */
  scopes: number;
}

/** What is held now, as tf.memory() says it; a backend's own counts (GPU textures) come from its stats(). */
export function memory(): MemoryInfo {
  return { numTensors: liveTensors, numBytes: liveBytes, scopes: scopes.length };
}
