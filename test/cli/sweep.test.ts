// `vgt sweep --json` with the tiny test bundle: one object on stdout, every cell an ordinary library generation (the
// same pixels `vgt generate` makes with those settings), timed, scored for Shapes World prompts, and a grid PNG that
// carries the sweep's settings.
import { mkdtempSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepCell } from '../../electron/common/contract';
import { SWEEP_PNG_KEYWORD } from '../../electron/core/sweep-grid';
import { readPngText } from '../../electron/store/png';
import { readReplayParams } from '../../electron/store/library';
import { TINY_BUNDLE } from '../engine/golden';
import { vgtIn } from './run-vgt';

const home = mkdtempSync(path.join(tmpdir(), 'vgt-cli-sweep-'));
const work = mkdtempSync(path.join(tmpdir(), 'vgt-cli-sweep-out-'));

const vgt = vgtIn(home);

const pixels = async (file: string): Promise<Buffer> => sharp(file).raw().toBuffer();

beforeAll(async () => {
  expect((await vgt('models', 'import', TINY_BUNDLE)).code).toBe(0);
});
afterAll(async () => {
  await Promise.all([home, work].map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('vgt sweep', () => {
  it('makes a grid over tokens per step × seed: library cells, times, verdicts and a grid PNG with its settings', async () => {
    const out = path.join(work, 'grid.png');
    const prompt = 'a red circle left of a blue square';
    const r = await vgt('sweep', '--prompt', prompt, '--x', 'tokens-per-step=1,8', '--y', 'seed=3,4', '--steps', '2');
    expect(r.code, JSON.stringify(r.json)).toBe(0);
    expect(r.lines).toBe(1);
    const cells = r.json.cells as Array<SweepCell>;
    expect(r.json).toMatchObject({ model: 'vgt-tiny-test', x: { axis: 'tokensPerStep', values: [1, 8] } });
    expect(cells.map((c) => [c.x, c.y])).toEqual([
      [1, 3],
      [8, 3],
      [1, 4],
      [8, 4],
    ]);
    for (const cell of cells) {
      expect(cell.id).toBeGreaterThan(0);
      expect(cell.msPerImage).toBeGreaterThan(0);
      expect(typeof cell.pass).toBe('boolean'); // a Shapes World prompt: scored
      // The cell's PNG is a library image that carries its own settings.
      const params = readReplayParams(await readFile(cell.file));
      expect(params).toMatchObject({ prompt, seed: cell.y, orderSeed: cell.y, tokensPerStep: cell.x, steps: 2 });
      expect(cell.sampling).toMatchObject({ tokensPerStep: cell.x, steps: 2 });
    }
    expect(new Set(cells.map((c) => c.id)).size).toBe(4);

    // The grid PNG went to the data folder, and carries the sweep.
    const grid = r.json.grid as string;
    expect(path.dirname(grid)).toBe(path.join(home, 'sweeps'));
    const meta = JSON.parse(readPngText(await readFile(grid), SWEEP_PNG_KEYWORD) ?? '{}') as {
      kind: string;
      cells: Array<{ id: number; msPerImage: number }>;
    };
    expect(meta.kind).toBe('sweep');
    expect(meta.cells.map((c) => c.id)).toEqual(cells.map((c) => c.id));

    // A cell is the image `vgt generate` makes with the same settings.
    const same = path.join(work, 'same.png');
    const g = await vgt(
      'generate',
      '--prompt',
      prompt,
      ...['--seed', '4', '--tokens-per-step', '8', '--steps', '2', '--no-history', '--out', same],
    );
    expect(g.code).toBe(0);
    expect((await pixels(same)).equals(await pixels(cells[3]!.file))).toBe(true);

    // The library lists the four cells as ordinary generations.
    const history = await vgt('history', 'list');
    const ids = ((history.json.items ?? []) as Array<{ id: number }>).map((i) => i.id);
    for (const cell of cells) expect(ids).toContain(cell.id);

    // --out puts the grid where it is asked for; a prompt outside Shapes World is not scored.
    const other = await vgt('sweep', '--prompt', 'a cat', '--x', 'cfg=1,2.5', '--steps', '1', '--out', out);
    expect(other.code, JSON.stringify(other.json)).toBe(0);
    expect(other.json.grid).toBe(out);
    expect((await stat(out)).size).toBeGreaterThan(0);
    const otherCells = other.json.cells as Array<SweepCell>;
    expect(otherCells.map((c) => [c.x, c.y, c.pass])).toEqual([
      [1, null, null],
      [2.5, null, null],
    ]);
    // One seed for every cell the axes leave it to.
    expect(otherCells[0]?.seed).toBe(otherCells[1]?.seed);
  });

  it('refuses bad axes with typed errors', async () => {
    const usage = await vgt('sweep', '--prompt', 'p', '--x', 'temperature=1,2');
    expect(usage.code).toBe(2);
    expect(usage.json).toMatchObject({ error: { code: 'USAGE' } });
    expect((await vgt('sweep', '--prompt', 'p')).json).toMatchObject({ error: { code: 'USAGE' } });
    const twice = await vgt('sweep', '--prompt', 'p', '--x', 'seed=1,2', '--y', 'seed=3');
    expect(twice.code).toBe(1);
    expect(twice.json).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    // The tiny model has 64 tokens.
    const tooMany = await vgt('sweep', '--prompt', 'p', '--x', 'tokens-per-step=4,65');
    expect(tooMany.json).toMatchObject({ error: { code: 'INVALID_PAYLOAD', message: expect.stringContaining('65') } });
  });
});
