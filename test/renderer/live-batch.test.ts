// The batch live canvas: one canvas per image, each with its own committed cells and preview, one overlay for all;
// and the generation session feeding it from `group` events of a 3-image job, down to the results strip.
import { describe, expect, it } from 'vitest';
import type { StudioApi, StudioEvent } from '../../electron/common/contract';
import type { GenerationProgress } from '../../electron/common/api/generation';
import { GenerationSession } from '../../renderer/src/lib/state/generation.svelte';
import { LiveBatchState, batchColumns } from '../../renderer/src/lib/state/live-batch.svelte';

const orders = (batch: LiveBatchState) => batch.canvases.map((c) => Array.from(c.order));

describe('live batch', () => {
  it('says what the newest preview is: quick (approximate) or decoded, until the result replaces it', () => {
    const batch = new LiveBatchState();
    batch.reset(2, 2, 4, 1);
    expect(batch.previewKind).toBeNull();
    batch.commit(0, [0], undefined, ['q0'], 'approximate');
    expect(batch.previewKind).toBe('approximate');
    batch.commit(1, [1], undefined, ['q0']); // no new preview: the kind stays
    expect(batch.previewKind).toBe('approximate');
    batch.commit(2, [2], undefined, ['d2'], 'decoded');
    expect(batch.previewKind).toBe('decoded');
    // A quick preview after a decoded one only colours the newer tokens: the picture stays the decoded one.
    batch.commit(3, [3], undefined, ['q3'], 'approximate');
    expect(batch.previewKind).toBe('decoded');
    batch.commit(3, [3], undefined, ['q3']);
    expect(batch.first.preview).toBe('d2');
    batch.finish(['final']);
    expect(batch.previewKind).toBeNull();
  });

  it('lays a batch out as one canvas, then 2×2, 3×3 and 4×4 at most', () => {
    expect([1, 2, 4, 5, 9, 10, 16].map(batchColumns)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    const batch = new LiveBatchState();
    batch.reset(2, 2, 2, 3);
    expect([batch.count, batch.columns, batch.rows]).toEqual([3, 2, 2]);
    batch.reset(2, 2, 2, 99);
    expect(batch.count).toBe(16);
    batch.reset(2, 2, 2, 0);
    expect(batch.count).toBe(1);
  });

  it("gives every image its own cells and preview, or the first image's cells when the engine sent only those", () => {
    const batch = new LiveBatchState();
    batch.reset(2, 2, 2, 3);
    batch.commit(
      0,
      [0, 1],
      [
        [0, 1],
        [2, 3],
        [1, 3],
      ],
      ['a0', 'b0', 'c0'],
    );
    expect(orders(batch)).toEqual([
      [0, 0, -1, -1],
      [-1, -1, 0, 0],
      [-1, 0, -1, 0],
    ]);
    expect(batch.canvases.map((c) => c.preview)).toEqual(['a0', 'b0', 'c0']);
    expect(batch.canvases.map((c) => c.newest)).toEqual([
      [0, 1],
      [2, 3],
      [1, 3],
    ]);
    // No per-image cells, and a preview only for the first image: the others keep theirs.
    batch.commit(1, [2, 3], undefined, ['a1']);
    expect(orders(batch)).toEqual([
      [0, 0, 1, 1],
      [-1, -1, 0, 0],
      [-1, 0, 1, 0],
    ]);
    expect(batch.canvases.map((c) => c.preview)).toEqual(['a1', 'b0', 'c0']);
    expect([batch.committed, batch.tokens]).toEqual([4 + 2 + 3, 12]);
    batch.finish(['A', null, 'C']);
    expect(batch.canvases.map((c) => c.preview)).toEqual(['A', 'b0', 'C']);
    expect(batch.canvases.every((c) => c.newest.length === 0)).toBe(true);
  });

  it('applies one overlay to every canvas, also to canvases a bigger batch adds, and keeps the first canvas', () => {
    const batch = new LiveBatchState();
    const first = batch.first;
    batch.reset(1, 2, 2, 2);
    batch.overlay = 'order';
    expect(batch.canvases.map((c) => c.overlay)).toEqual(['order', 'order']);
    batch.reset(1, 2, 2, 4);
    expect(batch.first).toBe(first);
    expect(batch.canvases.map((c) => c.overlay)).toEqual(['order', 'order', 'order', 'order']);
    expect(batch.hasPreview).toBe(false);
    batch.fix([1]);
    expect(orders(batch).every((o) => o[1] === -2 && o[0] === -1)).toBe(true);
  });
});

describe('generation session with a batch', () => {
  it('paints every image of a 3-image job live and puts all three in the results strip', async () => {
    const listeners = new Set<(event: StudioEvent) => void>();
    const emit = (data: GenerationProgress) => {
      for (const l of listeners) l({ type: 'generation.progress', data } as StudioEvent);
    };
    const api = {
      async call(name: string) {
        if (name === 'generation.generate') return { jobId: 'b', position: 0 };
        throw Object.assign(new Error(`no ${name}`), { code: 'UNKNOWN_CALL' });
      },
      subscribe(listener: (event: StudioEvent) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    } as unknown as StudioApi;
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'p', count: 3 });
    emit({
      jobId: 'b',
      status: 'prefill',
      kind: 'generate',
      model: 'm',
      ep: 'cpu',
      grid: [2, 2],
      width: 8,
      height: 8,
      count: 3,
      groups: 2,
      sampling: { tokensPerStep: 2, steps: 4, cfg: 3, cfgSchedule: 'linear', order: 'random' },
      fixed: [],
      warnings: [],
    });
    expect(session.live.count).toBe(3);
    const png = (name: string) => ({ png: name, width: 8, height: 8 });
    emit({
      jobId: 'b',
      status: 'group',
      group: 1,
      groups: 2,
      positions: [0, 1],
      imagePositions: [
        [0, 1],
        [3, 2],
        [1, 2],
      ],
      committed: 2,
      total: 4,
      elapsedMs: 5,
      previews: [png('A'), png('B'), png('C')],
    });
    expect(session.live.canvases.map((c) => c.preview)).toEqual(
      ['A', 'B', 'C'].map((p) => `data:image/png;base64,${p}`),
    );
    expect(orders(session.live)).toEqual([
      [0, 0, -1, -1],
      [-1, -1, 0, 0],
      [-1, 0, 0, -1],
    ]);
    // The last group's previews are the images as made: they stand for results the library did not keep.
    emit({
      jobId: 'b',
      status: 'group',
      group: 2,
      groups: 2,
      positions: [2, 3],
      imagePositions: [
        [2, 3],
        [0, 1],
        [0, 3],
      ],
      committed: 4,
      total: 4,
      elapsedMs: 9,
      previews: [png('D'), png('E'), png('F')],
    });
    emit({
      jobId: 'b',
      status: 'done',
      images: [0, 1, 2].map((i) => ({
        id: null,
        file: `/x/${i}.png`,
        seed: 10 + i,
        orderSeed: 20 + i,
        width: 8,
        height: 8,
      })),
      model: 'm',
      ep: 'cpu',
      seconds: 1,
      firstPreviewMs: 5,
      warnings: [],
    });
    expect(session.results.map((r) => [r.image.seed, r.src])).toEqual([
      [10, 'data:image/png;base64,D'],
      [11, 'data:image/png;base64,E'],
      [12, 'data:image/png;base64,F'],
    ]);
    // A single-image job afterwards shrinks the grid back to one canvas.
    await session.generate({ prompt: 'q' });
    emit({
      jobId: 'b',
      status: 'prefill',
      kind: 'generate',
      model: 'm',
      ep: 'cpu',
      grid: [2, 2],
      width: 8,
      height: 8,
      count: 1,
      groups: 2,
      sampling: { tokensPerStep: 2, steps: 4, cfg: 3, cfgSchedule: 'linear', order: 'random' },
      fixed: [],
      warnings: [],
    });
    expect(session.live.count).toBe(1);
  });
});
