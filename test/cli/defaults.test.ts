// The generation defaults saved in Settings (the library's settings, shared with the app) steer `vgt generate` and
// `vgt edit` where a flag is absent: flags win, then the saved defaults, then the model's own. `vgt fork` keeps its
// parent's settings instead.
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationDefaults } from '../../electron/common/contract';
import { createStudio } from '../../electron/core/studio';
import { TINY_BUNDLE } from '../engine/golden';
import { vgtIn } from './run-vgt';

const home = mkdtempSync(path.join(tmpdir(), 'vgt-cli-defaults-'));
const work = mkdtempSync(path.join(tmpdir(), 'vgt-cli-defaults-out-'));
const env = { VGT_STUDIO_HOME: home, VGT_THREADS: '1' };

const vgt = vgtIn(home);

/** Saves the defaults the way the app does: `settings.set` on the same library. */
async function saveDefaults(defaults: GenerationDefaults): Promise<void> {
  const studio = createStudio({ home, mode: 'cli', env, builtinBundles: [] });
  try {
    const result = await studio.handle('settings.set', { defaults });
    expect(result.ok).toBe(true);
  } finally {
    await studio.dispose();
  }
}

type Sampling = { steps: number; tokensPerStep: number; cfg: number; cfgSchedule: string; order: string };
const sampling = (json: Record<string, unknown>) => json.sampling as Sampling;

beforeAll(async () => {
  expect((await vgt('models', 'import', TINY_BUNDLE)).code).toBe(0);
});
afterAll(async () => {
  await Promise.all([home, work].map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('saved generation defaults on the command line', () => {
  it('generate: the model default without saved ones, then the saved ones, and a flag wins', async () => {
    const prompt = ['--prompt', 'a red circle', '--no-history'];
    const plain = await vgt('generate', ...prompt, '--out', path.join(work, 'plain.png'));
    expect(plain.code).toBe(0);
    // The tiny bundle's own sampling block.
    expect(sampling(plain.json)).toEqual({
      steps: 4,
      tokensPerStep: 4,
      cfg: 3,
      cfgSchedule: 'linear',
      order: 'random',
    });
    expect(plain.json.images).toHaveLength(1);

    await saveDefaults({
      steps: 3,
      tokensPerStep: 8,
      cfg: 2,
      cfgSchedule: 'constant',
      count: 2,
      model: 'vgt-tiny-test',
    });
    const saved = await vgt('generate', ...prompt, '--seed', '5', '--out', path.join(work, 'saved.png'));
    expect(saved.code).toBe(0);
    expect(sampling(saved.json)).toEqual({
      steps: 3,
      tokensPerStep: 8,
      cfg: 2,
      cfgSchedule: 'constant',
      order: 'random',
    });
    expect(saved.json).toMatchObject({ model: 'vgt-tiny-test', images: [{ seed: 5 }, { seed: 6 }] });

    const flags = await vgt(
      'generate',
      ...prompt,
      ...['--steps', '5', '--count', '1', '--cfg-schedule', 'linear', '--out', path.join(work, 'flags.png')],
    );
    expect(flags.code).toBe(0);
    expect(sampling(flags.json)).toMatchObject({ steps: 5, tokensPerStep: 8, cfg: 2, cfgSchedule: 'linear' });
    expect(flags.json.images).toHaveLength(1);
  });

  it('generate --seed 7 twice with saved defaults: identical PNG bytes, and the defaults change them', async () => {
    await saveDefaults({ steps: 3, tokensPerStep: 8, count: 1 });
    const files = [path.join(work, 'seven-1.png'), path.join(work, 'seven-2.png')];
    for (const out of files) {
      const run = await vgt('generate', '--prompt', 'a red circle', '--seed', '7', '--out', out);
      expect(run.code).toBe(0);
      expect(run.json).toMatchObject({ images: [{ seed: 7, orderSeed: 7 }], sampling: { steps: 3, tokensPerStep: 8 } });
    }
    const [first, second] = await Promise.all(files.map((f) => readFile(f)));
    expect(first!.equals(second!)).toBe(true);
    // The same seed with the model's own steps is another image: the saved defaults were really used.
    const other = path.join(work, 'seven-steps4.png');
    expect(
      (await vgt('generate', '--prompt', 'a red circle', '--seed', '7', '--steps', '4', '--out', other)).code,
    ).toBe(0);
    expect((await readFile(other)).equals(first!)).toBe(false);
  });

  it('edit takes the saved sampling (not the image count); fork keeps its parent’s settings', async () => {
    await saveDefaults({ steps: 3, tokensPerStep: 8, count: 3 });
    const parent = await vgt('generate', '--prompt', 'a red circle', '--seed', '2', '--steps', '5', '--count', '1');
    expect(parent.code).toBe(0);
    const image = (parent.json.images as Array<{ file: string; id: number }>)[0]!;
    const mask = path.join(work, 'mask.png');
    await writeFile(
      mask,
      await sharp({ create: { width: 48, height: 48, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    );
    const edit = await vgt('edit', '--image', image.file, '--mask', mask, '--prompt', 'a blue square', '--seed', '9');
    expect(edit.code).toBe(0);
    expect(edit.json).toMatchObject({ files: [expect.any(String)], sampling: { steps: 3, tokensPerStep: 8 } });
    const editFlag = await vgt(
      'edit',
      ...['--image', image.file, '--mask', mask, '--prompt', 'a blue square', '--seed', '9', '--steps', '2'],
    );
    expect(editFlag.json).toMatchObject({ sampling: { steps: 2, tokensPerStep: 8 } });

    const fork = await vgt('fork', '--from', String(image.id), '--group', '1', '--seed', '4');
    expect(fork.code).toBe(0);
    expect(fork.json).toMatchObject({ parent: image.id, group: 1, sampling: { steps: 5, tokensPerStep: 8 } });
  });
});
