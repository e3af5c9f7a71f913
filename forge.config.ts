// Electron Forge: builds main/preload/renderer with Vite and packages the app (`npm run package` → out/).
// Installers come from electron-builder on top of the packaged app (`npm run dist`, build/electron-builder.config.cjs).
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { ASAR_UNPACK, EXTRA_RESOURCES, ignoreInPackage, pruneForeignBinaries } from './build/packaging';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'VGT Studio',
    executableName: 'vgt-studio',
    appBundleId: 'org.vgtstudio.app',
    appCategoryType: 'public.app-category.graphics-design',
    appCopyright: 'VGT Studio contributors, MIT licence',
    // build/icon.icns (macOS) and build/icon.ico (Windows), made by scripts/make-icons.mjs.
    icon: 'build/icon',
    asar: { unpack: ASAR_UNPACK },
    // The default model ships beside the archive (<resources>/bundles), where the engine can memory-map it.
    extraResource: [...EXTRA_RESOURCES],
    ignore: ignoreInPackage,
  },
  rebuildConfig: { onlyModules: ['better-sqlite3'] },
  hooks: {
    packageAfterPrune: async (_config, buildPath, _electronVersion, platform, arch) => {
      pruneForeignBinaries(buildPath, platform, arch);
    },
  },
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main/main.ts', config: 'electron/vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload/preload.ts', config: 'electron/vite.preload.config.ts', target: 'preload' },
        // The engine's worker thread: engine-thread.ts starts ./engine-worker.js next to main.js in a build.
        { entry: 'electron/engine/engine-worker.ts', config: 'electron/vite.main.config.ts', target: 'main' },
        // The library's maintenance thread (VACUUM and friends): store/compact.ts starts ./compact-worker.js.
        { entry: 'electron/store/compact-worker.ts', config: 'electron/vite.main.config.ts', target: 'main' },
      ],
      renderer: [{ name: 'main_window', config: 'renderer/vite.config.ts' }],
    }),
    // Fuses are flipped in the Electron binary itself: they cannot be turned back on by flags or environment.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    }),
  ],
};

export default config;
