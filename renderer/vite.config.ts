import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The renderer is plain static files: served by the app:// protocol in Electron and by the web-mode server.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // index.html only: the gallery-grid benchmark page is a test-only build of its own (bench/vite.config.ts).
    rollupOptions: { input: { main: fileURLToPath(new URL('index.html', import.meta.url)) } },
  },
});
