import { describe, expect, it, vi } from 'vitest';
import { StudioError } from '../../electron/common/errors';
import type { StudioApi } from '../../electron/common/contract';
import { GalleryState } from '../../renderer/src/lib/state/gallery.svelte';
import { GenerateForm } from '../../renderer/src/lib/state/generate-form.svelte';
import type { Result } from '../../renderer/src/lib/state/generation.svelte';

const item = (id: number) => ({
  id,
  kind: 'generate',
  status: 'done',
  prompt: `p${id}`,
  modelId: 'm',
  seed: id,
  tokensPerStep: 4,
  file: `images/${id}.png`,
  thumb: `thumbs/${id}.webp`,
  width: 8,
  height: 8,
  createdAt: '2026-01-01T00:00:00Z',
  favorite: false,
  rating: 0,
});

/** A library of `n` items served in pages of 120, with search answering slowly so a newer query can overtake it. */
function library(n: number) {
  const seen: Array<{ name: string; request: Record<string, unknown> }> = [];
  const api = {
    async call(name: string, request: Record<string, unknown>) {
      seen.push({ name, request });
      const start = Number(request.cursor ?? 0);
      const limit = Number(request.limit);
      const ids = Array.from({ length: Math.max(0, Math.min(limit, n - start)) }, (_, i) => start + i + 1);
      if (name === 'library.search') await new Promise((r) => setTimeout(r, 20));
      return {
        items: (name === 'library.search' ? ids.slice(0, 1) : ids).map(item),
        nextCursor: start + limit < n && name === 'library.list' ? String(start + limit) : null,
        total: name === 'library.search' ? 1 : n,
        totalExact: true,
      };
    },
    subscribe: () => () => {},
  } as unknown as StudioApi;
  return { api, seen };
}

