// electron-builder turns the app that Forge packaged (`npm run package` → out/) into installers with auto-update.
// `npm run dist` = electron-builder --prepackaged: one target set per OS it runs on.
/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.vgtstudio.app',
  productName: 'VGT Studio',
  directories: { output: 'dist', buildResources: 'build' },
  // Forge already built, asar-packed (with native modules unpacked) and fused the app.
  publish: [{ provider: 'generic', url: process.env.VGT_UPDATE_URL ?? 'https://updates.invalid/vgt-studio' }],
  linux: { target: ['AppImage', 'deb'], category: 'Graphics', icon: 'build/icon.png' },
  deb: { depends: ['libgtk-3-0', 'libnss3', 'libxss1', 'libasound2'] },
  win: { target: ['nsis'], icon: 'build/icon.ico' },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true, perMachine: false },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.graphics-design',
    icon: 'build/icon.icns',
    hardenedRuntime: true,
  },
  dmg: { sign: false },
};
