// `vgt compare A B --json` with the tiny test bundle: the settings diff line by line and the pixel difference of two
// library images; the same image against itself is identical; bad ids are usage errors.
import { mkdtempSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_BUNDLE } from '../engine/golden';
import { vgtIn } from './run-vgt';

const home = mkdtempSync(path.join(tmpdir(), 'vgt-cli-compare-'));

const vgt = vgtIn(home);

const ids: Array<number> = [];
beforeAll(async () => {
  expect((await vgt('models', 'import', TINY_BUNDLE)).code).toBe(0);
  for (const seed of ['3', '4']) {
    const r = await vgt('generate', '--prompt', 'a red circle', '--seed', seed, '--steps', '2');
    expect(r.code, JSON.stringify(r.json)).toBe(0);
    ids.push((r.json.images as Array<{ id: number }>)[0]!.id);
  }
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('vgt compare', () => {
  it('diffs the settings line by line and measures the pixels; writes the difference map', async () => {
    const diff = path.join(home, 'diff.png');
    const r = await vgt('compare', String(ids[0]), String(ids[1]), '--diff', diff);
    expect(r.code, JSON.stringify(r.json)).toBe(0);
    const settings = r.json.settings as Array<{ setting: string; a: string; b: string; same: boolean }>;
    expect(settings.find((s) => s.setting === 'Seed')).toEqual({ setting: 'Seed', a: '3', b: '4', same: false });
    expect(settings.find((s) => s.setting === 'Prompt')?.same).toBe(true);
    expect(r.json.differentSettings).toBe(settings.filter((s) => !s.same).length);
    const pixels = r.json.pixels as { psnr: number; meanAbsDiff: number; maxAbsDiff: number; changedShare: number };
    expect(pixels.psnr).toBeLessThan(100);
    expect(pixels.maxAbsDiff).toBeGreaterThan(0);
    expect(pixels.changedShare).toBeGreaterThan(0);
    expect(r.json.diff).toBe(diff);
    expect((await stat(diff)).size).toBeGreaterThan(0);
  });

  it('finds an image identical to itself', async () => {
    const r = await vgt('compare', String(ids[0]), String(ids[0]));
    expect(r.code).toBe(0);
    expect(r.json.differentSettings).toBe(0);
    expect(r.json.pixels).toMatchObject({ psnr: 100, meanAbsDiff: 0, maxAbsDiff: 0, changedShare: 0 });
    expect(r.json.diff).toBeNull();
  });

  it('refuses bad ids with a usage error and unknown ones with NOT_FOUND', async () => {
    expect((await vgt('compare', String(ids[0]))).json).toMatchObject({ error: { code: 'USAGE' } });
    expect((await vgt('compare', 'x', '2')).json).toMatchObject({ error: { code: 'USAGE' } });
    expect((await vgt('compare', String(ids[0]), '99999')).json).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
