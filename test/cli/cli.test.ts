import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextOption } from '../../electron/cli/commands/edit';
import { main, type CliIo } from '../../electron/cli/main';

function capture(env: NodeJS.ProcessEnv = {}): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const home = mkdtempSync(path.join(tmpdir(), 'vgt-cli-'));
  return {
    io: { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { VGT_STUDIO_HOME: home, ...env } },
    out: () => out,
    err: () => err,
  };
}

describe('vgt CLI', () => {
  it('prints its version and help', async () => {
    const version = capture();
    expect(await main(['--version'], version.io)).toBe(0);
    expect(version.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = capture();
    expect(await main(['--help'], help.io)).toBe(0);
    expect(help.out()).toContain('doctor');
  });

  it('doctor --json prints exactly one JSON object with the providers', async () => {
    const { io, out } = capture({ VGT_EP: 'webgpu,cpu' });
    expect(await main(['doctor', '--json'], io)).toBe(0);
    const lines = out().trim().split('\n');
    expect(lines).toHaveLength(1);
    const doctor = JSON.parse(lines[0]!);
    expect(doctor.mode).toBe('cli');
    expect(doctor.onnxruntime.version).toMatch(/^1\.\d+/);
    expect(doctor.onnxruntime.providers.find((p: { id: string }) => p.id === 'cpu').available).toBe(true);
    expect(doctor.onnxruntime.preference).toBe('webgpu,cpu');
    expect(doctor.dataDir).toBe(io.env.VGT_STUDIO_HOME);
    expect(typeof doctor.freeDiskBytes).toBe('number');
  });

  it('answers unknown commands and flags with a typed JSON error and a non-zero exit', async () => {
    const unknown = capture();
    expect(await main(['frobnicate', '--json'], unknown.io)).toBe(2);
    expect(JSON.parse(unknown.out())).toEqual({
      error: { code: 'USAGE', message: expect.stringContaining('frobnicate') },
    });
    const flag = capture();
    expect(await main(['doctor', '--bogus', '--json'], flag.io)).toBe(2);
    expect(JSON.parse(flag.out()).error.code).toBe('USAGE');
    const human = capture();
    expect(await main(['frobnicate'], human.io)).toBe(2);
    expect(human.err()).toContain('Unknown command');
  });

  it('edit --context takes all or none, and anything else is a usage error before any work', async () => {
    expect(contextOption({})).toBeUndefined();
    expect(contextOption({ context: 'all' })).toBe('all');
    expect(contextOption({ context: 'none' })).toBe('none');
    const bad = capture();
    const args = ['edit', '--image', 'in.png', '--mask', 'm.png', '--prompt', 'x', '--context', 'both', '--json'];
    expect(await main(args, bad.io)).toBe(2);
    expect(JSON.parse(bad.out())).toEqual({
      error: { code: 'USAGE', message: expect.stringContaining('--context is all or none, not "both"') },
    });
    expect(JSON.parse(bad.out()).error.message).toContain('[--context all|none]');
  });

  it('runs as the package bin (npx vgt)', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'vgt-bin-'));
    const result = spawnSync(process.execPath, ['bin/vgt.mjs', 'doctor', '--json'], {
      cwd: path.resolve(import.meta.dirname, '..', '..'),
      env: { ...process.env, VGT_STUDIO_HOME: home },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).dataDir).toBe(home);
  });
});
