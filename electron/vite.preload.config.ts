import { defineConfig } from 'vite';

// Sandboxed preloads must be CommonJS; the .cjs name keeps Node from reading it as ESM under "type": "module".
export default defineConfig({
  build: {
    rollupOptions: {
      external: ['electron'],
      output: { format: 'cjs', entryFileNames: 'preload.cjs', inlineDynamicImports: true },
    },
  },
});
