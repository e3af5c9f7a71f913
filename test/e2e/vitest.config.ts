import { defineConfig } from 'vitest/config';

// End-to-end: real Chromium (Debian's) driven by playwright-core against web mode, started once in global setup.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
