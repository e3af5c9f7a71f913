// Timelines and forks through the studio host: the runner keeps each image's timeline in the library, frames decode
// on demand, and a fork is a new library item linked to its parent whose PNG carries everything to replay it.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationProgress } from '../../electron/common/contract';
import { forkOriginOf, forkSpecOf } from '../../electron/core/fork';
import type { Studio } from '../../electron/core/studio';
import { embedReplayParams, readReplayParams } from '../../electron/store/library';
import { params as replayParams, png } from '../store/helpers';
import { openTinyStudio, type Call } from './tiny-studio';

let studio: Studio;
let call: Call;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ studio, call, dispose: close } = await openTinyStudio('vgt-timeline-'));
});

afterAll(async () => {
  await close?.();
});

async function finished(start: Promise<{ jobId: string }>): Promise<Extract<GenerationProgress, { status: 'done' }>> {
  const seen: Array<GenerationProgress> = [];
  const stop = studio.events.subscribe((e) => e.type === 'generation.progress' && seen.push(e.data));
  try {
    const { jobId } = await start;
    for (;;) {
      const end = seen.find((e) => e.jobId === jobId && ['done', 'error', 'cancelled'].includes(e.status));
      if (end?.status === 'done') return end;
      if (end) throw new Error(`job ended ${end.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    stop();
  }
}

const pixels = async (file: string): Promise<Buffer> =>
  sharp(await readFile(file))
    .raw()
    .toBuffer();

describe('timelines and forks through the studio', () => {
  it('keeps the timeline, decodes frames, forks at a group and links the fork to its parent', async () => {
    const parent = await finished(
      call('generation.generate', { prompt: 'a red circle', seed: 5, orderSeed: 6, tokensPerStep: 8, steps: 3 }),
    );
    const id = parent.images[0]!.id!;
    const timeline = (await call('timeline.get', { id }))!;
    expect(timeline).toMatchObject({ id, grid: [8, 8], groups: Array(8).fill(8), fork: null, forks: [] });
    expect(new Set(timeline.order).size).toBe(64);
    expect(timeline.bytes).toBeLessThan(64 * 16 * 2);

    const empty = await call('timeline.frame', { id, group: 0 });
    const half = await call('timeline.frame', { id, group: 4 });
    expect(empty).toMatchObject({ width: 48, height: 48 });
    expect(half.png).not.toBe(empty.png);
    expect((await call('timeline.frame', { id, group: 4 })).png).toBe(half.png);
    await expect(call('timeline.frame', { id, group: 9 })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });

    // The parent's own seed and settings: the same pixels (the PNG differs only in its `vgt` chunk).
    const same = await finished(call('timeline.fork', { from: id, group: 3, seed: 5 }));
    expect((await pixels(same.images[0]!.file)).equals(await pixels(parent.images[0]!.file))).toBe(true);
    const other = await finished(call('timeline.fork', { from: id, group: 3, seed: 77, prompt: 'two blue squares' }));
    const forkId = other.images[0]!.id!;
    expect((await pixels(other.images[0]!.file)).equals(await pixels(parent.images[0]!.file))).toBe(false);
    expect(await call('timeline.get', { id: forkId })).toMatchObject({ fork: { parentId: id, group: 3 } });
    expect((await call('timeline.get', { id }))?.forks).toEqual([
      { id: same.images[0]!.id!, group: 3 },
      { id: forkId, group: 3 },
    ]);
    // The fork's frame after 3 groups is the parent's.
    expect((await call('timeline.frame', { id: forkId, group: 3 })).png).toBe(
      (await call('timeline.frame', { id, group: 3 })).png,
    );

    // Its PNG carries its origin: the parent's settings and the kept groups.
    const params = readReplayParams(await readFile(other.images[0]!.file));
    const origin = forkOriginOf(params ?? undefined);
    expect(params).toMatchObject({ prompt: 'two blue squares', seed: 77, orderSeed: 6 });
    expect(origin && forkSpecOf(origin)).toEqual({
      group: 3,
      parent: {
        prompt: 'a red circle',
        seed: 5,
        orderSeed: 6,
        sampling: expect.objectContaining({ tokensPerStep: 8, steps: 3 }),
      },
    });
    await expect(call('timeline.fork', { from: id, group: 9 })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    await expect(call('timeline.fork', { from: forkId, group: 1 })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    // Four generations and a model load (with its hash check) on a shared CPU.
  }, 180_000);

  it('answers null for an image without a timeline (imported), and NOT_FOUND for no image', async () => {
    // Another model's image: the answer must not need the model (it is not installed here).
    const imported = await call('library.import', {
      png: embedReplayParams(await png(4242), replayParams({ modelId: 'not-installed', seed: 4242 })).toString(
        'base64',
      ),
    });
    expect(imported.existed).toBe(false);
    expect(await call('timeline.get', { id: imported.id })).toBeNull();
    await expect(call('timeline.get', { id: imported.id + 1000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
