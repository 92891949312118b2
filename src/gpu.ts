/**
 * The GPU backend, a separate entry so that gpu.js loads only for those who use it:
 *
 *   import { useGpu } from 'ser-ts/gpu';
 *   const gpu = useGpu();          // registers and selects backend 'gpu' (mode 'auto')
 *   gpu.mode;                      // 'headlessgl' with a GPU in Node, 'webasm' without one
 *
 * Importing this module registers two backends: 'gpu' (gpu.js, auto mode) and 'auto', which is
 * 'gpu' where gpu.js has a real GPU context and 'cpu' where it would fall back to WebAssembly or
 * plain JavaScript, both slower than the hand-written CPU kernels (see the README's figures).
 */
import * as gpujsModule from 'gpu.js';
import { backendByName, registerBackend, setBackend } from './tensor/backend.js';
import { type GpuBackend, type GpuBackendOptions, type GpuJsModule, type GpuMode, availableModes, createGpuBackend } from './tensor/gpu/index.js';
import './tensor/cpu/register.js';

export { GPU_MODES, type GpuBackend, type GpuBackendOptions, type GpuMode, type GpuStats } from './tensor/gpu/index.js';

// gpu.js is CommonJS: under Node's ESM loader its exports sit on the namespace or on `default`
const gpujs = ((gpujsModule as unknown as { GPU?: unknown }).GPU ? gpujsModule : (gpujsModule as unknown as { default: unknown }).default) as GpuJsModule;

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

registerGpuBackend();
registerBackend('auto', () => (REAL_GPU.includes(gpuModes()[0]!) ? backendByName('gpu') : backendByName('cpu')));
