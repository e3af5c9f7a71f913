import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The gallery-grid benchmark page (index.html here): the app's windowed grid with synthetic items, for the
// performance end-to-end test (test/e2e/gallery-perf.e2e.ts builds it with this config and serves it). It is not part
// of the app: renderer/vite.config.ts builds the renderer's own index.html only. To look at it:
// `npx vite --config renderer/bench/vite.config.ts`, then open the printed URL (add ?count=N).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: fileURLToPath(new URL('../public', import.meta.url)),
  plugins: [svelte({ configFile: fileURLToPath(new URL('../svelte.config.js', import.meta.url)) })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Built like the app's renderer: no inline scripts or styles (the page's CSP allows only 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