describe('gallery state', () => {
  it('pages with the cursor, stops at the end, and never runs two loads at once', async () => {
    const { api, seen } = library(250);
    const g = new GalleryState(api);
    await g.refresh();
    expect(g.items).toHaveLength(120);
    await Promise.all([g.more(), g.more()]);
    expect(g.items).toHaveLength(240);
    await g.more();
    await g.more();
    expect(g.items).toHaveLength(250);
    expect(g.total).toBe(250);
    expect(seen.map((s) => s.request.cursor)).toEqual([undefined, '120', '240']);
  });

  it('drops the answer of a query the user already changed', async () => {
    const { api } = library(5);
    const g = new GalleryState(api);
    g.text = 'red';
    const slow = g.refresh();
    g.text = '';
    const fresh = g.refresh();
    await Promise.all([slow, fresh]);
    expect(g.items.map((i) => i.id)).toEqual([1, 2, 3, 4, 5]);
    expect(g.loading).toBe(false);
  });

  it('selects like a file manager and forgets deleted items', async () => {
    const { api } = library(10);
    const g = new GalleryState(api);
    await g.refresh();
    g.select(2, 'one');
    g.select(5, 'range');
    expect([...g.selected].sort((a, b) => a - b)).toEqual([3, 4, 5, 6]);
    g.select(3, 'toggle');
    expect(g.isSelected(3)).toBe(false);
    g.remove([3, 5]);
    expect([...g.selected].sort((a, b) => a - b)).toEqual([6]);
    expect(g.total).toBe(8);
    g.patch([6], { favorite: true });
    expect(g.items.find((i) => i.id === 6)?.favorite).toBe(true);
  });

  it('filters from the top, clears back to the library or the trash, and offers two images to compare', async () => {
    const { api, seen } = library(10);
    const g = new GalleryState(api);
    await g.refresh();
    expect(g.filtered).toBe(false);
    g.grid.scrollTop = 500;
    g.setFilter('favorite', true);
    expect(g.filtered).toBe(true);
    expect(g.grid.scrollTop).toBe(0);
    g.setFilter('minRating', 3);
    g.setFilter('favorite', undefined);
    expect(g.filters).toEqual({ minRating: 3 });
    await g.refresh();
    expect(seen.at(-1)?.request.filters).toEqual({ minRating: 3 });
    g.showTrash(true);
    g.text = 'red';
    g.clearFilters();
    expect(g.filters).toEqual({ trashed: true });
    expect(g.text).toBe('');
    expect(g.filtered).toBe(false);
    g.showTrash(false);
    await g.refresh();
    g.select(4, 'one');
    expect(g.comparable).toBeNull();
    g.select(1, 'toggle');
    expect(g.comparable).toEqual([2, 5]);
    g.select(2, 'toggle');
    expect(g.comparable).toBeNull();
  });

  it('runs a typed search once typing pauses', async () => {
    vi.useFakeTimers();
    try {
      const { api, seen } = library(5);
      const g = new GalleryState(api);
      g.text = 'r';
      g.search();
      g.text = 're';
      g.search();
      g.text = 'red';
      g.search();
      expect(seen).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(250);
      expect(seen.map((s) => s.request.text)).toEqual(['red']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows why the current item could not be revealed, until another item is shown', async () => {
    const { api: base } = library(3);
    const api = {
      call: async (name: string, request: Record<string, unknown>) => {
        if (name === 'library.get') return { ...item(Number(request.id)), params: {} };
        if (name === 'library.reveal') throw new StudioError('NOT_FOUND', 'The file is gone.');
        return (base.call as (n: string, r: Record<string, unknown>) => Promise<unknown>)(name, request);
      },
      subscribe: () => () => {},
    } as unknown as StudioApi;
    const g = new GalleryState(api);
    await g.detail.show(1);
    await g.detail.reveal();
    expect(g.detail.revealError).toBeTruthy();
    await g.detail.show(1);
    expect(g.detail.revealError).toBeTruthy();
    await g.detail.show(2);
    expect(g.detail.revealError).toBeNull();
  });

  it('shows a failed page as an error and can try again', async () => {
    const api = {
      call: async () => {
        throw new Error('database is locked');
      },
      subscribe: () => () => {},
    } as unknown as StudioApi;
    const g = new GalleryState(api);
    await g.refresh();
    expect(g.error).toBe('database is locked');
    expect(g.loading).toBe(false);
  });
});

describe('generate form', () => {
  const result: Result = {
    image: { id: 3, file: '/x.png', seed: 11, orderSeed: 22, width: 8, height: 8 },
    request: { prompt: 'a blue square', count: 4, model: 'm1' },
    sampling: { tokensPerStep: 4, steps: 20, cfg: 3, cfgSchedule: 'linear', order: 'random' },
    src: null,
    kind: 'generate',
    favorite: false,
  };

  it('leaves unset fields to the model and trims the prompt', () => {
    const f = new GenerateForm({ count: 2, cfg: 4 });
    f.prompt = '  red  ';
    expect(f.toRequest()).toEqual({ prompt: 'red', count: 2, cfg: 4 });
    f.count = 99;
    expect(f.toRequest().count).toBe(16);
  });

  it('reuses exactly what made a result, and varies one seed at a time', () => {
    const f = new GenerateForm({ count: 1 });
    f.reuse(result);
    expect(f.toRequest()).toEqual({
      prompt: 'a blue square',
      count: 1,
      seed: 11,
      orderSeed: 22,
      tokensPerStep: 4,
      steps: 20,
      cfg: 3,
      cfgSchedule: 'linear',
      order: 'random',
      model: 'm1',
    });
    const variation = f.variation(result, 11);
    expect(variation.orderSeed).toBe(22);
    expect(variation.seed).toBe(12);
    const reorder = f.reorder(result, 5);
    expect(reorder.seed).toBe(11);
    expect(reorder.orderSeed).toBe(5);
    // The result's order was the model's random one: it stays the model's, not pinned.
    expect(reorder.order).toBeUndefined();
  });
});
