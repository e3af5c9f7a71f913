#!/usr/bin/env node
// `npm run dist`: installers from the app Forge packaged. Run `npm run package` first; this finds
// out/VGT Studio-<platform>-<arch>/ and hands it to electron-builder with --prepackaged.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packaged = path.join(root, 'out', `VGT Studio-${process.platform}-${process.arch}`);
if (!existsSync(packaged)) {
  console.error(`No packaged app at ${packaged}: run \`npm run package\` first.`);
  process.exit(1);
}
const builder = path.join(root, 'node_modules', 'electron-builder', 'cli.js');
const result = spawnSync(
  process.execPath,
  [builder, '--config', 'build/electron-builder.config.cjs', '--prepackaged', packaged, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
