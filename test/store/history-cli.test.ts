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
