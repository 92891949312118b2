import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit`: the library in-process, fast (`npm run test:unit`). `e2e`: what a user runs,
 * in child processes and a real browser: the `ser` command, the package through bundlers, the web
 * app in Chromium, and librosa conformance on the shared recordings. `npm test` runs both.
 */
const E2E = ['test/browser/**/*.test.ts', 'test/ser/cli.test.ts', 'test/audio/librosa-conformance.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: E2E } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});
