/**
 * The GPU backend, a separate entry so that gpu.js loads only for those who use it:
 *
 *   import { useGpu } from 'ser-ts/gpu';
 *   const gpu = useGpu();          // registers and selects backend 'gpu' (mode 'auto')
 *   gpu.mode;                      // 'webgl2' in a browser, 'headlessgl' with a GPU in Node, 'webasm' without one
 *
 * Importing this module registers two backends: 'gpu' (gpu.js, auto mode) and 'auto', which is
 * whichever of 'gpu' and 'cpu' is faster here (`decideAuto` says which and why).
 */
import { SerTsError } from './tensor/errors.js';
import { type Backend, backendByName, registerBackend, setBackend } from './tensor/backend.js';
import { isSoftwareRenderer } from './tensor/gpu/renderer.js';
import { type GpuBackend, type GpuBackendOptions, type GpuJsModule, type GpuMode, availableModes, createGpuBackend } from './tensor/gpu/index.js';
import './tensor/cpu/register.js';

export { GPU_MODES, type GpuBackend, type GpuBackendOptions, type GpuMode, type GpuStats } from './tensor/gpu/index.js';
export { isSoftwareRenderer, glRenderer, SOFTWARE_RENDERERS } from './tensor/gpu/renderer.js';

/**
 * gpu.js is an optional peer dependency: `npm install ser-ts` for the CPU does not pull it (nor the
 * 84 MB `webgpu` package it depends on). This entry loads it, and says what to install when it is
 * missing. gpu.js is CommonJS: under Node's ESM loader its exports sit on the namespace or on `default`.
 */
export class GpuJsMissingError extends SerTsError {}
async function loadGpuJs(): Promise<GpuJsModule> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('gpu.js')) as unknown as Record<string, unknown>;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND' || /Cannot find (module|package) 'gpu\.js'/.test(err.message ?? '')) {
      throw new GpuJsMissingError("ser-ts/gpu needs the gpu.js package, an optional peer dependency that is not installed: npm install gpu.js@2.24.1 (the CPU backend, in 'ser-ts', needs nothing more)");
    }
    throw e;
  }
  return (mod.GPU ? mod : mod.default) as GpuJsModule;
}
const gpujs = await loadGpuJs();

/** Modes gpu.js can run here, best first. */
export function gpuModes(): GpuMode[] {
  return availableModes(gpujs);
}

/** Modes that drive a real GPU; the others emulate one on the CPU. */
const REAL_GPU: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl'];

/** A gpu.js backend that is not registered (to compare modes side by side, or to manage it yourself). */
export function createGpu(opts: GpuBackendOptions = {}): GpuBackend {
  return createGpuBackend(gpujs, opts);
}

/** (Re)registers backend 'gpu' with these options, so that `setBackend('gpu')` uses them. */
export function registerGpuBackend(opts: GpuBackendOptions = {}): void {
  registerBackend('gpu', () => createGpuBackend(gpujs, opts));
}

/** Registers backend 'gpu' with `opts`, selects it, and returns it (its `mode`, `stats()`). */
export function useGpu(opts: GpuBackendOptions = {}): GpuBackend {
  registerGpuBackend(opts);
  setBackend('gpu');
  return backendByName('gpu') as GpuBackend;
}

/** What `setBackend('auto')` chose, and why. */
export interface AutoDecision {
  backend: 'gpu' | 'cpu';
  reason: string;
  mode?: GpuMode;
  renderer?: string | null;
  /** Milliseconds of the timed probe on each backend, when it was timed. */
  gpuMs?: number;
  cpuMs?: number;
}

/** The probe `decideAuto` times: a 3×3 convolution the size of EmotionCNN's conv2 at batch 1. */
export function timeConvProbe(b: Backend): number {
  const g = { batch: 1, inC: 16, inH: 20, inW: 87, outC: 32, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, outH: 20, outW: 87 };
  const x = new Float32Array(16 * 20 * 87).map((_, i) => Math.sin(i));
  const w = new Float32Array(32 * 16 * 9).map((_, i) => Math.cos(i) / 12);
  const once = () => {
    const t0 = performance.now();
    b.read(b.conv2d(b.fromArray(x.slice()), b.fromArray(w.slice()), null, g), 32 * 20 * 87);
    return performance.now() - t0;
  };
  once(); // compiles
  return Math.min(once(), once());
}

/**
 * Decides `auto` by what is fast, not by mode name: the CPU where gpu.js would emulate a GPU
 * (its WebAssembly or JavaScript modes) or runs on a software renderer (SwiftShader, llvmpipe,
 * softpipe, Microsoft Basic Render Driver); elsewhere, one small kernel is timed on both backends
 * and the faster wins. `probe` is the timing, replaceable for tests.
 */
export function decideAuto(opts: {
  probe?: (b: Backend) => number;
  /** For tests: the gpu.js mode to consider and how to make its backend (default: gpu.js's best here). */
  mode?: GpuMode;
  create?: (mode: GpuMode) => GpuBackend;
} = {}): AutoDecision {
  const probe = opts.probe ?? timeConvProbe;
  const mode = opts.mode ?? gpuModes()[0]!;
  if (!REAL_GPU.includes(mode)) return { backend: 'cpu', mode, reason: `gpu.js would run its '${mode}' emulation, slower than the CPU kernels` };
  let gpu: GpuBackend;
  try {
    gpu = (opts.create ?? ((m) => createGpuBackend(gpujs, { mode: m })))(mode);
  } catch (e) {
    return { backend: 'cpu', mode, reason: `gpu.js could not start in '${mode}' mode: ${(e as Error).message}` };
  }
  try {
    const renderer = gpu.renderer();
    if (renderer && isSoftwareRenderer(renderer)) return { backend: 'cpu', mode, renderer, reason: `the GL renderer is a software rasteriser (${renderer})` };
    const gpuMs = probe(gpu);
    const cpuMs = probe(backendByName('cpu'));
    const faster = gpuMs < cpuMs ? 'gpu' : 'cpu';
    return { backend: faster, mode, renderer, gpuMs, cpuMs, reason: `a 3×3 convolution took ${gpuMs.toFixed(2)} ms on ${renderer ?? mode} and ${cpuMs.toFixed(2)} ms on the CPU` };
  } finally {
    gpu.destroy();
  }
}

let lastDecision: AutoDecision | null = null;

/** The decision behind backend 'auto' (made when it is first selected), or null before that. */
export function autoDecision(): AutoDecision | null {
  return lastDecision;
}

registerGpuBackend();
registerBackend('auto', () => {
  lastDecision = decideAuto();
  return backendByName(lastDecision.backend);
});
