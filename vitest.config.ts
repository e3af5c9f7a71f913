import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

// Unit and integration tests (Node). End-to-end tests have their own config in test/e2e.
export default defineConfig({
  plugins: [svelte({ configFile: 'renderer/svelte.config.js' })],
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
