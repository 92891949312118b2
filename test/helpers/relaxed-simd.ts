/**
 * Setup file of the vitest project `relaxed`: switches WebAssembly relaxed SIMD on in this test
 * process before the library loads (Node 20 has it behind a V8 flag; Chrome ≥ 114 and Node ≥ 22
 * by default), so the same suites hold the fused multiply-add kernels to the same references.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
process.env.SER_TS_TEST_RELAXED = '1';
