// `vgt doctor --json` estimates the memory of the default model, or of one asked for, on each provider.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/main';
import type { MemoryEstimate } from '../../electron/engine/memory-estimate';
import { TINY_BUNDLE } from '../engine/golden';

async function vgt(home: string, builtinBundles: Array<string>, ...args: Array<string>) {
  let out = '';
  const code = await main([...args, '--json'], {
    stdout: (t) => (out += t),
    stderr: () => undefined,
    env: { VGT_STUDIO_HOME: home },
    builtinBundles,
  });
  return {
    code,
    json: JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      memory: MemoryEstimate | null;
      error?: { code: string };
    },
  };
}

describe('vgt doctor memory', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'vgt-doctor-mem-'));

  it('is null with no model, then estimates the default model and a chosen one', async () => {
    const none = await vgt(home, [], 'doctor');
    expect(none.code).toBe(0);
    expect(none.json.memory).toBeNull();

    expect((await vgt(home, [], 'models', 'import', TINY_BUNDLE)).code).toBe(0);
    const byDefault = await vgt(home, [], 'doctor');
    const memory = byDefault.json.memory!;
    expect(memory.model).toBe('vgt-tiny-test');
    expect(memory.providers.cpu).toEqual({
      hostBytes: expect.any(Number),
      deviceBytes: 0,
    });
    expect(memory.weights.storedBytes).toBeGreaterThan(0);

    const chosen = await vgt(home, [], 'doctor', '--model', 'vgt-tiny-test', '--batch', '2');
    expect(chosen.json.memory?.kvCacheBytes).toBe(2 * memory.kvCacheBytes);
    const missing = await vgt(home, [], 'doctor', '--model', 'no-such-model');
    expect(missing.code).not.toBe(0);
    expect(missing.json.error?.code).toBe('MODEL_NOT_FOUND');
  });
});
