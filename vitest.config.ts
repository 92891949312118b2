import { defineConfig } from 'vitest/config';

/**
 * Three tiers. `unit`: the library in-process, fast (`npm run test:unit`). `e2e`: what a user runs,
 * in child processes and a real browser: the `ser` command, the package through bundlers, the web
 * app in Chromium, and librosa conformance on the shared recordings. `relaxed`: the kernel and
 * PyTorch-parity suites again with WebAssembly relaxed SIMD switched on
 * (test/helpers/relaxed-simd.ts), so the fused multiply-add kernels meet the same references.
 * `npm test` runs all three.
 */
const RELAXED = ['test/tensor/simd.test.ts', 'test/tensor/torch-parity.test.ts', 'test/tensor/emotion-cnn-parity.test.ts', 'test/tensor/threads.test.ts', 'test/tensor/fused.test.ts'];
const E2E = ['test/browser/**/*.test.ts', 'test/ser/cli.test.ts', 'test/audio/librosa-conformance.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E } },
      { extends: true, test: { name: 'e2e', include: E2E } },
      {
        extends: true,
        test: { name: 'relaxed', include: RELAXED, setupFiles: ['test/helpers/relaxed-simd.ts'] },
      },
    ],
  },
});
