// The bench's PyTorch reference runs with the Python the tests use: VGT_PYTHON, else Debian's, else PATH's.
import { describe, expect, it } from 'vitest';
import { pythonExecutable } from '../../electron/cli/commands/bench';

describe('bench: which Python', () => {
  it('VGT_PYTHON wins, then /usr/bin/python3 where it exists, then python3', () => {
    expect(pythonExecutable({ VGT_PYTHON: '/opt/venv/bin/python' }, () => true)).toBe('/opt/venv/bin/python');
    expect(pythonExecutable({}, (p) => p === '/usr/bin/python3')).toBe('/usr/bin/python3');
    expect(pythonExecutable({ VGT_PYTHON: '' }, () => false)).toBe('python3');
  });
});
