// electron-builder turns the app that Forge packaged (`npm run package` → out/) into installers with auto-update.
// `npm run dist` = electron-builder --prepackaged: one target set per OS it runs on (see README, "Packaging").
// Forge already built, asar-packed (native modules and onnxruntime unpacked), added the default bundle as an extra
// resource and fused the app (forge.config.ts, build/packaging.ts), so nothing here repacks it.
/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.vgtstudio.app',
  productName: 'VGT Studio',
  copyright: 'VGT Studio contributors, MIT licence',
  directories: { output: 'dist', buildResources: 'build' },
  artifactName: 'VGT-Studio-${version}-${os}-${arch}.${ext}',
  npmRebuild: false,
  // electron-updater reads the feed from here; the app asks before downloading and before installing.
  publish: [{ provider: 'generic', url: process.env.VGT_UPDATE_URL ?? 'https://updates.invalid/vgt-studio' }],
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Graphics',
    icon: 'build/icon.png',
    executableName: 'vgt-studio',
    synopsis: 'Local text-to-image studio for the VGT model',
  },
  deb: { depends: ['libgtk-3-0', 'libnss3', 'libxss1', 'libasound2'] },
  win: { target: ['nsis'], icon: 'build/icon.ico' },
  // The library and models live in the user's data folder and survive an uninstall.
  nsis: {
    oneClick: false,
    allowToChangeInstallationDirectory: true,
    perMachine: false,
    deleteAppDataOnUninstall: false,
  },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.graphics-design',
    icon: 'build/icon.icns',
    hardenedRuntime: true,
  },
  dmg: { sign: false },
};
