// What the packaged app ships, read from the packaging configs themselves: native binaries of every platform
// unpacked from the asar, the default bundle as an extra resource where the registry looks, fuses, installers, icons.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import forgeConfig from '../../forge.config';
import { ASAR_UNPACK, ignoreInPackage, pruneForeignBinaries } from '../../build/packaging';
import { ICNS_TYPES, makeIcons } from '../../scripts/make-icons.mjs';
import { readBundleManifest } from '../../electron/models/manifest';
import { defaultBuiltinRoots } from '../../electron/models/registry';
import { tempDir } from '../models/helpers';

const root = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
// The matcher @electron/asar applies to `asar.unpack` (minimatch with matchBase, on absolute paths).
const minimatch = require('minimatch') as (file: string, pattern: string, options: { matchBase: boolean }) => boolean;
const unpacked = (relative: string) => minimatch(path.join('/build/app', relative), ASAR_UNPACK, { matchBase: true });
const ortBin = path.join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');

describe('packaging', () => {
  const packager = forgeConfig.packagerConfig!;

  it('unpacks onnxruntime for every platform and arch, and every native add-on', () => {
    expect((packager.asar as { unpack: string }).unpack).toBe(ASAR_UNPACK);
    const platforms = readdirSync(ortBin);
    expect(platforms).toEqual(expect.arrayContaining(['linux', 'win32', 'darwin']));
    let binaries = 0;
    for (const platform of platforms) {
      for (const arch of readdirSync(path.join(ortBin, platform))) {
        const files = readdirSync(path.join(ortBin, platform, arch));
        expect(files.some((f) => f.endsWith('.node'))).toBe(true);
        expect(
          files.some((f) => /\.(so(\.\d+)*|dylib|dll)$/.test(f)),
          `${platform}/${arch}`,
        ).toBe(true);
        for (const file of files) {
          const relative = `node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/${file}`;
          expect(unpacked(relative), relative).toBe(true);
          expect(ignoreInPackage(`/${relative}`), relative).toBe(false);
          binaries += 1;
        }
      }
    }
    expect(binaries).toBeGreaterThanOrEqual(15);
    expect(unpacked('node_modules/better-sqlite3/build/Release/better_sqlite3.node')).toBe(true);
    expect(unpacked('.vite/build/main.js')).toBe(false);
    expect(unpacked('node_modules/zod/index.js')).toBe(false);
  });

  it('packs the Vite build and dependencies, not sources, tests or model training files', () => {
    for (const kept of ['/package.json', '/.vite/build/main.js', '/.vite/renderer/main_window/index.html']) {
      expect(ignoreInPackage(kept), kept).toBe(false);
    }
    for (const dropped of ['/electron/main/main.ts', '/test/models', '/native-models/vgt/lm.py', '/.git/config']) {
      expect(ignoreInPackage(dropped), dropped).toBe(true);
    }
  });

  it('ships the default bundle folder as <resources>/bundles, where the registry looks', () => {
    expect(packager.extraResource).toEqual(['native-models/bundles']);
    const resources = path.join(tempDir('resources'), 'resources');
    const processWithResources = process as { resourcesPath?: string };
    processWithResources.resourcesPath = resources;
    try {
      const shipped = (packager.extraResource as Array<string>).map((p) => path.join(resources, path.basename(p)));
      expect(defaultBuiltinRoots()).toEqual(expect.arrayContaining(shipped));
    } finally {
      delete processWithResources.resourcesPath;
    }
    expect(defaultBuiltinRoots()).toContain(path.join(root, 'native-models', 'bundles'));
  });

  it.runIf(existsSync(path.join(root, 'native-models', 'bundles')))('the shipped bundles are readable', async () => {
    const dir = path.join(root, 'native-models', 'bundles');
    const bundles = readdirSync(dir).filter((name) => existsSync(path.join(dir, name, 'vgt-bundle.json')));
    expect(bundles.length).toBeGreaterThan(0);
    for (const name of bundles) await expect(readBundleManifest(path.join(dir, name))).resolves.toBeTruthy();
  });

  it('keeps only the target platform’s onnxruntime binaries in a package', () => {
    const build = tempDir('prune');
    for (const dir of ['linux/x64', 'linux/arm64', 'win32/x64', 'darwin/arm64']) {
      mkdirSync(path.join(build, 'node_modules/onnxruntime-node/bin/napi-v6', dir), { recursive: true });
      writeFileSync(path.join(build, 'node_modules/onnxruntime-node/bin/napi-v6', dir, 'onnxruntime_binding.node'), '');
    }
    const removed = pruneForeignBinaries(build, 'win32', 'x64');
    expect(removed.map((p) => p.split(path.sep).slice(-2).join('/')).sort()).toEqual([
      'darwin/arm64',
      'linux/arm64',
      'linux/x64',
    ]);
    expect(readdirSync(path.join(build, 'node_modules/onnxruntime-node/bin/napi-v6/win32'))).toEqual(['x64']);
    expect(typeof forgeConfig.hooks?.packageAfterPrune).toBe('function');
  });

  it('flips the fuses that close Node and debugging entry points', () => {
    const fuses = forgeConfig.plugins!.map((p) => (p as { fusesConfig?: Record<number, unknown> }).fusesConfig);
    const config = fuses.find((f) => f !== undefined)!;
    // FuseV1Options: 0 RunAsNode, 1 cookie encryption, 2 NODE_OPTIONS, 3 --inspect, 4 asar integrity, 5 asar only,
    // 6 browser V8 snapshot, 7 file:// extra privileges.
    expect(config).toMatchObject({ 0: false, 1: true, 2: false, 3: false, 4: true, 5: true, 6: false, 7: false });
  });

  it('builds installers per OS with one app id, the product name, icons and an update feed', () => {
    const builder = require('../../build/electron-builder.config.cjs') as Record<string, Record<string, unknown>>;
    expect(builder.appId).toBe(packager.appBundleId);
    expect(builder.productName).toBe(packager.name);
    expect(builder.linux).toMatchObject({ target: ['AppImage', 'deb'], icon: 'build/icon.png' });
    expect(builder.win).toMatchObject({ target: ['nsis'], icon: 'build/icon.ico' });
    expect(builder.mac).toMatchObject({ target: ['dmg'], icon: 'build/icon.icns', hardenedRuntime: true });
    expect((builder.publish as unknown as Array<{ provider: string }>)[0]!.provider).toBe('generic');
    for (const icon of ['build/icon.png', 'build/icon.ico', 'build/icon.icns']) expect(existsSync(icon)).toBe(true);
  });

  it('has icons made by scripts/make-icons.mjs: a 512 px master, a Windows .ico and a macOS .icns', async () => {
    const out = tempDir('icons');
    await makeIcons(out);
    for (const name of ['icon.svg', 'icon.png', 'icon.ico', 'icon.icns']) {
      expect(readFileSync(path.join(out, name)).equals(readFileSync(path.join(root, 'build', name))), name).toBe(true);
    }
    const png = readFileSync(path.join(root, 'build', 'icon.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);

    const ico = readFileSync(path.join(root, 'build', 'icon.ico'));
    const count = ico.readUInt16LE(4);
    const widths = Array.from({ length: count }, (_, i) => ico.readUInt8(6 + 16 * i) || 256);
    expect(widths).toEqual(expect.arrayContaining([16, 32, 48, 256]));

    const icns = readFileSync(path.join(root, 'build', 'icon.icns'));
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const types: Array<string> = [];
    for (let at = 8; at < icns.length; at += icns.readUInt32BE(at + 4))
      types.push(icns.subarray(at, at + 4).toString());
    expect(types).toEqual(ICNS_TYPES.map(([type]) => type));
  });
});
