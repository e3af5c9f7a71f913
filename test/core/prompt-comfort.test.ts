// The host side of the prompt box and the image actions: token counts with the model's own tokenizer against its
// limit, prompt history through the contract, presets kept in the library's settings (shared with the CLI), and the
// desktop-only clipboard copy and drag-out, which take only a library image's own file.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallResult } from '../../electron/common/contract';
import type { PromptPreset } from '../../electron/common/api/settings';
import type { DesktopCapabilities } from '../../electron/core/services';
import { createStudio, type Studio } from '../../electron/core/studio';
import { readManifest } from '../../electron/engine/bundle';
import { PromptEncoder } from '../../electron/engine/tokenizer';
import { embedReplayParams } from '../../electron/store/library';
import { params, png, tempHome } from '../store/helpers';

const TINY_BUNDLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** A studio with two copies of the tiny bundle: `tiny` (no limit in its manifest: 256) and `short` (12 tokens). */
function open(mode: 'app' | 'web' | 'cli' = 'cli', desktop?: DesktopCapabilities): { studio: Studio; home: string } {
  const { home: base, cleanup } = tempHome('vgt-prompt-comfort-');
  cleanups.push(cleanup);
  const bundles = path.join(base, 'bundles');
  mkdirSync(bundles);
  cpSync(TINY_BUNDLE, path.join(bundles, 'tiny'), { recursive: true });
  cpSync(TINY_BUNDLE, path.join(bundles, 'short'), { recursive: true });
  const manifestFile = path.join(bundles, 'short', 'vgt-bundle.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { prompt: Record<string, unknown> };
  manifest.prompt.maxTokens = 12;
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const home = path.join(base, 'home');
  const studio = createStudio({ home, mode, builtinBundles: [bundles], desktop });
  cleanups.push(() => studio.dispose());
  return { studio, home };
}

function value<T>(result: CallResult<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

type Count = { tokens: number; limit: number; model: string };

describe('generation.countTokens', () => {
  it('counts the prompt row the engine builds (template included) against the bundle limit', async () => {
    const { studio } = open();
    const encoder = await PromptEncoder.load(path.join(TINY_BUNDLE, 'tokenizer.json'), await readManifest(TINY_BUNDLE));
    const prompt = 'two red circles above a blue square';
    const count = value<Count>(await studio.handle('generation.countTokens', { prompt, model: 'tiny' }));
    expect(count).toEqual({ tokens: encoder.encode(prompt).cond.length, limit: 256, model: 'tiny' });
    const empty = value<Count>(await studio.handle('generation.countTokens', { prompt: '   ', model: 'tiny' }));
    expect(empty.tokens).toBeGreaterThan(0);
    expect(empty.tokens).toBeLessThan(count.tokens);
    const longer = value<Count>(
      await studio.handle('generation.countTokens', { prompt: `${prompt} ${prompt}`, model: 'tiny' }),
    );
    expect(longer.tokens).toBeGreaterThan(count.tokens);
  });

  it('reports the bundle limit, and counts past it where the engine would cut the prompt', async () => {
    const { studio } = open();
    const prompt = 'a red circle and a blue square and a green triangle';
    const count = value<Count>(await studio.handle('generation.countTokens', { prompt, model: 'short' }));
    expect(count.limit).toBe(12);
    expect(count.model).toBe('short');
    expect(count.tokens).toBeGreaterThan(12);
    // What the engine does with the same prompt under that limit: cuts it.
    const manifest = { ...(await readManifest(TINY_BUNDLE)) };
    manifest.prompt = { ...manifest.prompt, maxTokens: 12 };
    const cut = (await PromptEncoder.load(path.join(TINY_BUNDLE, 'tokenizer.json'), manifest)).encode(prompt);
    expect(cut.truncated).toBe(true);
    expect(cut.cond.length).toBeLessThanOrEqual(12);
  });

  it('uses the default model when none is named, and says so for an unknown one', async () => {
    const { studio } = open();
    const count = value<Count>(await studio.handle('generation.countTokens', { prompt: 'a circle' }));
    expect(['tiny', 'short']).toContain(count.model);
    expect(await studio.handle('generation.countTokens', { prompt: 'a', model: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'MODEL_NOT_FOUND' },
    });
  });
});

describe('library.prompts', () => {
  it('answers the prompt history through the contract and bounds the request', async () => {
    const { studio } = open();
    for (const [i, prompt] of ['a red circle', 'a red square', 'a blue circle'].entries()) {
      const bytes = embedReplayParams(await png(i + 1), params({ prompt, seed: i + 1 }));
      value(await studio.handle('library.import', { png: bytes.toString('base64') }));
    }
    const answer = value<{ prompts: Array<{ text: string }> }>(
      await studio.handle('library.prompts', { text: 'a red', limit: 5 }),
    );
    expect(answer.prompts.map((p) => p.text).sort()).toEqual(['a red circle', 'a red square']);
    expect(await studio.handle('library.prompts', { limit: 500 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    });
  });
});

describe('prompt presets in the settings', () => {
  const preset: PromptPreset = {
    name: 'Red circles',
    prompt: 'two red circles',
    settings: { tokensPerStep: 4, cfg: 6, seed: 12, count: 2, order: 'raster', model: 'tiny' },
  };

  it('are absent until saved, kept next to the provider, and replaced as a whole list', async () => {
    const { studio } = open();
    expect(value(await studio.handle('settings.get', {}))).toEqual({ provider: 'auto' });
    value(await studio.handle('settings.set', { presets: [preset] }));
    value(await studio.handle('settings.set', { provider: 'cpu' }));
    expect(value(await studio.handle('settings.get', {}))).toEqual({ provider: 'cpu', presets: [preset] });
    value(await studio.handle('settings.set', { presets: [] }));
    expect(value(await studio.handle('settings.get', {}))).toEqual({ provider: 'cpu', presets: [] });
  });

  it('refuses duplicate names, blank names and settings the form does not have', async () => {
    const { studio } = open();
    for (const presets of [
      [preset, { ...preset, prompt: 'other' }],
      [{ ...preset, name: '   ' }],
      [{ ...preset, settings: { ...preset.settings, history: false } }],
      [{ ...preset, settings: { count: 17 } }],
    ]) {
      expect(await studio.handle('settings.set', { presets }), JSON.stringify(presets)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD' },
      });
    }
    expect(value(await studio.handle('settings.get', {}))).toEqual({ provider: 'auto' });
  });
});

describe('copy image and drag out (desktop)', () => {
  function fakeDesktop() {
    const done: Array<[string, string]> = [];
    const desktop: DesktopCapabilities = {
      revealFile: () => undefined,
      chooseFolder: async () => null,
      chooseSaveFile: async () => null,
      copyImage: (file) => void done.push(['copy', file]),
      startDrag: (file) => void done.push(['drag', file]),
    };
    return { desktop, done };
  }

  it('hands the desktop the library file of the image, checked inside the data folder', async () => {
    const { desktop, done } = fakeDesktop();
    const { studio, home } = open('app', desktop);
    const bytes = embedReplayParams(await png(5), params({ prompt: 'drag me' }));
    const { id } = value<{ id: number }>(await studio.handle('library.import', { png: bytes.toString('base64') }));
    const record = value<{ file: string }>(await studio.handle('library.get', { id }));
    value(await studio.handle('library.copyImage', { id }));
    value(await studio.handle('library.startDrag', { id }));
    const file = path.join(home, record.file);
    expect(done).toEqual([
      ['copy', file],
      ['drag', file],
    ]);
    for (const name of ['library.copyImage', 'library.startDrag'] as const) {
      expect(await studio.handle(name, { id: id + 100 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await studio.handle(name, { id: '../../etc/passwd' })).toMatchObject({
        ok: false,
        error: { code: 'INVALID_PAYLOAD' },
      });
    }
    expect(done).toHaveLength(2);
  });

  it('says UNSUPPORTED in web mode and the CLI, where the page copies and drags itself', async () => {
    for (const mode of ['web', 'cli'] as const) {
      const { studio } = open(mode);
      for (const name of ['library.copyImage', 'library.startDrag'] as const) {
        expect(await studio.handle(name, { id: 1 })).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
      }
    }
  });
});
