// The generation calls end to end through the studio host: contract validation, the runner, the worker engine, the
// library queue and records, and the progress events.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationProgress } from '../../electron/common/contract';
import type { Studio } from '../../electron/core/studio';
import { readReplayParams } from '../../electron/store/library';
import { openTinyStudio, type Call } from '../core/tiny-studio';

let studio: Studio;
let call: Call;
let close: (() => Promise<void>) | undefined;
const events: Array<GenerationProgress> = [];

beforeAll(async () => {
  ({ studio, call, dispose: close } = await openTinyStudio('vgt-gen-'));
  studio.events.subscribe((event) => {
    if (event.type === 'generation.progress') events.push(event.data);
  });
});

afterAll(async () => {
  await close?.();
});

function settle(jobId: string): Promise<GenerationProgress> {
  return new Promise((resolve) => {
    const seen = events.find((e) => e.jobId === jobId && ['done', 'error', 'cancelled'].includes(e.status));
    if (seen) return resolve(seen);
    const stop = studio.events.subscribe((event) => {
      if (event.type !== 'generation.progress' || event.data.jobId !== jobId) return;
      if (['done', 'error', 'cancelled'].includes(event.data.status)) {
        stop();
        resolve(event.data);
      }
    });
  });
}

const base = { prompt: 'a red circle', seed: 5, orderSeed: 6, tokensPerStep: 8, steps: 3 } as const;

