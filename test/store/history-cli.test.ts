// `vgt history list|search QUERY [--limit N] --json` over a real library: the JSON shape of the interface spec
// ({"items":[{"id","prompt","seed","file","createdAt","favorite","tags"}]}), and typed errors for bad input.
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../electron/cli/main';
import { openLibrary } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ home, cleanup } = tempHome('vgt-history-'));
});
afterEach(() => cleanup());

async function vgt(...argv: Array<string>): Promise<{ code: number; out: string }> {
  let out = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: () => {}, env: { VGT_STUDIO_HOME: home } };
  const code = await main(argv, io);
  return { code, out };
}

describe('vgt history', () => {
  it('lists and searches with the spec’s JSON shape', async () => {
    const library = await openLibrary(home);
    const red = await library.recordGeneration(params({ prompt: 'a red circle', seed: 11 }), await png(11));
    await library.recordGeneration(params({ prompt: 'a blue square', seed: 12 }), await png(12));
    await library.update([red.id], { favorite: true });
    await library.tag([red.id], ['keeper']);
    library.close();

    const found = await vgt('history', 'search', 'red', '--json');
    expect(found.code).toBe(0);
    expect(found.out.trim().split('\n')).toHaveLength(1);
    const { items } = JSON.parse(found.out);
    expect(items).toEqual([
      {
        id: red.id,
        prompt: 'a red circle',
        seed: 11,
        file: red.path,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        favorite: true,
        tags: ['keeper'],
      },
    ]);
    expect(existsSync(items[0].file)).toBe(true);
    const listed = JSON.parse((await vgt('history', 'list', '--limit', '1', '--json')).out);
    expect(listed.items.map((i: { seed: number }) => i.seed)).toEqual([12]);
    const human = await vgt('history', 'search', 'keeper');
    expect(human.out).toContain('a red circle [keeper]');
  });

  it('pages past 200 for a large --limit, and moves to the trash and back', async () => {
    const library = await openLibrary(home);
    const first = (await library.recordGeneration(params({ prompt: 'pagefirst', seed: 1 }), await png(1))).id;
    // Further rows share one image: enough rows for two pages without writing 205 files.
    const bytes = await png(2);
    for (let i = 0; i < 204; i++) await library.recordGeneration(params({ prompt: `page ${i}`, seed: 2 + i }), bytes);
    library.close();
    const all = JSON.parse((await vgt('history', 'list', '--limit', '1000', '--json')).out).items;
    expect(all).toHaveLength(205);
    expect(new Set(all.map((i: { id: number }) => i.id)).size).toBe(205);
    expect(JSON.parse((await vgt('history', 'list', '--limit', '201', '--json')).out).items).toHaveLength(201);

    expect(JSON.parse((await vgt('history', 'delete', String(first), '--json')).out)).toEqual({ trashed: 1 });
    expect(JSON.parse((await vgt('history', 'search', 'pagefirst', '--json')).out).items).toEqual([]);
    const trashed = JSON.parse((await vgt('history', 'list', '--trash', '--json')).out).items;
    expect(trashed.map((i: { id: number }) => i.id)).toEqual([first]);
    expect((await vgt('history', 'restore', String(first))).out).toContain('restored 1');
    expect(JSON.parse((await vgt('history', 'search', 'pagefirst', '--json')).out).items).toHaveLength(1);
    await vgt('history', 'delete', String(first));
    expect(JSON.parse((await vgt('history', 'empty-trash', '--json')).out)).toMatchObject({ deleted: 1 });
    expect(JSON.parse((await vgt('history', 'list', '--limit', '1000', '--json')).out).items).toHaveLength(204);
    expect(JSON.parse((await vgt('history', 'delete', 'x', '--json')).out).error.code).toBe('USAGE');
  });

  it('answers bad input with typed errors', async () => {
    const syntax = await vgt('history', 'search', '*', '--json');
    expect([syntax.code, JSON.parse(syntax.out).error.code]).toEqual([1, 'SEARCH_SYNTAX']);
    const limit = await vgt('history', 'list', '--limit', '0', '--json');
    expect([limit.code, JSON.parse(limit.out).error.code]).toEqual([2, 'USAGE']);
    const empty = await vgt('history', 'search', '--json');
    expect(JSON.parse(empty.out).error.code).toBe('USAGE');
    expect(JSON.parse((await vgt('history', 'frobnicate', '--json')).out).error.code).toBe('USAGE');
    expect(JSON.parse((await vgt('history', 'search', '"NEAR(', '--json')).out)).toEqual({ items: [] });
  });
});
