// The generation commands of `vgt` as a user runs them (--json: one object on stdout, typed errors).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/main';
import { readReplayParams } from '../../electron/store/library';
import { TINY_BUNDLE } from './golden';
import { vgtIn } from '../cli/run-vgt';

const home = mkdtempSync(path.join(tmpdir(), 'vgt-cli-gen-'));
const work = mkdtempSync(path.join(tmpdir(), 'vgt-cli-out-'));

const vgt = vgtIn(home);

beforeAll(async () => {
  expect((await vgt('models', 'import', TINY_BUNDLE)).code).toBe(0);
});
afterAll(async () => {
  await Promise.all([home, work].map((dir) => rm(dir, { recursive: true, force: true })));
});

const settings = ['--seed', '3', '--order-seed', '4', '--tokens-per-step', '8', '--steps', '3'];

describe('vgt generate / reconstruct / edit / eval / bench', () => {
  it('generate --json: one object, the same PNG bytes for the same settings, recorded unless --no-history', async () => {
    const out = path.join(work, 'a.png');
    const a = await vgt('generate', '--prompt', 'a red circle', ...settings, '--out', out, '--no-history');
    expect(a.code).toBe(0);
    expect(a.lines).toBe(1);
    expect(a.json).toMatchObject({
      images: [{ file: out, seed: 3, orderSeed: 4, width: 48, height: 48, id: null }],
      model: 'vgt-tiny-test',
      ep: 'cpu',
      seconds: expect.any(Number),
    });
    const b = await vgt('generate', '--prompt', 'a red circle', ...settings, '--count', '2');
    expect(b.code).toBe(0);
    const images = b.json.images as Array<{ file: string; id: number; seed: number }>;
    expect(images.map((i) => i.seed)).toEqual([3, 4]);
    expect(Number.isSafeInteger(images[0]!.id)).toBe(true);
    expect((await readFile(images[0]!.file)).equals(await readFile(out))).toBe(true);
    // The recorded image carries the provider that made it.
    expect(readReplayParams(await readFile(images[0]!.file))?.provider).toBe('cpu');
  });

  it('generate --seed N alone, twice: the order follows the seed and the PNG bytes are identical', async () => {
    const files = [path.join(work, 'seed-1.png'), path.join(work, 'seed-2.png')];
    for (const out of files) {
      const run = await vgt(
        'generate',
        '--prompt',
        'a red circle',
        '--seed',
        '7',
        '--tokens-per-step',
        '8',
        '--out',
        out,
      );
      expect(run.json).toMatchObject({ images: [{ seed: 7, orderSeed: 7 }] });
    }
    const [first, second] = await Promise.all(files.map((f) => readFile(f)));
    expect(first!.equals(second!)).toBe(true);
    // Another seed changes the image: the comparison above can fail.
    const other = path.join(work, 'seed-3.png');
    await vgt('generate', '--prompt', 'a red circle', '--seed', '8', '--tokens-per-step', '8', '--out', other);
    expect((await readFile(other)).equals(first!)).toBe(false);
  });

  it('reconstruct and edit a generated image', async () => {
    const image = path.join(work, 'a.png');
    const recon = await vgt('reconstruct', '--image', image, '--out', path.join(work, 'r.png'));
    expect(recon.json).toMatchObject({
      file: path.join(work, 'r.png'),
      tokens: [8, 8],
      psnr: expect.any(Number),
      ssim: expect.any(Number),
    });
    const mask = path.join(work, 'mask.png');
    await writeFile(
      mask,
      await sharp({ create: { width: 48, height: 48, channels: 3, background: '#000' } })
        .composite([
          {
            input: await sharp({ create: { width: 48, height: 12, channels: 3, background: '#fff' } })
              .png()
              .toBuffer(),
            top: 0,
            left: 0,
          },
        ])
        .png()
        .toBuffer(),
    );
    const edit = await vgt(
      'edit',
      '--image',
      image,
      '--mask',
      mask,
      '--prompt',
      'a blue square',
      '--seed',
      '9',
      '--tokens-per-step',
      '4',
      '--out',
      path.join(work, 'e.png'),
    );
    // The tiny bundle names no edit context: every kept token is the model's context (the reference's way).
    expect(edit.json).toMatchObject({
      file: path.join(work, 'e.png'),
      keptTokens: 48,
      regeneratedTokens: 16,
      editContext: 'all',
    });
    // Outside the mask (one token from it on) the source's own pixels are kept; the decoder alone changes them.
    expect(edit.json.keptPixels).toBe(true);
    expect(edit.json.unmaskedPsnr).toBeGreaterThanOrEqual(45);
    const decoded = edit.json.decodedUnmaskedPsnr as number;
    expect(decoded).toBeLessThan(edit.json.unmaskedPsnr as number);
    const pure = await vgt(
      'edit',
      ...['--image', image, '--mask', mask, '--prompt', 'a blue square', '--seed', '9', '--tokens-per-step', '4'],
      ...['--no-keep-pixels', '--count', '2', '--out', path.join(work, 'e-pure.png')],
    );
    expect(pure.json).toMatchObject({ keptPixels: false, unmaskedPsnr: decoded, orderSeed: 9 });
    expect(pure.json.files).toEqual([path.join(work, 'e-pure.png'), path.join(work, 'e-pure-2.png')]);
  });

  it('reports bad input as typed JSON errors', async () => {
    expect(await vgt('generate', '--seed', '1')).toMatchObject({ code: 2, json: { error: { code: 'USAGE' } } });
    expect(await vgt('generate', '--prompt', 'x', '--tokens-per-step', '999')).toMatchObject({
      code: 1,
      json: { error: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(/larger than the model's 64 tokens/) } },
    });
    const corrupt = path.join(work, 'corrupt.png');
    await writeFile(corrupt, (await readFile(path.join(work, 'a.png'))).subarray(0, 100));
    expect(await vgt('reconstruct', '--image', corrupt)).toMatchObject({
      code: 1,
      json: { error: { code: 'IMAGE_INVALID' } },
    });
    expect(await vgt('eval', 'colours')).toMatchObject({ code: 2, json: { error: { code: 'USAGE' } } });
  });

  it('eval shapes and bench print their figures', async () => {
    const evaluation = await vgt(
      'eval',
      'shapes',
      '--limit',
      '2',
      '--tokens-per-step',
      '16',
      '--cfg-schedule',
      'constant',
    );
    expect(evaluation.json).toMatchObject({
      overall: expect.any(Number),
      categories: { single_object: expect.any(Number) },
      n: 2,
      // The settings the images were made with: the ones asked for, the model's defaults for the rest.
      sampling: { tokensPerStep: 16, cfgSchedule: 'constant', steps: 4, order: 'random' },
    });
    expect(await vgt('eval', 'shapes', '--cfg-schedule', 'cosine')).toMatchObject({
      code: 2,
      json: { error: { code: 'USAGE' } },
    });
    // --limit spreads over the categories, and the held-out split counts every image once.
    expect(Object.keys(evaluation.json.categories as object).length).toBe(2);
    const split = evaluation.json.split as { seen: { n: number }; heldOut: { n: number } };
    expect(split.seen.n + split.heldOut.n).toBe(2);
    const bench = await vgt(
      'bench',
      '--k',
      '16',
      '--runs',
      '1',
      '--torch-k',
      '16',
      '--torch-runs',
      '1',
      '--library-rows',
      '300',
    );
    expect(bench.code).toBe(0);
    expect(bench.json).toMatchObject({
      model: 'vgt-tiny-test',
      ep: 'cpu',
      steps: 4,
      msPerImage: { 16: expect.any(Number) },
      firstPreviewMs: { 16: expect.any(Number) },
      peakRssMB: expect.any(Number),
      eventLoopLagP99Ms: expect.any(Number),
      // One decode per image (previews off in the timed runs), and LM steps accounted for.
      graphMsPerImage: {
        16: expect.objectContaining({
          vgtae_decode: { ms: expect.any(Number), runs: 1 },
          lm_step: { ms: expect.any(Number), runs: expect.any(Number) },
        }),
      },
      library: {
        rows: 300,
        searchMs: expect.any(Number),
        firstPageMs: expect.any(Number),
        compactSeconds: expect.any(Number),
        compactLagMaxMs: expect.any(Number),
      },
    });
    // The PyTorch reference runs where Debian's torch is installed; otherwise the bench says why it skipped it.
    const torch = bench.json.torchReference as { msPerImage: Record<string, number>; skipped?: string };
    if (torch.skipped === undefined) expect(bench.json.speedupVsTorch).toMatchObject({ 16: expect.any(Number) });
    else expect(torch.skipped).toMatch(/reference sampler/);
  }, 120_000);

  it('bench with no model installed still measures the library, and says why generation was skipped', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'vgt-cli-empty-'));
    let out = '';
    const code = await main(['bench', '--library-rows', '200', '--json'], {
      stdout: (t) => (out += t),
      stderr: () => undefined,
      env: { VGT_STUDIO_HOME: empty },
      builtinBundles: [],
    });
    await rm(empty, { recursive: true, force: true });
    expect(code).toBe(0);
    const json = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(json).toMatchObject({
      model: null,
      generation: { skipped: expect.stringMatching(/no model/) },
      library: { rows: 200, searchMs: expect.any(Number), firstPageMs: expect.any(Number) },
    });
    // An explicit model that is not there stays an error.
    const missing = await main(['bench', '--model', 'nope', '--json'], {
      stdout: () => undefined,
      stderr: () => undefined,
      env: { VGT_STUDIO_HOME: empty },
      builtinBundles: [],
    });
    expect(missing).not.toBe(0);
  }, 60_000);

  it('a 100 kB prompt on the command line is cut to the model limit with a warning, not a crash', async () => {
    // A real process: onnxruntime's start-up in the engine worker reads the command line, which overflowed the
    // worker's default stack (segfault) before the worker got a larger one.
    const prompt = 'a red circle '.repeat(8000);
    const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'vgt.mjs');
    const out = path.join(work, 'long.png');
    const args = [bin, 'generate', '--model', 'vgt-tiny-test', '--prompt', prompt, '--steps', '2', '--out', out];
    const { stdout } = await promisify(execFile)(process.execPath, [...args, '--no-history', '--json'], {
      env: { ...process.env, VGT_STUDIO_HOME: home, VGT_THREADS: '1' },
      maxBuffer: 1 << 20,
    });
    const json = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { images: unknown[]; warnings: string[] };
    expect(json.images).toHaveLength(1);
    expect(json.warnings.join(' ')).toMatch(/longer than the model's limit of \d+ tokens/);
  }, 60_000);
});
