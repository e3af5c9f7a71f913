// `npm start` where Electron cannot run: one line that says why, then web mode with its URL.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { electronUnavailableReason } from '../../bin/electron-check.mjs';

describe('npm start', () => {
  it('names the reason Electron cannot start', () => {
    const reason = electronUnavailableReason({}, 'linux') as string | null;
    // Either the binary is missing (as on CI) or, with a binary, there is no display in this empty environment.
    expect(reason).toMatch(/binary|display/);
  });

  it('falls back to web mode with a one-line reason and the URL', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'vgt-start-'));
    const child = spawn(process.execPath, ['bin/start.mjs'], {
      cwd: path.resolve(import.meta.dirname, '..', '..'),
      env: { ...process.env, VGT_STUDIO_HOME: home, VGT_STUDIO_PORT: '0', DISPLAY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expect
        .poll(() => output, { timeout: 60_000, interval: 200 })
        .toMatch(/serving http:\/\/127\.0\.0\.1:\d+\//);
      const lines = output.trim().split('\n');
      expect(lines[0]).toMatch(/^Electron cannot start here \(.+\); serving the studio in web mode instead\.$/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
