// The trash on a real library file: delete moves a generation out of the gallery, search, boards and counts while
// its files stay; restore brings it back as it was; emptying deletes rows and files for good; what waited longer
// than TRASH_KEEP_DAYS goes at the next open; running or queued jobs are refused.
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRASH_KEEP_DAYS } from '../../electron/common/api/library';
import { openLibrary, type Library, type LibraryChange } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let home: string;
let cleanup: () => void;
let clock: number;
let changes: Array<LibraryChange>;
let library: Library;

beforeEach(async () => {
  ({ home, cleanup } = tempHome('vgt-trash-'));
  clock = Date.parse('2030-01-01T00:00:00Z');
  changes = [];
  library = await openLibrary(home, { now: () => clock, onChange: (c) => changes.push(c) });
});
afterEach(() => {
  library.close();
  cleanup();
});

async function three() {
  const out = [];
  for (const n of [1, 2, 3]) {
    out.push(await library.recordGeneration(params({ prompt: `shape number${n}`, seed: n }), await png(n)));
  }
  return out;
}

const ids = async (filters = {}) => (await library.list({ filters })).items.map((i) => i.id);

describe('trash', () => {
  it('moves out of the gallery, search, boards and counts, keeps the files, and restores as it was', async () => {
    const [a, b, c] = await three();
    const board = await library.createBoard('keepers');
    await library.addToBoard(board.id, [a!.id, b!.id]);
    await library.update([a!.id], { favorite: true, rating: 4 });

    expect(await library.trash([a!.id])).toEqual({ trashed: 1 });
    expect(changes.at(-1)).toEqual({ kind: 'generations', change: 'removed', ids: [a!.id] });
    expect(await ids()).toEqual([c!.id, b!.id]);
    const page = await library.list();
    expect([page.total, page.totalExact]).toEqual([2, true]);
    expect((await library.search({ text: 'number1' })).items).toEqual([]);
    expect((await library.boards()).find((x) => x.id === board.id)?.count).toBe(1);
    expect(await ids({ trashed: true })).toEqual([a!.id]);
    expect((await library.list({ filters: { trashed: true } })).total).toBe(1);
    const record = await library.get(a!.id);
    expect(record.trashedAt).toBe(new Date(clock).toISOString());
    expect(existsSync(a!.path)).toBe(true);
    // Trashing again keeps the first date.
    clock += 1000;
    expect(await library.trash([a!.id])).toEqual({ trashed: 0 });
    expect((await library.get(a!.id)).trashedAt).toBe(record.trashedAt);

    expect(await library.restore([a!.id, b!.id])).toEqual({ restored: 1 });
    expect(changes.at(-1)).toEqual({ kind: 'generations', change: 'added', ids: [a!.id] });
    expect(await ids()).toEqual([c!.id, b!.id, a!.id]);
    const back = await library.get(a!.id);
    expect([back.trashedAt, back.favorite, back.rating, back.boards.map((x) => x.name)]).toEqual([
      null,
      true,
      4,
      ['keepers'],
    ]);
    expect((await library.list()).total).toBe(3);
  });

  it('counts tags and boards without what is in the trash, and counts them again after a restore', async () => {
    const [a, b] = await three();
    const board = await library.createBoard('keepers');
    await library.addToBoard(board.id, [a!.id, b!.id]);
    await library.tag([a!.id, b!.id], ['red']);
    await library.tag([a!.id], ['only-a']);
    expect(await library.tags()).toEqual([
      { name: 'red', count: 2 },
      { name: 'only-a', count: 1 },
    ]);

    await library.trash([a!.id]);
    // A tag whose every image is in the trash filters to nothing, so it is not offered.
    expect(await library.tags()).toEqual([{ name: 'red', count: 1 }]);
    expect(await library.tags('only')).toEqual([]);
    expect((await library.boards()).find((x) => x.id === board.id)?.count).toBe(1);
    // The gallery agrees with the counts.
    expect((await library.list({ filters: { tags: ['red'] } })).items.map((i) => i.id)).toEqual([b!.id]);

    await library.restore([a!.id]);
    expect(await library.tags()).toEqual([
      { name: 'red', count: 2 },
      { name: 'only-a', count: 1 },
    ]);
    expect((await library.boards()).find((x) => x.id === board.id)?.count).toBe(2);
    // Emptying the trash drops the tag that only the deleted image carried.
    await library.trash([a!.id]);
    await library.emptyTrash();
    expect(await library.tags()).toEqual([{ name: 'red', count: 1 }]);
  });

  it('empties all or some of the trash for good, files included, and leaves the rest of the library', async () => {
    const [a, b, c] = await three();
    await library.trash([a!.id, b!.id]);
    // Two files each: the PNG and its thumbnail.
    expect(await library.emptyTrash([a!.id, c!.id])).toEqual({ deleted: 1, filesRemoved: 2 });
    expect(existsSync(a!.path)).toBe(false);
    await expect(library.get(a!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await ids({ trashed: true })).toEqual([b!.id]);
    expect(await library.emptyTrash()).toEqual({ deleted: 1, filesRemoved: 2 });
    expect(await ids({ trashed: true })).toEqual([]);
    expect(await ids()).toEqual([c!.id]);
    expect(existsSync(c!.path)).toBe(true);
  });

  it(`deletes what waited longer than ${TRASH_KEEP_DAYS} days at the next open`, async () => {
    const [a, b] = await three();
    await library.trash([a!.id]);
    clock += 2 * 24 * 3600 * 1000;
    await library.trash([b!.id]);
    library.close();
    // a has waited exactly TRASH_KEEP_DAYS + 1 days, b two days fewer.
    clock += (TRASH_KEEP_DAYS - 1) * 24 * 3600 * 1000;
    library = await openLibrary(home, { now: () => clock });
    expect(await ids({ trashed: true })).toEqual([b!.id]);
    expect(existsSync(a!.path)).toBe(false);
    expect(existsSync(b!.path)).toBe(true);
  });

  it('refuses queued jobs with BUSY, and a re-imported PNG of a trashed image comes back', async () => {
    const queued = await library.enqueue(params({ prompt: 'waiting' }));
    await expect(library.trash([queued.id])).rejects.toMatchObject({ code: 'BUSY' });
    const [a] = await three();
    await library.trash([a!.id]);
    const { readFileSync } = await import('node:fs');
    expect(await library.importPng(readFileSync(a!.path))).toEqual({ id: a!.id, existed: false });
    expect((await library.get(a!.id)).trashedAt).toBeNull();
    expect(await library.importPng(readFileSync(a!.path))).toEqual({ id: a!.id, existed: true });
  });
});