describe('generation through the studio', () => {
  it('generates into the library: queued → prefill → groups → decode → done, recorded with replay parameters', async () => {
    const { jobId } = await call('generation.generate', { ...base, count: 2 });
    const done = await settle(jobId);
    expect(done).toMatchObject({ status: 'done', model: 'tiny', ep: 'cpu' });
    if (done.status !== 'done') return;
    expect(done.images.map((i) => [i.seed, i.orderSeed])).toEqual([
      [5, 6],
      [6, 7],
    ]);
    const statuses = events.filter((e) => e.jobId === jobId).map((e) => e.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses.filter((s) => s === 'group')).toHaveLength(8);
    const png = await readFile(done.images[0]!.file);
    // The provider the engine ran on: in the PNG's parameters and the record (queued before the engine chose it).
    expect(readReplayParams(png)).toMatchObject({
      prompt: 'a red circle',
      seed: 5,
      orderSeed: 6,
      tokensPerStep: 8,
      provider: 'cpu',
    });
    const record = await call('library.get', { id: done.images[0]!.id! });
    expect(record).toMatchObject({ status: 'done', prompt: 'a red circle', params: { provider: 'cpu' } });
    // The done event names the file as library.* does, so the page needs no library.get to show it.
    expect(done.images[0]!.libraryFile).toBe(record.file);
  });

  it('without history writes the same bytes to the scratch folder and records nothing', async () => {
    const [a, b] = await Promise.all([
      call('generation.generate', { ...base, history: false, previews: false }),
      call('generation.generate', { ...base, history: false, previews: false }),
    ]);
    const [da, db] = [await settle(a.jobId), await settle(b.jobId)];
    if (da.status !== 'done' || db.status !== 'done') throw new Error('expected done');
    expect(da.images[0]!.id).toBeNull();
    expect(da.images[0]!.libraryFile).toBeUndefined();
    const [pa, pb] = [await readFile(da.images[0]!.file), await readFile(db.images[0]!.file)];
    expect(pa.equals(pb)).toBe(true);
    expect(readReplayParams(pa)?.provider).toBe('cpu');
    const jobs = await call('generation.jobs', {});
    expect(jobs.jobs.find((j) => j.jobId === a.jobId)).toMatchObject({ state: 'done', committed: 64, total: 64 });
  });

  it('cancels a running job, decodes it partially, and resumes it to completion', async () => {
    const { jobId } = await call('generation.generate', { ...base, tokensPerStep: 1, history: false });
    const stop = studio.events.subscribe((event) => {
      if (event.type === 'generation.progress' && event.data.jobId === jobId && event.data.status === 'group') {
        stop();
        void call('generation.cancel', { jobId });
      }
    });
    const cancelled = await settle(jobId);
    expect(cancelled).toMatchObject({ status: 'cancelled', resumable: true });
    const partial = await call('generation.decodePartial', { jobId });
    expect(partial.images[0]).toMatchObject({ width: 48, height: 48 });
    expect(partial.committed).toBeGreaterThan(0);
    events.splice(0, events.length);
    await call('generation.resume', { jobId });
    expect(await settle(jobId)).toMatchObject({ status: 'done' });
    expect(events.find((e) => e.jobId === jobId && e.status === 'prefill')).toMatchObject({
      fixed: expect.arrayContaining([expect.any(Number)]),
    });
  });

  it('edits an image from base64 data with a mask, reporting kept and regenerated tokens', async () => {
    const image = await sharp({ create: { width: 80, height: 80, channels: 3, background: '#204080' } })
      .png()
      .toBuffer();
    const mask = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#000' } })
      .composite([
        {
          input: await sharp({ create: { width: 20, height: 40, channels: 3, background: '#fff' } })
            .png()
            .toBuffer(),
          left: 0,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const { jobId } = await call('generation.edit', {
      image: { kind: 'data', base64: image.toString('base64') },
      mask: { kind: 'data', base64: mask.toString('base64') },
      prompt: 'a yellow square',
      seed: 1,
      tokensPerStep: 4,
      steps: 3,
    });
    const done = await settle(jobId);
    expect(done).toMatchObject({ status: 'done', edit: { keptTokens: 32, regeneratedTokens: 32 } });
    // Two variants of an edit of a library image, through the queue: both recorded, each naming its source.
    const first = (done as { images: Array<{ id: number }> }).images[0]!.id;
    const variants = await call('generation.edit', {
      image: { kind: 'data', base64: image.toString('base64') },
      sourceId: first,
      mask: { kind: 'data', base64: mask.toString('base64') },
      prompt: 'a red circle',
      seed: 5,
      tokensPerStep: 4,
      steps: 3,
      count: 2,
    });
    const again = (await settle(variants.jobId)) as { status: string; images: Array<{ id: number; seed: number }> };
    expect(again).toMatchObject({ status: 'done', edit: { keptPixels: true } });
    expect(again.images.map((i) => i.seed)).toEqual([5, 6]);
    const record = await call('library.get', { id: again.images[1]!.id });
    expect(record.params.extra).toMatchObject({ sourceId: first });
  });

  it('runs jobs put in the library queue by others (an earlier session, a retry) from their parameters', async () => {
    const library = await studio.services.library.get();
    const item = await library.enqueue({
      kind: 'generate',
      prompt: 'a green triangle',
      negativePrompt: null,
      modelId: 'tiny',
      bundleHash: null,
      provider: null,
      seed: 11,
      orderSeed: 12,
      order: 'random',
      tokensPerStep: 16,
      steps: 3,
      cfg: 3,
      cfgSchedule: 'linear',
      width: 48,
      height: 48,
      sourceImage: null,
      extra: null,
    });
    const done = await settle(String(item.id));
    expect(done).toMatchObject({ status: 'done', images: [{ id: item.id, seed: 11, orderSeed: 12 }] });
    expect(await call('library.get', { id: item.id })).toMatchObject({ status: 'done' });
  });

  it('refuses bad requests with typed errors, truncates long prompts, and keeps serving', async () => {
    await expect(call('generation.generate', { ...base, tokensPerStep: 65 })).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(call('generation.generate', { ...base, model: 'nope' })).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
    await expect(
      call('generation.reconstruct', { image: { kind: 'data', base64: Buffer.from('garbage!').toString('base64') } }),
    ).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(call('generation.cancel', { jobId: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const { jobId } = await call('generation.generate', {
      ...base,
      prompt: 'blue '.repeat(20_000),
      history: false,
      previews: false,
    });
    const done = await settle(jobId);
    expect(done).toMatchObject({ status: 'done', warnings: [expect.stringMatching(/limit of 256 tokens/)] });
    const reconstruct = await call('generation.reconstruct', {
      image: {
        kind: 'data',
        base64: (
          await sharp({ create: { width: 30, height: 50, channels: 4, background: '#ff000080' } })
            .png()
            .toBuffer()
        ).toString('base64'),
      },
    });
    expect(reconstruct).toMatchObject({ model: 'tiny', tokens: [8, 8] });
    expect(await call('generation.engine', {})).toMatchObject({
      ep: 'cpu',
      model: { id: 'vgt-tiny-test' },
      busy: false,
    });
  });
});
