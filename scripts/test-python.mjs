#!/usr/bin/env node
// `npm run test:py`: the native-models pytest suite, with the Python that has PyTorch: VGT_PYTHON, else Debian's
// /usr/bin/python3 (`npm run test:setup` installs its packages).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'native-models');
const python = process.env.VGT_PYTHON || '/usr/bin/python3';

const probe = spawnSync(python, ['-c', 'import torch, onnx, numpy, PIL, pytest'], { stdio: 'pipe' });
if (probe.status !== 0) {
  console.error(
    `${python} cannot import torch, onnx, numpy, PIL and pytest. Run \`npm run test:setup\` (Debian), or set ` +
      'VGT_PYTHON to a Python 3 that has them.',
  );
  process.exit(1);
}
const result = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: dir, stdio: 'inherit' });
process.exit(result.status ?? 1);
