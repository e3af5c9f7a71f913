// The prompt box, presets and image actions in the renderer: the token counter and the history completion follow
// what is typed (debounced, the latest answer wins, the keyboard drives the list), presets round-trip the form
// through a real host's settings, and copying or dragging an image takes the path its host allows.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallName, CallRequest, StudioApi } from '../../electron/common/contract';
import { StudioError } from '../../electron/common/errors';
import { createStudio } from '../../electron/core/studio';
import { unwrap } from '../../renderer/src/lib/api/result';
import { copyImage, dragImage, isOwnImageDrop } from '../../renderer/src/lib/image-transfer';
import { GenerateForm } from '../../renderer/src/lib/state/generate-form.svelte';
import { PresetsState } from '../../renderer/src/lib/state/presets.svelte';
import {
  COUNT_DELAY_MS,
  PromptAssist,
  overLimitText,
  tokenText,
} from '../../renderer/src/lib/state/prompt-assist.svelte';
import { tempHome } from '../store/helpers';

type Seen = { name: string; request: unknown };

/** An API whose answers the test gives per call; every call is recorded. */
function fakeApi(answer: (name: string, request: Record<string, unknown>) => unknown) {
  const seen: Array<Seen> = [];
  const api: StudioApi = {
    call: (async (name: CallName, request: CallRequest<CallName>) => {
      seen.push({ name, request });
      return answer(name, request as Record<string, unknown>);
    }) as StudioApi['call'],
    subscribe: () => () => undefined,
  };
  return { api, seen };
}

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, { run: () => void; ms: number }>();
  let next = 0;
  return {
    timers: {
      set: (run: () => void, ms: number) => (pending.set(++next, { run, ms }), next),
      clear: (handle: unknown) => void pending.delete(handle as number),
    },
    pending,
    fire: async () => {
      const all = [...pending.values()];
      pending.clear();
      for (const { run } of all) run();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

describe('token counter', () => {
  it('says the count against the limit, and warns only over it', () => {
    expect(tokenText({ tokens: 12, limit: 64 })).toBe('12 / 64 tokens');
    expect(overLimitText({ tokens: 64, limit: 64 })).toBeNull();
    expect(overLimitText({ tokens: 70, limit: 64 })).toMatch(/^6 tokens over the model's limit of 64: .*cut at a word/);
  });

  it('asks once after typing stops, for the chosen model, and keeps only the latest answer', async () => {
    const { timers, pending, fire } = manualTimers();
    const { api, seen } = fakeApi((_name, request) => ({
      tokens: String(request.prompt).length,
      limit: 8,
      model: String(request.model ?? 'default'),
    }));
    const assist = new PromptAssist(api, timers);
    assist.recount('a', '');
    assist.recount('a red', '');
    assist.recount('a red circle', 'tiny');
    expect(pending.size).toBe(1);
    expect([...pending.values()][0]!.ms).toBe(COUNT_DELAY_MS);
    await fire();
    expect(seen).toEqual([{ name: 'generation.countTokens', request: { prompt: 'a red circle', model: 'tiny' } }]);
    expect(assist.count).toEqual({ tokens: 12, limit: 8, model: 'tiny' });
    expect(assist.over).toBe(true);
    assist.recount('a', '');
    await fire();
    expect(seen.at(-1)!.request).toEqual({ prompt: 'a' });
    expect(assist.over).toBe(false);
  });

  it('drops an answer that a newer count overtook, and hides the counter when no model can count', async () => {
    const { timers, fire } = manualTimers();
    const answers: Array<(value: unknown) => void> = [];
    const { api } = fakeApi(() => new Promise((resolve) => answers.push(resolve)));
    const assist = new PromptAssist(api, timers);
    assist.recount('first', '');
    await fire();
    assist.recount('second', '');
    await fire();
    answers[1]!({ tokens: 2, limit: 9, model: 'm' });
    answers[0]!({ tokens: 1, limit: 9, model: 'm' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(assist.count?.tokens).toBe(2);

    const failing = new PromptAssist(
      fakeApi(() => Promise.reject(new StudioError('MODEL_NOT_FOUND', 'No model.'))).api,
      timers,
    );
    failing.recount('x', '');
    await fire();
    expect(failing.count).toBeNull();
  });
});

describe('prompt history completion', () => {
  const history = ['a red circle', 'a red square', 'a red star'];

  function assisted() {
    const { timers, fire } = manualTimers();
    const { api, seen } = fakeApi((_name, request) => ({
      prompts: history
        .filter((text) => text.includes(String(request.text)))
        .map((text) => ({ text, lastUsedAt: '2026-01-01T00:00:00.000Z', uses: 1 })),
    }));
    return { assist: new PromptAssist(api, timers), fire, seen };
  }

  it('opens with the matching prompts (not the one typed exactly), nothing highlighted', async () => {
    const { assist, fire, seen } = assisted();
    assist.suggest('  a red ');
    await fire();
    expect(seen[0]).toEqual({ name: 'library.prompts', request: { text: 'a red', limit: 9 } });
    expect([assist.open, assist.active, assist.suggestions]).toEqual([true, -1, history]);
    assist.suggest('a red square');
    await fire();
    expect(assist.suggestions).toEqual([]);
    expect(assist.open).toBe(false);
  });

  it('moves with the arrows (wrapping), takes the highlighted one with Enter, and closes with Escape', async () => {
    const { assist, fire } = assisted();
    assist.suggest('a red');
    await fire();
    expect(assist.choose()).toBeNull();
    assist.move(-1);
    expect(assist.active).toBe(2);
    assist.move(1);
    expect(assist.active).toBe(0);
    assist.move(1);
    expect(assist.choose()).toBe('a red square');
    expect([assist.open, assist.active]).toEqual([false, -1]);
    assist.suggest('a red');
    await fire();
    assist.close();
    expect(assist.choose(0)).toBeNull();
  });

  it('does not open again for a lookup that was on its way when the list closed', async () => {
    const { assist, fire } = assisted();
    assist.suggest('a red');
    assist.close();
    await fire();
    expect(assist.open).toBe(false);
  });
});

describe('presets', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** The renderer's API answered by a real host (web mode, real library). */
  function hostApi(): StudioApi {
    const { home, cleanup } = tempHome('vgt-presets-');
    const studio = createStudio({ home, mode: 'web', builtinBundles: [] });
    cleanups.push(cleanup, () => studio.dispose());
    return {
      call: (async (name: string, request: unknown) => unwrap(await studio.handle(name, request))) as StudioApi['call'],
      subscribe: () => () => undefined,
    };
  }

  it('save the form under a name, apply it back, update by name and delete, kept by the host', async () => {
    const api = hostApi();
    const form = new GenerateForm({ count: 1 });
    form.prompt = '  two red circles ';
    form.seed = 42;
    form.cfg = 6.5;
    form.order = 'raster';
    form.count = 3;
    const presets = new PresetsState(api);
    await presets.load();
    expect(presets.list).toEqual([]);
    expect(await presets.save(form.toPreset(' Circles '))).toBe(true);
    expect(presets.status).toBe('Saved preset “Circles”.');
    expect(presets.list).toEqual([
      { name: 'Circles', prompt: 'two red circles', settings: { count: 3, seed: 42, cfg: 6.5, order: 'raster' } },
    ]);

    const other = new GenerateForm({ count: 1, tokensPerStep: 8 });
    other.prompt = 'something else';
    other.steps = 12;
    other.applyPreset(presets.list[0]!);
    expect(other.toRequest()).toEqual({ prompt: 'two red circles', count: 3, seed: 42, cfg: 6.5, order: 'raster' });

    // Another window's preset, saved meanwhile, survives this one's change.
    const elsewhere = new PresetsState(api);
    await elsewhere.save({ name: 'Squares', prompt: 'a square', settings: {} });
    form.cfg = 2;
    await presets.save(form.toPreset('Circles'));
    expect(presets.status).toBe('Updated preset “Circles”.');
    expect(presets.list.map((p) => [p.name, p.settings.cfg])).toEqual([
      ['Circles', 2],
      ['Squares', undefined],
    ]);
    await presets.remove('Circles');
    const reloaded = new PresetsState(api);
    await reloaded.load();
    expect(reloaded.list.map((p) => p.name)).toEqual(['Squares']);
  });

  it('say why a preset was not saved, and keep the list as it was', async () => {
    const presets = new PresetsState(hostApi());
    const form = new GenerateForm({ count: 1 });
    form.prompt = 'x'.repeat(10_001);
    expect(await presets.save(form.toPreset('Long'))).toBe(false);
    expect(presets.error).toMatch(/^The preset could not be saved: /);
    expect(await presets.save(form.toPreset('   '))).toBe(false);
    expect(presets.error).toBe('Give the preset a name first.');
    expect(presets.list).toEqual([]);
  });
});

describe('copy image and drag out', () => {
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  const dataUrl = `data:image/png;base64,${png.toString('base64')}`;

  it('in the app, asks the host to copy a library image', async () => {
    const { api, seen } = fakeApi(() => ({ ok: true }));
    await copyImage(api, { id: 7, src: 'vgt-file://images/a.png', name: 'a.png' }, { app: true });
    expect(seen).toEqual([{ name: 'library.copyImage', request: { id: 7 } }]);
  });

  it('in a browser, writes a PNG ClipboardItem from a data URL or a fetched file', async () => {
    const written: Array<Array<{ types: Record<string, Blob | Promise<Blob>> }>> = [];
    class FakeItem {
      constructor(readonly types: Record<string, Blob | Promise<Blob>>) {}
    }
    (globalThis as { ClipboardItem?: unknown }).ClipboardItem = FakeItem;
    try {
      const clipboard = { write: async (items: Array<FakeItem>) => void written.push(items) };
      const { api, seen } = fakeApi(() => null);
      const fetched: Array<string> = [];
      const fetcher = (async (url: string) => (fetched.push(url), new Response(png))) as typeof fetch;
      for (const src of [dataUrl, './files/images/a.png']) {
        await copyImage(api, { id: 3, src, name: 'a.png' }, { app: false, clipboard, fetch: fetcher } as never);
      }
      expect(seen).toEqual([]);
      expect(fetched).toEqual(['./files/images/a.png']);
      for (const [item] of written) {
        const blob = await item!.types['image/png']!;
        expect(blob.type).toBe('image/png');
        expect(Buffer.from(await blob.arrayBuffer())).toEqual(png);
      }
      const refusing = {
        write: async () => {
          throw Object.assign(new Error('Write permission denied.'), { name: 'NotAllowedError' });
        },
      };
      await expect(
        copyImage(api, { id: null, src: dataUrl, name: 'a.png' }, { app: false, clipboard: refusing } as never),
      ).rejects.toThrow('The browser refused the clipboard. Allow clipboard access for this page, then try again.');
    } finally {
      delete (globalThis as { ClipboardItem?: unknown }).ClipboardItem;
    }
    await expect(
      copyImage(
        fakeApi(() => null).api,
        { id: null, src: dataUrl, name: 'a.png' },
        { app: false, clipboard: {} as never },
      ),
    ).rejects.toThrow(/only on a secure page/);
  });

  it('drags a file through the host in the app, and a download in a browser', async () => {
    const { api, seen } = fakeApi(() => ({ ok: true }));
    let prevented = false;
    const data = new Map<string, string>();
    const ended: Array<[string, () => void]> = [];
    const event = {
      target: { addEventListener: (type: string, listener: () => void) => ended.push([type, listener]) },
      preventDefault: () => (prevented = true),
      dataTransfer: { effectAllowed: 'all', setData: (type: string, value: string) => data.set(type, value) },
    } as unknown as DragEvent;
    dragImage(event, api, { id: 9, src: 'vgt-file://images/a.png', name: 'a.png' }, true);
    expect(prevented).toBe(true);
    await Promise.resolve();
    expect(seen).toEqual([{ name: 'library.startDrag', request: { id: 9 } }]);
    expect(data.size).toBe(0);

    prevented = false;
    (globalThis as { window?: unknown }).window = { location: { href: 'http://127.0.0.1:5000/' } };
    try {
      dragImage(event, api, { id: 9, src: './files/images/a.png', name: 'vgt-9-red.png' }, false);
    } finally {
      delete (globalThis as { window?: unknown }).window;
    }
    expect(prevented).toBe(false);
    expect(seen).toHaveLength(1);
    expect(Object.fromEntries(data)).toEqual({
      DownloadURL: 'image/png:vgt-9-red.png:http://127.0.0.1:5000/files/images/a.png',
      'text/uri-list': 'http://127.0.0.1:5000/files/images/a.png',
    });
    // Until its dragend, a drop back on the page is the page's own image.
    expect(isOwnImageDrop()).toBe(true);
    for (const [type, listener] of ended) if (type === 'dragend') listener();
    expect(isOwnImageDrop()).toBe(false);
  });
});
