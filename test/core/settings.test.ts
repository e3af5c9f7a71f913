// The execution provider preference: kept in the library (so it survives restarts and is shared with the CLI),
// VGT_EP wins over it, doctor reports what the engine will try first, and a change reaches the engine at its next
// model load (the runner lets its engine go once the work in progress is done).
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallResult } from '../../electron/common/contract';
import type { EngineApi } from '../../electron/engine/engine-thread';
import type { EngineFactory } from '../../electron/core/engine-host';
import { parseSettings, providerPreference } from '../../electron/core/settings';
import { createStudio, type Studio } from '../../electron/core/studio';
import { png, tempHome } from '../store/helpers';

const TINY_BUNDLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function folder(): string {
  const { home, cleanup } = tempHome('vgt-settings-');
  cleanups.push(cleanup);
  return home;
}

function open(
  home: string,
  env: NodeJS.ProcessEnv = {},
  builtinBundles: Array<string> = [],
  engine?: EngineFactory,
): Studio {
  const studio = createStudio({ home, mode: 'cli', env, builtinBundles, ...(engine ? { engine } : {}) });
  cleanups.push(() => studio.dispose());
  return studio;
}

function value<T>(result: CallResult<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

type Doctor = { onnxruntime: { preferred: string; preference: string | null } };

describe('settings', () => {
  it('start as automatic, persist across restarts, and refuse what the contract does not know', async () => {
    const home = folder();
    const first = open(home);
    expect(value(await first.handle('settings.get', {}))).toEqual({ provider: 'auto' });
    expect(value(await first.handle('settings.set', { provider: 'webgpu' }))).toEqual({ provider: 'webgpu' });
    // An empty change keeps what is there.
    expect(value(await first.handle('settings.set', {}))).toEqual({ provider: 'webgpu' });
    for (const bad of [{ provider: 'tpu' }, { provider: null }, { theme: 'dark' }, { provider: 'CPU' }]) {
      expect(await first.handle('settings.set', bad)).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
    }
    await first.dispose();
    const again = open(home);
    expect(value(await again.handle('settings.get', {}))).toEqual({ provider: 'webgpu' });
  });

  it('read a stored value this version does not know as the default', () => {
    expect(parseSettings({ provider: 'quantum' })).toEqual({ provider: 'auto' });
    expect(parseSettings({ provider: 'cuda', unknown: 1 })).toEqual({ provider: 'cuda' });
    expect(parseSettings({})).toEqual({ provider: 'auto' });
  });

  it('keep the generation defaults across restarts, checked like the Generate form', async () => {
    const home = folder();
    const first = open(home);
    const defaults = { count: 2, steps: 3, cfg: 4.5, cfgSchedule: 'constant', order: 'raster', tokensPerStep: 8 };
    expect(value(await first.handle('settings.set', { defaults }))).toEqual({ provider: 'auto', defaults });
    // Other settings leave them alone.
    expect(value(await first.handle('settings.set', { provider: 'cpu' }))).toEqual({ provider: 'cpu', defaults });
    for (const bad of [
      { count: 0 },
      { count: 17 },
      { count: 1, steps: 0 },
      { count: 1, cfg: -1 },
      { count: 1, order: 'spiral' },
      { count: 1, seed: 7 },
      { steps: 3 },
      { count: 1, model: '' },
    ]) {
      expect(await first.handle('settings.set', { defaults: bad })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD' },
      });
    }
    await first.dispose();
    const again = open(home);
    expect(value(await again.handle('settings.get', {}))).toEqual({ provider: 'cpu', defaults });
    const changed = { count: 1, model: 'tiny' };
    expect(value(await again.handle('settings.set', { defaults: changed }))).toMatchObject({ defaults: changed });
    // A stored value this version cannot read is left out, not an error.
    expect(parseSettings({ provider: 'cpu', defaults: { count: 'x' } })).toEqual({ provider: 'cpu' });
  });

  it('give way to VGT_EP', () => {
    expect(providerPreference({}, { provider: 'auto' })).toBeUndefined();
    expect(providerPreference({}, { provider: 'cuda' })).toBe('cuda');
    expect(providerPreference({ VGT_EP: ' webgpu,cpu ' }, { provider: 'cuda' })).toBe('webgpu,cpu');
    expect(providerPreference({ VGT_EP: '  ' }, { provider: 'cuda' })).toBe('cuda');
  });

  it('steer what doctor reports the engine will try first, while `preference` stays VGT_EP', async () => {
    const home = folder();
    const studio = open(home);
    // Doctor does not create a library just to read the settings.
    const before = value<Doctor>(await studio.handle('doctor', {}));
    expect(before.onnxruntime.preference).toBeNull();
    expect(existsSync(path.join(home, 'library.db'))).toBe(false);
    value(await studio.handle('settings.set', { provider: 'cpu' }));
    const after = value<Doctor>(await studio.handle('doctor', {}));
    expect(after.onnxruntime).toMatchObject({ preferred: 'cpu', preference: null });
    const withEnv = open(folder(), { VGT_EP: 'cpu' });
    value(await withEnv.handle('settings.set', { provider: 'webgpu' }));
    expect(value<Doctor>(await withEnv.handle('doctor', {})).onnxruntime).toMatchObject({
      preferred: 'cpu',
      preference: 'cpu',
    });
  });
});

describe('the engine and the provider setting', () => {
  /** A studio whose runner uses fake engines that record the provider order they were made with. */
  async function withFakeEngines(env: NodeJS.ProcessEnv = {}) {
    const base = folder();
    const bundles = path.join(base, 'bundles');
    mkdirSync(bundles);
    cpSync(TINY_BUNDLE, path.join(bundles, 'tiny'), { recursive: true });
    const made: Array<string | undefined> = [];
    const disposed: Array<number> = [];
    const studio = open(path.join(base, 'home'), env, [bundles], ({ preference }) => {
      const index = made.push(preference) - 1;
      return {
        reconstruct: async () => ({ engine: index }),
        dispose: async () => void disposed.push(index),
      } as unknown as EngineApi;
    });
    const { runner } = studio.services;
    const image = { kind: 'data', base64: (await png(5)).toString('base64') } as const;
    const use = () => runner.reconstruct({ image }) as unknown as Promise<{ engine: number }>;
    return { studio, made, disposed, use };
  }

  it('makes the next engine with the new choice once a change is saved', async () => {
    const { studio, made, disposed, use } = await withFakeEngines();
    expect(await use()).toEqual({ engine: 0 });
    expect(await use()).toEqual({ engine: 0 });
    value(await studio.handle('settings.set', { provider: 'webgpu' }));
    await expect.poll(() => disposed).toEqual([0]);
    expect(await use()).toEqual({ engine: 1 });
    // Saving the same choice again does not reload the model.
    value(await studio.handle('settings.set', { provider: 'webgpu' }));
    expect(await use()).toEqual({ engine: 1 });
    expect(made).toEqual([undefined, 'webgpu']);
  });

  it('keeps the engine when VGT_EP decides anyway', async () => {
    const { studio, made, disposed, use } = await withFakeEngines({ VGT_EP: 'cpu' });
    await use();
    value(await studio.handle('settings.set', { provider: 'webgpu' }));
    await use();
    expect(made).toEqual(['cpu']);
    expect(disposed).toEqual([]);
  });
});
