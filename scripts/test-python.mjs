#!/usr/bin/env node
// Runs the native-models pytest suite with Debian's Python (the one that has torch), when there are tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native-models');
const testsDir = path.join(dir, 'tests');
const python = process.env.VGT_PYTHON ?? '/usr/bin/python3';

const hasTests = existsSync(testsDir) && readdirSync(testsDir).some((f) => /^test_.*\.py$/.test(f));
if (!hasTests) {
  console.log('native-models has no Python tests yet.');
  process.exit(0);
}
const probe = spawnSync(python, ['-c', 'import torch, numpy, pytest'], { stdio: 'pipe' });
if (probe.status !== 0) {
  console.error(
    `${python} lacks torch/numpy/pytest. Install Debian's python3-torch python3-numpy python3-pytest python3-onnx python3-pil libopenblas0-pthread.`,
  );
  process.exit(1);
}
const result = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: dir, stdio: 'inherit' });
// pytest exits 5 when it collected nothing: that is not a failure of ours.
process.exit(result.status === 5 ? 0 : (result.status ?? 1));
