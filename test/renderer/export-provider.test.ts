// The gallery's export state and the Settings provider choice, against fake APIs: what is offered for what the host
// can do, what each export calls and downloads, and how a failed save is shown and undone.
import { describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/common/contract';
import type { GalleryItem } from '../../electron/common/api/library';
import { StudioError } from '../../electron/common/errors';
import { ExportState, exportUrl, libraryFilePath, NO_CAPABILITIES } from '../../renderer/src/lib/state/export.svelte';
import { ProviderSetting, providerOptions } from '../../renderer/src/lib/state/provider-setting.svelte';

const item = (id: number, file: string | null = `images/ab/${id}.png`): GalleryItem => ({
  id,
  kind: 'generate',
  status: file ? 'done' : 'failed',
  prompt: `p${id}`,
  modelId: 'm',
  seed: id,
  tokensPerStep: 4,
  file,
  thumb: null,
  width: 8,
  height: 8,
  createdAt: '2026-01-01T00:00:00Z',
  favorite: false,
  rating: 0,
});

/** An api that answers each call with `answer(name, request)` and records what it was asked. */
function fakeApi(answer: (name: string, request: Record<string, unknown>) => unknown) {
  const seen: Array<{ name: string; request: Record<string, unknown> }> = [];
  const api = {
    async call(name: string, request: Record<string, unknown>) {
      seen.push({ name, request });
      return answer(name, request);
    },
    subscribe: () => () => {},
  } as unknown as StudioApi;
  return { api, seen };
}

function exporter(answer: (name: string, request: Record<string, unknown>) => unknown) {
  const { api, seen } = fakeApi(answer);
  const downloads: Array<[string, string]> = [];
  const state = new ExportState(api, {
    download: (href, name) => void downloads.push([href, name]),
    fileUrl: (relative) => `./files/${relative}`,
  });
  return { state, seen, downloads };
}

describe('export state', () => {
  it('offers nothing until the host says what it can do, then only what works there', () => {
    const { state } = exporter(() => null);
    expect(state.capabilities).toEqual(NO_CAPABILITIES);
    expect(state.targets(3)).toEqual([]);
    expect(state.targets(1)).toEqual(['png']);
    state.capabilities = { revealFile: false, chooseLocation: false, downloads: true };
    expect(state.targets(0)).toEqual([]);
    expect(state.targets(1)).toEqual(['png']);
    expect(state.targets(3)).toEqual(['download']);
    state.capabilities = { revealFile: true, chooseLocation: true, downloads: false };
    expect(state.targets(1)).toEqual(['png']);
    expect(state.targets(3)).toEqual(['zip', 'folder']);
  });

  it('downloads one image as its PNG, without a call', async () => {
    const { state, seen, downloads } = exporter(() => null);
    await state.export([item(7)], 'png');
    expect(seen).toEqual([]);
    expect(downloads).toEqual([['./files/images/ab/7.png', 'vgt-7-p7.png']]);
    expect(state.message).toBe('Exported the PNG.');
  });

  it('asks the host for a zip of the images that have a file, then downloads it once by its id', async () => {
    const { state, seen, downloads } = exporter(() => ({
      status: 'ready',
      downloadId: 'A'.repeat(22),
      fileName: 'vgt-export-2-images.zip',
      expiresAt: '2026-01-01T00:10:00Z',
      count: 2,
      skipped: 0,
      bytes: 2048,
    }));
    const done = state.export([item(1), item(2, null), item(3)], 'download');
    expect(state.busy).toBe(true);
    await done;
    expect(state.busy).toBe(false);
    expect(seen).toEqual([{ name: 'library.export', request: { ids: [1, 3], to: 'download' } }]);
    expect(downloads).toEqual([[exportUrl('A'.repeat(22)), 'vgt-export-2-images.zip']]);
    expect(exportUrl('A'.repeat(22))).toBe(`./files/export/${'A'.repeat(22)}.zip`);
    expect(state.message).toBe('Exported 2 images as vgt-export-2-images.zip, 2.0 KB.');
  });

  it('reports where the app saved, a cancelled dialog, and failures in place', async () => {
    let answer: unknown = { status: 'saved', path: '/home/u/out', count: 3, skipped: 1, bytes: 10 };
    const { state, downloads } = exporter(() => {
      if (answer instanceof Error) throw answer;
      return answer;
    });
    await state.export([item(1), item(2), item(3)], 'folder');
    expect(state.message).toBe('Exported 3 images to /home/u/out (1 without an image skipped).');
    answer = { status: 'cancelled' };
    await state.export([item(1), item(2)], 'zip');
    expect(state.message).toBe('Export cancelled: nothing was written.');
    answer = new StudioError('DISK_FULL', 'There is not enough free disk space.');
    await state.export([item(1), item(2)], 'zip');
    expect([state.message, state.error, state.busy]).toEqual([
      null,
      // The catalog's bare text becomes the sentence with its fix (lib/errors.ts).
      'Export failed: The disk is full. Free some space (emptying the Gallery’s trash helps), then try again.',
      false,
    ]);
    await state.export([item(4, null)], 'zip');
    expect(state.error).toMatch(/no finished image/);
    expect(downloads).toEqual([]);
  });

  it('spells a library file as a path on the host', () => {
    expect(libraryFilePath('/home/u/.config/VGT Studio', 'images/ab/x.png', 'linux')).toBe(
      '/home/u/.config/VGT Studio/images/ab/x.png',
    );
    expect(libraryFilePath('/data/', 'images/ab/x.png', 'darwin')).toBe('/data/images/ab/x.png');
    expect(libraryFilePath('C:\\Users\\u\\AppData\\Roaming\\VGT Studio', 'images/ab/x.png', 'win32')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\VGT Studio\\images\\ab\\x.png',
    );
  });
});

describe('provider setting', () => {
  const report = {
    version: '1',
    preferred: 'cpu' as const,
    preference: null,
    providers: [
      { id: 'cuda' as const, bundled: false, available: false, reason: 'CUDA add-on not installed' },
      { id: 'webgpu' as const, bundled: true, available: false },
      { id: 'dml' as const, bundled: true, available: false, reason: `/onnxruntime_src/${'x'.repeat(100)}` },
      { id: 'cpu' as const, bundled: true, available: true },
    ],
  };

  it('offers Automatic first, then each provider with whether it works and why not', () => {
    expect(providerOptions(report)).toEqual([
      { value: 'auto', label: 'Automatic (now CPU, the best that works)', disabled: false },
      { value: 'cuda', label: 'CUDA: not available (CUDA add-on not installed)', disabled: true },
      { value: 'webgpu', label: 'WebGPU: not available (it did not start here)', disabled: true },
      // onnxruntime's own text (a source path) is technical: the label says it in words (lib/errors.ts humanReason).
      { value: 'dml', label: 'DirectML: not available (it did not start here)', disabled: true },
      { value: 'cpu', label: 'CPU: available', disabled: false },
    ]);
    expect(providerOptions(null)).toEqual([
      { value: 'auto', label: 'Automatic (the best that works)', disabled: false },
    ]);
  });

  it('loads the saved choice and saves a new one', async () => {
    let stored = 'webgpu';
    const { api, seen } = fakeApi((name, request) => {
      if (name === 'settings.set') stored = String(request.provider);
      return { provider: stored };
    });
    const setting = new ProviderSetting(api);
    expect(setting.loaded).toBe(false);
    await setting.load();
    expect([setting.value, setting.loaded]).toEqual(['webgpu', true]);
    await setting.set('cpu');
    expect([setting.value, setting.saved, setting.saving, setting.error]).toEqual(['cpu', true, false, null]);
    expect(seen.map((s) => s.name)).toEqual(['settings.get', 'settings.set']);
    expect(seen[1]!.request).toEqual({ provider: 'cpu' });
  });

  it('shows the previous choice again, with the reason, when saving fails', async () => {
    const { api } = fakeApi((name) => {
      if (name === 'settings.set') throw new StudioError('DATABASE_CORRUPT', 'The library database is damaged.');
      return { provider: 'auto' };
    });
    const setting = new ProviderSetting(api);
    await setting.load();
    await setting.set('cpu');
    expect([setting.value, setting.saved, setting.error]).toEqual([
      'auto',
      false,
      'Not saved: The library database is damaged.',
    ]);
  });
});

describe('export names', () => {
  it('say the id and the first whole words of the prompt, in plain ASCII', async () => {
    const { exportName } = await import('../../renderer/src/lib/state/export.svelte');
    expect(exportName({ id: 13, prompt: 'Two red circles above a blue square, on a white ground' })).toBe(
      'vgt-13-two-red-circles-above-a-blue-square-on-a-white.png',
    );
    expect(exportName({ id: 2, prompt: 'Crème brûlée!' })).toBe('vgt-2-creme-brulee.png');
    expect(exportName({ id: 3, prompt: '★★★' })).toBe('vgt-3.png');
  });
});
