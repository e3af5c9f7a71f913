// Electron Forge: builds main/preload/renderer with Vite and packages the app (`npm run package`).
// Installers come from electron-builder on top of the packaged app (`npm run dist`, build/electron-builder.config.cjs).
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { VitePlugin } from '@electron-forge/plugin-vite';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

const config: ForgeConfig = {
  packagerConfig: {
    name: 'VGT Studio',
    executableName: 'vgt-studio',
    appBundleId: 'org.vgtstudio.app',
    icon: 'build/icon',
    // Native code cannot run from inside an asar archive: onnxruntime's binaries and every .node addon stay unpacked.
    asar: {
      unpack: '{**/node_modules/onnxruntime-node/bin/**,**/*.node,**/node_modules/sharp/**,**/node_modules/@img/**}',
    },
    // The default model ships beside the archive, where the engine can memory-map it.
    extraResource: ['native-models/bundles'],
    ignore: (file: string) => file !== '' && !/^\/(\.vite|package\.json|node_modules)(\/|$)/.test(file),
  },
  rebuildConfig: { onlyModules: ['better-sqlite3'] },
  makers: [],
  plugins: [
    new VitePlugin({
      build: [
        { entry: 'electron/main/main.ts', config: 'electron/vite.main.config.ts', target: 'main' },
        { entry: 'electron/preload/preload.ts', config: 'electron/vite.preload.config.ts', target: 'preload' },
      ],
      renderer: [{ name: 'main_window', config: 'renderer/vite.config.ts' }],
    }),
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
