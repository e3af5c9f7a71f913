#!/usr/bin/env node
// `npm test`: every check the project has, in order: lint, typecheck, unit, renderer build, end-to-end, Python.
// Runs them all (so one failure does not hide another) and exits non-zero if any failed. `node scripts/test-all.mjs
// NAME…` runs only the named steps. The end-to-end tests need a Chromium and the Python tests a Python with PyTorch:
// `npm run test:setup` installs them on Debian; elsewhere set CHROMIUM_PATH and VGT_PYTHON (README).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A package's command as `node <its script>`: works on every OS (node_modules/.bin holds shell shims on Windows). */
function tool(pkg, name = pkg) {
  const manifest = JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8'));
  const script = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name];
  return [process.execPath, path.join(root, 'node_modules', pkg, script)];
}

/** `npm run …` through the npm that runs this script when there is one (npm sets npm_execpath). */
function npmRun(script) {
  const npm = process.env.npm_execpath;
  const args = ['run', '--silent', script];
  return npm ? [process.execPath, npm, ...args] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', ...args];
}

const steps = [
  ['lint', [...tool('eslint'), '.']],
  ['format', [...tool('prettier'), '--check', '.', '--log-level', 'warn']],
  ['typecheck', npmRun('typecheck')],
  ['unit', [...tool('vitest'), 'run']],
  ['renderer build', [...tool('vite'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']],
  ['end-to-end', [...tool('vitest'), 'run', '--config', 'test/e2e/vitest.config.ts']],
  ['python', [process.execPath, 'scripts/test-python.mjs']],
];

const only = process.argv.slice(2);
const results = [];
for (const [name, [command, ...args]] of steps) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
    shell: command.endsWith('.cmd'),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: result.status === 0, seconds });
}

console.log('\n=== summary ===');
for (const { name, ok, seconds } of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
process.exit(failed === 0 ? 0 : 1);
