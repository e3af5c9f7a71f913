// One app-wide answer for `doctor` and `models.list`: asked again on demand, a stale answer never wins.
import { describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/common/contract';
import { HostState } from '../../renderer/src/lib/state/host.svelte';

const model = (id: string, isDefault = false) => ({ id, name: id.toUpperCase(), default: isDefault });

/** A host whose answers are released by hand, so a test can make an old answer arrive last. */
function host() {
  const pending: Array<{ name: string; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  const api = {
    call: (name: string) => new Promise((resolve, reject) => pending.push({ name, resolve, reject })),
    subscribe: () => () => {},
  } as unknown as StudioApi;
  return { api, pending };
}

describe('host state', () => {
  it('lists the models and their default, and keeps the newest answer when two cross', async () => {
    const { api, pending } = host();
    const h = new HostState(api);
    expect(h.modelsLoaded).toBe(false);
    const first = h.refreshModels();
    const second = h.refreshModels();
    pending[1]!.resolve({ models: [model('a'), model('b', true)] });
    await second;
    pending[0]!.resolve({ models: [] });
    await first;
    expect(h.models.map((m) => m.id)).toEqual(['a', 'b']);
    expect(h.defaultModel?.id).toBe('b');
    expect(h.modelsLoaded).toBe(true);
  });

  it('keeps the last good answers when asking again fails, and says why', async () => {
    const { api, pending } = host();
    const h = new HostState(api);
    const ok = h.modelsChanged();
    expect(pending.map((p) => p.name).sort()).toEqual(['doctor', 'models.list']);
    pending.find((p) => p.name === 'models.list')!.resolve({ models: [model('a')] });
    pending.find((p) => p.name === 'doctor')!.resolve({ dataDir: '/data' });
    await ok;
    const failing = h.modelsChanged();
    for (const p of pending.slice(2)) p.reject(new Error('fetch failed'));
    await failing;
    expect(h.models.map((m) => m.id)).toEqual(['a']);
    expect(h.modelsError).toMatch(/fetch failed|studio/i);
    expect(h.doctor).toEqual({ dataDir: '/data' });
    expect(h.doctorError?.message).toBe('fetch failed');
  });
});
