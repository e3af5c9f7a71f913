#!/usr/bin/env node
// `npm run test:setup`: gets this machine ready for `npm test`, which needs a Chromium (end-to-end tests) and a
// Python 3 with PyTorch, ONNX, NumPy, Pillow and pytest (native-models). On Debian and its derivatives it installs
// the Debian packages that provide them with apt-get, when run as root and only what is missing (after one
// `apt-get update`). Elsewhere, or without root, it prints the one command to run (or the variables to set) and exits
// 1. CHROMIUM_PATH and VGT_PYTHON, when set, name the browser and the Python to use instead; then their packages
// are not needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM_PACKAGES = ['chromium'];
const PYTHON_PACKAGES = [
  'python3-torch',
  'python3-onnx',
  'python3-numpy',
  'python3-pil',
  'python3-pytest',
  'libopenblas0-pthread',
];
const PYTHON_MODULES = ['torch', 'onnx', 'numpy', 'PIL', 'pytest'];

const run = (command, args, options = {}) => spawnSync(command, args, { encoding: 'utf8', ...options });
const has = (command) => run('sh', ['-c', `command -v ${command}`]).status === 0;

function installed(pkg) {
  const result = run('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return result.status === 0 && result.stdout.trim() === 'install ok installed';
}

function pythonReady(python) {
  return run(python, ['-c', `import ${PYTHON_MODULES.join(', ')}`]).status === 0;
}

function main() {
  const chromiumPath = process.env.CHROMIUM_PATH;
  const python = process.env.VGT_PYTHON;
  const problems = [];
  if (chromiumPath && !existsSync(chromiumPath)) problems.push(`CHROMIUM_PATH=${chromiumPath} does not exist.`);
  if (python && !pythonReady(python)) {
    problems.push(`VGT_PYTHON=${python} cannot import ${PYTHON_MODULES.join(', ')}.`);
  }
  const wanted = [...(chromiumPath ? [] : CHROMIUM_PACKAGES), ...(python ? [] : PYTHON_PACKAGES)];

  if (!has('apt-get') || !has('dpkg-query')) {
    // Not Debian: the variables are the way (README, "Tests on macOS and Windows").
    if (!chromiumPath) problems.push('Set CHROMIUM_PATH to a Chromium or Google Chrome executable.');
    if (!python) {
      problems.push(
        `Set VGT_PYTHON to a Python 3 that can import ${PYTHON_MODULES.join(', ')} ` +
          '(e.g. python3 -m pip install torch onnx numpy pillow pytest).',
      );
    }
  } else {
    const missing = wanted.filter((pkg) => !installed(pkg));
    if (missing.length > 0) {
      const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
      if (!isRoot) {
        problems.push(
          `Missing Debian packages. Run:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
        );
      } else {
        console.log(`test:setup: installing ${missing.join(' ')}`);
        const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
        for (const args of [
          ['update', '-qq'],
          ['install', '-y', '-qq', ...missing],
        ]) {
          const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
          if (result.status !== 0) {
            problems.push(`apt-get ${args[0]} failed (exit ${result.status ?? result.signal}).`);
            break;
          }
        }
      }
    }
  }

  if (problems.length > 0) {
    console.error(`test:setup: this machine is not ready for npm test.\n${problems.join('\n')}`);
    return 1;
  }
  console.log('test:setup: ready (Chromium and Python test dependencies present).');
  return 0;
}

process.exitCode = main();
