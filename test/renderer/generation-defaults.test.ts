// The generation defaults live in the host's settings: read at start, saved through `settings.set`, moved there once
// from this device's storage, and handed to the Generate form the moment they change.
import { describe, expect, it } from 'vitest';
import type { StudioApi, StudioSettings } from '../../electron/common/contract';
import { StudioSettingsSchema } from '../../electron/common/contract';
import { GenerationDefaultsState } from '../../renderer/src/lib/state/generation-defaults.svelte';
import { GenerateForm } from '../../renderer/src/lib/state/generate-form.svelte';

function memoryStorage(initial: Record<string, string> = {}) {
  const store = new Map(Object.entries(initial));
  return {
    store,
    storage: { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) },
  };
}

/** A host keeping settings in memory, checking `settings.set` against the contract like the real one. */
function fakeHost(initial: StudioSettings = { provider: 'auto' }) {
  let settings: StudioSettings = initial;
  const calls: Array<{ name: string; request: unknown }> = [];
  let fail: string | null = null;
  const api = {
    async call(name: string, request: unknown) {
      calls.push({ name, request });
      if (fail) throw Object.assign(new Error(fail), { code: 'INTERNAL' });
      if (name === 'settings.get') return settings;
      if (name === 'settings.set') {
        const patch = StudioSettingsSchema.partial().strict().parse(request);
        settings = { ...settings, ...patch };
        return settings;
      }
      throw new Error(`no ${name}`);
    },
  } as unknown as StudioApi;
  return { api, calls, settings: () => settings, failWith: (message: string | null) => (fail = message) };
}

describe('generation defaults in the host settings', () => {
  it('loads the host’s defaults and saves changes there, keeping only the timings on this device', async () => {
    const host = fakeHost({ provider: 'cpu', defaults: { count: 2, steps: 6 } });
    const { store, storage } = memoryStorage();
    const state = new GenerationDefaultsState(storage, host.api);
    expect(state.defaults).toEqual({ count: 1 });
    await state.load();
    expect(state.defaults).toEqual({ count: 2, steps: 6 });
    await state.setDefaults({ cfg: 2.5, steps: undefined });
    expect(host.settings()).toEqual({ provider: 'cpu', defaults: { count: 2, cfg: 2.5 } });
    state.recordTiming('m', 4, 900);
    expect(JSON.parse(store.get('vgt.settings')!)).toEqual({ timings: { m: { 4: 900 } } });
    // Invalid values are refused before anything is sent.
    const sent = host.calls.length;
    expect(() => state.setDefaults({ count: 0 })).toThrow();
    expect(host.calls.length).toBe(sent);
    await state.resetDefaults();
    expect(host.settings().defaults).toEqual({ count: 1 });
    // Another window (or the CLI) reads what was saved.
    const other = new GenerationDefaultsState(memoryStorage().storage, host.api);
    await other.load();
    expect(other.defaults).toEqual({ count: 1 });
  });

  it('moves defaults saved on this device to a host that has none, once', async () => {
    const old = JSON.stringify({ defaults: { count: 3, tokensPerStep: 8 }, timings: { m: { 8: 400 } } });
    const { store, storage } = memoryStorage({ 'vgt.settings': old });
    const host = fakeHost();
    const state = new GenerationDefaultsState(storage, host.api);
    // Shown before the host answers, so the form does not start from the model's defaults.
    expect(state.defaults).toEqual({ count: 3, tokensPerStep: 8 });
    await state.load();
    expect(host.settings().defaults).toEqual({ count: 3, tokensPerStep: 8 });
    expect(JSON.parse(store.get('vgt.settings')!)).toEqual({ timings: { m: { 8: 400 } } });
    expect(state.timingFor('m', 8)).toBe(400);
    // Later starts read the host; nothing is pushed again.
    await state.setDefaults({ count: 1 });
    const again = new GenerationDefaultsState(storage, host.api);
    const before = host.calls.length;
    await again.load();
    expect(host.calls.slice(before).map((c) => c.name)).toEqual(['settings.get']);
    expect(again.defaults).toEqual({ count: 1, tokensPerStep: 8 });
  });

  it('does not move this device’s defaults over ones the host already has', async () => {
    const old = JSON.stringify({ defaults: { count: 3 }, timings: {} });
    const { store, storage } = memoryStorage({ 'vgt.settings': old });
    const host = fakeHost({ provider: 'auto', defaults: { count: 5, cfg: 1 } });
    const state = new GenerationDefaultsState(storage, host.api);
    await state.load();
    expect(state.defaults).toEqual({ count: 5, cfg: 1 });
    expect(host.calls.map((c) => c.name)).toEqual(['settings.get']);
    expect(JSON.parse(store.get('vgt.settings')!)).toEqual({ timings: {} });
  });

  it('hands every change to the Generate form at once, including the host’s answer at start', async () => {
    const host = fakeHost({ provider: 'auto', defaults: { count: 4, steps: 9, order: 'raster' } });
    const state = new GenerationDefaultsState(memoryStorage().storage, host.api);
    const form = new GenerateForm(state.defaults);
    state.follow((d) => form.applyDefaults(d));
    expect(form.steps).toBeNull();
    await state.load();
    expect([form.count, form.steps, form.order]).toEqual([4, 9, 'raster']);
    // Changed in Settings: the form has it before the host even answers.
    const saving = state.setDefaults({ steps: 12, cfg: 7 });
    expect([form.steps, form.cfg]).toEqual([12, 7]);
    await saving;
    expect(form.toRequest()).toMatchObject({ count: 4, steps: 12, cfg: 7, order: 'raster' });
  });

  it('says when the host cannot save or read them, and a late answer does not undo a newer change', async () => {
    const host = fakeHost({ provider: 'auto', defaults: { count: 2 } });
    const state = new GenerationDefaultsState(memoryStorage().storage, host.api);
    host.failWith('disk full');
    await state.setDefaults({ steps: 3 });
    expect(state.error).toMatch(/Not saved: .*disk full/);
    expect(state.defaults).toEqual({ count: 1, steps: 3 });
    await state.load();
    expect(state.error).toMatch(/could not be read/);
    host.failWith(null);
    // A change made while the host is being read wins over the (older) answer.
    const loading = state.load();
    await state.setDefaults({ steps: 8 });
    await loading;
    expect(state.defaults).toEqual({ count: 1, steps: 8 });
    expect(host.settings().defaults).toEqual({ count: 1, steps: 8 });
    expect(state.error).toBeNull();
  });
});
