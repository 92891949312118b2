/** The CPU backend's two matrix-product kernels, for suites that must hold on each. */
import { afterAll, beforeAll } from 'vitest';
import { setSimd, simdAvailable } from '../../src/index.js';

/** 'js' always; 'simd' wherever this engine runs WebAssembly SIMD (Node 20 does). */
export const cpuKernels: ('js' | 'simd')[] = simdAvailable() ? ['js', 'simd'] : ['js'];

/** Inside a describe: selects the kernel for its tests and restores the default after. */
export function useCpuKernel(kernel: 'js' | 'simd'): void {
  beforeAll(() => setSimd(kernel === 'simd'));
  afterAll(() => setSimd(simdAvailable()));
}
