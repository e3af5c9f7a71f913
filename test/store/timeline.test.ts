// Migration 70 and the timeline store: one row per generation, the fork link, and what deletes do to them.
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

async function library(): Promise<Library> {
  const { home, cleanup } = tempHome('vgt-timeline-');
  const lib = await openLibrary(home);
  cleanups.push(cleanup);
  cleanups.unshift(() => lib.close());
  return lib;
}

describe('timelines', () => {
  it('stores a timeline per generation, links a fork to its parent, and lists the parent’s forks', async () => {
    const lib = await library();
    const parent = await lib.recordGeneration(params({ seed: 1 }), await png(1));
    const fork = await lib.recordGeneration(params({ seed: 2 }), await png(2));
    await lib.saveTimeline(parent.id, Uint8Array.of(1, 2, 3), 16, null);
    await lib.saveTimeline(fork.id, Uint8Array.of(4, 5), 16, { parentId: parent.id, forkGroup: 5 });
    const p = await lib.timeline(parent.id);
    expect(p).toMatchObject({ groups: 16, parentId: null, forkGroup: null, forks: [{ id: fork.id, group: 5 }] });
    expect(Array.from(p?.data ?? [])).toEqual([1, 2, 3]);
    expect(await lib.timeline(fork.id)).toMatchObject({ parentId: parent.id, forkGroup: 5, forks: [] });
    expect(await lib.timeline(999)).toBeNull();
    await expect(lib.saveTimeline(999, Uint8Array.of(1), 1, null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps a fork when its parent is deleted (the link goes, the group stays), and drops a timeline with its generation', async () => {
    const lib = await library();
    const parent = await lib.recordGeneration(params({ seed: 1 }), await png(1));
    const fork = await lib.recordGeneration(params({ seed: 2 }), await png(2));
    await lib.saveTimeline(parent.id, Uint8Array.of(1), 4, null);
    await lib.saveTimeline(fork.id, Uint8Array.of(2), 4, { parentId: parent.id, forkGroup: 2 });
    await lib.delete([parent.id]);
    expect(await lib.timeline(parent.id)).toBeNull();
    expect(await lib.timeline(fork.id)).toMatchObject({ parentId: null, forkGroup: 2 });
  });
});
