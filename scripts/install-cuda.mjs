#!/usr/bin/env node
// Opt-in CUDA for Linux/Windows: runs onnxruntime-node's own installer for the CUDA 12 add-on.
// It downloads from the internet, so it is never part of `npm ci`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ortRoot = path.dirname(require.resolve('onnxruntime-node/package.json'));
const result = spawnSync(
  process.execPath,
  [path.join(ortRoot, 'script', 'install.js'), '--onnxruntime-node-install=cuda12'],
  {
    cwd: ortRoot,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
  },
);
if (result.status === 0) console.log('CUDA add-on installed: `npx vgt doctor` should now list cuda as available.');
process.exit(result.status ?? 1);
