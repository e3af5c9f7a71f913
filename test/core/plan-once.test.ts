// Each job is planned once, by the host: a queued generate (a batch of two), an edit of its first image and a fork of
// it each call the planner once and tokenise their prompt once, and the edit's source image is decoded once; the
// engine (in process here, so its calls are counted too) runs the plan it is given.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GenerationProgress } from '../../electron/common/contract';
import type { Studio } from '../../electron/core/studio';
import { Engine } from '../../electron/engine/engine';
import * as plan from '../../electron/engine/plan';
import * as image from '../../electron/platform/image';
import { PromptEncoder } from '../../electron/engine/tokenizer';
import { openTinyStudio, type Call } from './tiny-studio';

vi.mock('../../electron/engine/plan', async (original) => {
  const actual = await original<typeof plan>();
  return { ...actual, planJob: vi.fn(actual.planJob) };
});
vi.mock('../../electron/platform/image', async (original) => {
  const actual = await original<typeof image>();
  return { ...actual, loadModelImage: vi.fn(actual.loadModelImage) };
});

let studio: Studio;
let call: Call;
let close: (() => Promise<void>) | undefined;
const events: Array<GenerationProgress> = [];

beforeAll(async () => {
  ({
    studio,
    call,
    dispose: close,
  } = await openTinyStudio('vgt-plan-once-', { env: {}, engine: () => new Engine({ threads: 1 }) }));
  studio.events.subscribe((event) => {
    if (event.type === 'generation.progress') events.push(event.data);
  });
});

afterAll(async () => {
  await close?.();
});

/** The job's end, once its images are recorded. */
async function done(submitted: Promise<{ jobId: string }>): Promise<Extract<GenerationProgress, { status: 'done' }>> {
  const { jobId } = await submitted;
  await vi.waitFor(() => {
    if (!events.some((e) => e.jobId === jobId && ['done', 'error', 'cancelled'].includes(e.status))) {
      throw new Error('still running');
    }
  }, 60_000);
  const end = events.find((e) => e.jobId === jobId && ['done', 'error', 'cancelled'].includes(e.status));
  if (end?.status !== 'done') throw new Error(`job ${jobId} ended ${JSON.stringify(end)}`);
  return end;
}

describe('job planning', () => {
  it('plans and tokenises each job once, and decodes an edit source once', async () => {
    const planner = vi.mocked(plan.planJob);
    const decode = vi.mocked(image.loadModelImage);
    const encode = vi.spyOn(PromptEncoder.prototype, 'encode');
    const counts = () => ({ plans: planner.mock.calls.length, encodes: encode.mock.calls.length });
    const settings = { tokensPerStep: 8, steps: 2 } as const;

    const generated = await done(
      call('generation.generate', { prompt: 'a red circle', seed: 3, count: 2, ...settings }),
    );
    expect(generated.images).toHaveLength(2);
    expect(counts()).toEqual({ plans: 1, encodes: 1 });

    const mask = await sharp({ create: { width: 48, height: 48, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const id = generated.images[0]!.id!;
    const edited = await done(
      call('generation.edit', {
        image: { kind: 'generation', id: String(id) },
        mask: { kind: 'data', base64: mask.toString('base64') },
        prompt: 'a blue square',
        seed: 4,
        ...settings,
      }),
    );
    expect(edited.edit).toMatchObject({ regeneratedTokens: 64 });
    expect(counts()).toEqual({ plans: 2, encodes: 2 });
    expect(decode).toHaveBeenCalledTimes(1);

    const fork = await done(call('timeline.fork', { from: id, group: 2, seed: 9 }));
    expect(fork.images).toHaveLength(1);
    // The fork's parent has the same prompt: one tokenisation serves both.
    expect(counts()).toEqual({ plans: 3, encodes: 3 });
    expect(decode).toHaveBeenCalledTimes(1);
    encode.mockRestore();
  }, 120_000);

  it("gives the engine an edit's pixels exactly as the library keeps them (a replay decodes the same)", async () => {
    const [w, h] = [97, 61];
    const raw = Buffer.alloc(w * h * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
    const png = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    for (const size of [48, 448]) {
      const pixels = await image.loadModelImage(png, size);
      const kept = await image.loadModelImage(await image.encodePng(pixels), size);
      expect(Buffer.from(kept.data).equals(Buffer.from(pixels.data))).toBe(true);
    }
  });
});
