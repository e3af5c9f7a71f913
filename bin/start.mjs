#!/usr/bin/env node
// `npm start`: the desktop app. Where Electron cannot start here (no binary, no display) it says why in one line
// and serves the same studio in web mode instead.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronUnavailableReason } from './electron-check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const reason = electronUnavailableReason();
if (reason === null) {
  const forge = path.join(root, 'node_modules', '@electron-forge', 'cli', 'dist', 'electron-forge.js');
  // npm passes .npmrc's install-time node-options on to scripts; Electron's own Node must not see them.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [forge, 'start'], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`Electron cannot start here (${reason}); serving the studio in web mode instead.`);
  await import('./studio.mjs');
}
