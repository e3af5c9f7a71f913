import { defineConfig } from 'vite';

// Main process bundle for Forge. Native addons stay external: they are loaded from the unpacked node_modules.
export default defineConfig({
  build: {
    rollupOptions: {
      external: ['electron', 'electron-updater', 'better-sqlite3', 'onnxruntime-node', 'sharp', /^node:/],
      output: { format: 'es', entryFileNames: '[name].js' },
    },
  },
});
