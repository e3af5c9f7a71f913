import { describe, expect, it } from 'vitest';
import { VIEWS, viewForKey, viewFromHash } from '../../renderer/src/lib/views';
import { resolveTheme } from '../../renderer/src/lib/theme.svelte';
import { createHttpApi } from '../../renderer/src/lib/api/http';

describe('views and shortcuts', () => {
  it('names the seven views', () => {
    expect(VIEWS.map((v) => v.name)).toEqual(['Generate', 'Gallery', 'Inspect', 'Edit', 'Sweep', 'Models', 'Settings']);
  });

  it('reads the view from the hash, defaulting to Generate', () => {
    expect(viewFromHash('#/gallery')).toBe('gallery');
    expect(viewFromHash('#/edit?image=1')).toBe('edit');
    expect(viewFromHash('')).toBe('generate');
    expect(viewFromHash('#/nope')).toBe('generate');
  });

  it('maps digits to views, except with modifiers or while typing', () => {
    const key = (k: string, extra: Partial<KeyboardEvent> = {}) =>
      viewForKey({ key: k, ctrlKey: false, metaKey: false, altKey: false, target: null, ...extra });
    expect(key('2')).toBe('gallery');
    expect(key('5')).toBe('sweep');
    expect(key('7')).toBe('settings');
    expect(key('8')).toBeNull();
    expect(key('2', { ctrlKey: true })).toBeNull();
    const input = { closest: () => ({}), isContentEditable: false } as unknown as EventTarget;
    expect(key('2', { target: input })).toBeNull();
  });

  it('resolves the theme from preference and OS', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('HTTP client', () => {
  it('sends the token and turns error answers into typed errors', async () => {
    const seen: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
    const fakeFetch = (async (url: URL, init: RequestInit) => {
      seen.push({ url: String(url), headers: init.headers as Record<string, string>, body: String(init.body) });
      return new Response(JSON.stringify({ error: { code: 'INVALID_PAYLOAD', message: 'bad' } }), { status: 400 });
    }) as unknown as typeof fetch;
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:1/api/', token: 'tok', fetch: fakeFetch });
    await expect(api.call('doctor', {})).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', message: 'bad' });
    expect(seen[0]).toMatchObject({ url: 'http://127.0.0.1:1/api/doctor', body: '{}' });
    expect(seen[0]!.headers['X-VGT-Token']).toBe('tok');
  });

  it('reports an unreachable host as a typed error', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:1/api/', token: 't', fetch: failing });
    await expect(api.call('doctor', {})).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
