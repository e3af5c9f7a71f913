// Lint, including the rules that keep the architecture's layers apart:
// - electron/common: pure (neither Node nor Electron nor native addons); shared by every process.
// - the host's folders form layers (LAYERS below, README "Layout"): a folder imports only from folders of lower
//   layers, never from its own layer's siblings or from above.
// - only electron/engine imports onnxruntime-node, and inside it only engine/ort.ts (the door to the runtime); only
//   electron/store imports better-sqlite3; only electron/platform/image.ts (the image codec) imports sharp (build
//   scripts and tests may use it directly).
// - renderer: only electron/common from the main side; no Node, no Electron.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

// Bare package names go in `paths` (a `patterns` group named 'electron' would also match our electron/ folder).
const onlyEngine = ['onnxruntime-node', 'onnxruntime-common', 'onnxruntime-web'].map((name) => ({
  name,
  message: 'Only electron/engine may import onnxruntime.',
}));
// Inside the engine, onnxruntime has one door: the rest of the engine goes through it.
const ORT_DOOR = 'electron/engine/ort.ts';
const onlyOrtDoor = onlyEngine.map(({ name }) => ({
  name,
  message: `Inside electron/engine only ${ORT_DOOR} imports onnxruntime; go through it.`,
}));
const onlyStore = [{ name: 'better-sqlite3', message: 'Only electron/store may speak SQL (better-sqlite3).' }];
const onlyImageCodec = [
  { name: 'sharp', message: 'Only electron/platform/image.ts (the image codec) may import sharp.' },
];
const noElectron = [{ name: 'electron', message: 'Electron APIs belong in electron/main and electron/preload only.' }];
const noNode = (message) => nodeBuiltins.map((name) => ({ name, message }));
const mainSideFolders = {
  group: [
    '**/electron/main/**',
    '**/electron/preload/**',
    '**/electron/core/**',
    '**/electron/engine/**',
    '**/electron/store/**',
    '**/electron/web/**',
    '**/electron/cli/**',
  ],
  message: 'The renderer talks to the host only through the typed API in electron/common.',
};

// The host's layers, lowest first. Folders of one layer are siblings and do not import each other.
const LAYERS = [
  ['common'],
  ['platform'],
  ['engine', 'store'],
  ['models'],
  ['core'],
  ['bench', 'web'],
  ['cli', 'main'],
  ['preload'],
];
const layerOf = (folder) => LAYERS.findIndex((layer) => layer.includes(folder));
/** A relative import that climbs out of `folder` into a folder it may not use (same layer or above). */
function upwardImports(folder) {
  const banned = LAYERS.flat().filter((other) => other !== folder && layerOf(other) >= layerOf(folder));
  // The preload talks to nothing but the contract.
  const names = folder === 'preload' ? LAYERS.flat().filter((other) => other !== 'common' && other !== folder) : banned;
  return {
    regex: `^(\\.\\./)+(${names.join('|')})(/|$)`,
    message: `electron/${folder} may import only lower layers (README "Layout"): ${LAYERS.map((l) => l.join('+')).join(' < ')}.`,
  };
}

function restrict(paths, patterns = []) {
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.vite/**',
      'out/**',
      'dist/**',
      'renderer/dist/**',
      'renderer/bench/dist/**',
      'test-results/**',
      'native-models/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  // ---- Layers ----
  {
    files: ['electron/**/*.ts', 'test/**/*.ts', 'bin/**/*.mjs', 'scripts/**/*.{ts,mjs}'],
    ignores: [
      'electron/engine/**',
      'electron/store/**',
      'electron/main/**',
      'electron/preload/**',
      'electron/common/**',
    ],
    rules: restrict([...onlyEngine, ...onlyStore, ...noElectron]),
  },
  // Per-folder configs replace the rule's options, so each repeats the package bans of its folder.
  ...['platform', 'models', 'core', 'bench', 'web', 'cli'].map((folder) => ({
    files: [`electron/${folder}/**/*.ts`],
    rules: restrict([...onlyEngine, ...onlyStore, ...onlyImageCodec, ...noElectron], [upwardImports(folder)]),
  })),
  // The image codec: the one door to sharp.
  {
    files: ['electron/platform/image.ts'],
    rules: restrict([...onlyEngine, ...onlyStore, ...noElectron], [upwardImports('platform')]),
  },
  {
    files: ['electron/engine/**/*.ts'],
    ignores: [ORT_DOOR],
    rules: restrict([...onlyOrtDoor, ...onlyStore, ...onlyImageCodec, ...noElectron], [upwardImports('engine')]),
  },
  { files: [ORT_DOOR], rules: restrict([...onlyStore, ...onlyImageCodec, ...noElectron], [upwardImports('engine')]) },
  {
    files: ['electron/store/**/*.ts'],
    rules: restrict([...onlyEngine, ...onlyImageCodec, ...noElectron], [upwardImports('store')]),
  },
  ...['main', 'preload'].map((folder) => ({
    files: [`electron/${folder}/**/*.ts`],
    rules: restrict([...onlyEngine, ...onlyStore, ...onlyImageCodec], [upwardImports(folder)]),
  })),
  {
    files: ['electron/common/**/*.ts'],
    rules: restrict(
      [
        ...noNode('electron/common must stay pure: no Node modules.'),
        ...onlyEngine,
        ...onlyStore,
        ...onlyImageCodec,
        ...noElectron,
      ],
      [{ group: ['../../*', '../*', '!../common/*', '!../*.ts'], message: 'electron/common imports only itself.' }],
    ),
  },
  {
    files: ['renderer/**/*.{ts,svelte}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict(
      [...noNode('The renderer has no Node.'), ...onlyEngine, ...onlyStore, ...noElectron],
      [mainSideFolders],
    ),
  },
  {
    files: ['renderer/vite.config.ts', 'renderer/bench/vite.config.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
