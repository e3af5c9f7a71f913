import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Engine,
  JobError,
  type EngineJob,
  type EngineOutcome,
  type EngineProgress,
} from '../../electron/engine/engine';
import { createOrtSession, type SessionFactory } from '../../electron/engine/graphs';

type Session = Awaited<ReturnType<SessionFactory>>;
import { inspectImage, loadModelImage, maskToCells, rgbToTensor } from '../../electron/platform/image';
import { TINY_BUNDLE } from './golden';
import { planned, type JobFields } from './planned';

// Decoded previews whenever allowed (any cost, every group), so the progress test sees one on the first group.
const engine = new Engine({ threads: 1, previewBudget: Infinity, previewMinGroups: 1 });
afterAll(() => engine.dispose());

let jobCount = 0;
function job(overrides: Partial<JobFields> = {}): Promise<EngineJob> {
  return planned({
    jobId: `job-${++jobCount}`,
    kind: 'generate',
    bundleDir: TINY_BUNDLE,
    modelId: 'tiny',
    prompt: 'a red circle left of a blue square',
    sampling: { tokensPerStep: 4, steps: 4 },
    seeds: [7],
    orderSeeds: [11],
    previews: false,
    ...overrides,
  });
}

async function run(
  j: EngineJob | Promise<EngineJob>,
  on?: (p: EngineProgress) => void,
  e = engine,
): Promise<EngineOutcome & { status: 'done' }> {
  const outcome = await e.run(await j, on ?? (() => undefined));
  if (outcome.status !== 'done') throw new Error(`expected done, got ${outcome.status}`);
  return outcome;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: { code: string; message: string }) => error,
  );
}

async function rawPixels(png: Uint8Array): Promise<Buffer> {
  return sharp(png).raw().toBuffer();
}

describe('generation', () => {
  it('is deterministic: the same seeds give byte-identical PNGs, another seed another image', async () => {
    const a = await run(job());
    const b = await run(job());
    const c = await run(job({ seeds: [8] }));
    const d = await run(job({ orderSeeds: [12] }));
    expect(Buffer.from(a.images[0]!.png).equals(Buffer.from(b.images[0]!.png))).toBe(true);
    expect(Buffer.from(a.images[0]!.png).equals(Buffer.from(c.images[0]!.png))).toBe(false);
    expect(Buffer.from(a.images[0]!.png).equals(Buffer.from(d.images[0]!.png))).toBe(false);
    expect(a.images[0]).toMatchObject({ seed: 7, orderSeed: 11, width: 48, height: 48 });
    expect(a.ep).toBe('cpu');
  });

  it('streams typed progress: prefill, every group with its positions, previews, decode', async () => {
    const events: Array<EngineProgress> = [];
    const outcome = await run(job({ previews: true, sampling: { tokensPerStep: 16, steps: 3 } }), (p) =>
      events.push(p),
    );
    expect(events[0]).toMatchObject({ status: 'prefill', grid: [8, 8], groups: 4, count: 1, fixed: [] });
    const groups = events.filter((e) => e.status === 'group');
    expect(groups.map((g) => g.group)).toEqual([1, 2, 3, 4]);
    const positions = groups.flatMap((g) => g.positions);
    expect(new Set(positions).size).toBe(64);
    expect(groups.at(-1)).toMatchObject({ committed: 64, total: 64 });
    // An unlimited budget every group: every group but the last (the result's decode follows at once) is decoded.
    expect(groups[0]).toMatchObject({ previewKind: 'decoded', previews: [{ width: 48, height: 48 }] });
    expect(events.at(-1)).toEqual({ status: 'decode' });
    expect(outcome.firstPreviewMs).toBeGreaterThan(0);
    expect(outcome.firstDecodedPreviewMs).toBe(outcome.firstPreviewMs);
    // The benchmark's breakdown counts every graph run of the job: one LM step per group, one decode per decoded
    // preview plus the final one.
    expect(groups.map((g) => g.previewKind)).toEqual(['decoded', 'decoded', 'decoded', undefined]);
    const decoded = groups.filter((g) => g.previewKind === 'decoded').length;
    expect(outcome.graphTime.lm_step?.runs).toBe(4);
    expect(outcome.graphTime.vgtae_decode?.runs).toBe(decoded + 1);
    for (const time of Object.values(outcome.graphTime)) expect(time.ms).toBeGreaterThan(0);
  });

  it('sends instant previews (one pixel per token, no decoder run) until a decoded one is due', async () => {
    const slow = new Engine({ threads: 1, previewBudget: 0 });
    try {
      const events: Array<EngineProgress> = [];
      const outcome = await run(
        job({ previews: true, sampling: { tokensPerStep: 16, steps: 3 } }),
        (p) => events.push(p),
        slow,
      );
      const groups = events.filter((e) => e.status === 'group');
      expect(groups[0]).toMatchObject({ previewKind: 'approximate', previews: [{ width: 8, height: 8 }] });
      // the last group sends none: the final decode follows at once
      expect(groups.at(-1)?.previews).toBeUndefined();
      expect(outcome.firstPreviewMs).toBeGreaterThan(0);
      expect(outcome.firstDecodedPreviewMs).toBeNull();
      const png = Buffer.from(groups[0]!.previews![0]!.png, 'base64');
      expect((await sharp(png).metadata()).width).toBe(8);
    } finally {
      await slow.dispose();
    }
  });

  describe('decoded previews during a run', () => {
    const k1 = { previews: true, sampling: { tokensPerStep: 1, steps: 3 } } as const;
    const decodedGroups = (events: ReadonlyArray<EngineProgress>): Array<number> =>
      events.flatMap((e) => (e.status === 'group' && e.previewKind === 'decoded' ? [e.group] : []));

    it('none when the budget is too small for the measured decode (instant previews only)', async () => {
      const tight = new Engine({ threads: 1, previewBudget: 1e-9, previewMinGroups: 1 });
      try {
        const events: Array<EngineProgress> = [];
        const outcome = await run(job(k1), (p) => events.push(p), tight);
        expect(decodedGroups(events)).toEqual([]);
        expect(events.some((e) => e.status === 'group' && e.previewKind === 'approximate')).toBe(true);
        expect(outcome.firstDecodedPreviewMs).toBeNull();
      } finally {
        await tight.dispose();
      }
    });

    it('some mid-run with a generous budget, never closer than the minimum spacing', async () => {
      const generous = new Engine({ threads: 1, previewBudget: 1000, previewMinGroups: 5 });
      try {
        const events: Array<EngineProgress> = [];
        const outcome = await run(job(k1), (p) => events.push(p), generous);
        const decoded = decodedGroups(events);
        // 64 groups: after groups 5, 10, … 60 (not the last: the result's decode follows it).
        expect(decoded).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60]);
        expect(outcome.firstDecodedPreviewMs).toBeGreaterThan(0);
        const first = events.find((e) => e.status === 'group' && e.group === 5);
        expect(first).toMatchObject({ committed: 5, previews: [{ width: 48, height: 48 }] });
      } finally {
        await generous.dispose();
      }
    });

    it('a decoded preview is the decode of the committed tokens, byte for byte what "decode as is" gives', async () => {
      const generous = new Engine({ threads: 1, previewBudget: 1000, previewMinGroups: 7 });
      try {
        const j = await job({ ...k1, jobId: 'preview-as-is' });
        let preview: string | undefined;
        const outcome = await generous.run(j, (p) => {
          if (p.status === 'group' && p.previewKind === 'decoded') {
            preview = p.previews?.[0]?.png;
            generous.cancel(j.jobId);
          }
        });
        if (outcome.status !== 'cancelled') throw new Error('expected a cancel');
        expect(outcome.committed).toBe(7);
        const [asIs] = await generous.decodeCheckpoint(TINY_BUNDLE, outcome.checkpoint);
        expect(preview).toBeDefined();
        expect(asIs?.png).toBe(preview);
      } finally {
        await generous.dispose();
      }
    });
  });

  it('batches images: each keeps its own seeds, and matches the image generated alone', async () => {
    const batch = await run(job({ seeds: [7, 8], orderSeeds: [11, 12] }));
    const alone = await run(job({ seeds: [8], orderSeeds: [12] }));
    expect(batch.images.map((i) => [i.seed, i.orderSeed])).toEqual([
      [7, 11],
      [8, 12],
    ]);
    const a = await rawPixels(batch.images[1]!.png);
    const b = await rawPixels(alone.images[0]!.png);
    const maxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('cancels, keeps the committed tokens, and resumes to the uninterrupted result', async () => {
    const settings = { sampling: { tokensPerStep: 2, steps: 3 }, seeds: [3], orderSeeds: [5] };
    const full = await run(job(settings));
    const j = await job(settings);
    const cancelled = await engine.run(j, (p) => {
      if (p.status === 'group' && p.group === 10) engine.cancel(j.jobId);
    });
    expect(cancelled).toMatchObject({ status: 'cancelled', committed: 20, total: 64 });
    if (cancelled.status !== 'cancelled') return;
    expect(cancelled.checkpoint.state.committedGroups).toBe(10);
    const partial = await engine.decodeCheckpoint(TINY_BUNDLE, cancelled.checkpoint);
    expect(partial[0]).toMatchObject({ width: 48, height: 48 });

    const events: Array<EngineProgress> = [];
    const resumed = await run(job({ ...settings, checkpoint: cancelled.checkpoint }), (p) => events.push(p));
    expect(events[0]).toMatchObject({ status: 'prefill', fixed: expect.any(Array) });
    expect((events[0] as { fixed: Array<number> }).fixed).toHaveLength(20);
    expect(events.filter((e) => e.status === 'group')[0]).toMatchObject({ group: 11 });
    const a = await rawPixels(resumed.images[0]!.png);
    const b = await rawPixels(full.images[0]!.png);
    expect(a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)).toBeLessThanOrEqual(1);
  });

  it('refuses k larger than the grid, and truncates a 100 kB prompt with a warning', async () => {
    const error = await rejection(run(job({ sampling: { tokensPerStep: 65 } })));
    expect(error).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/larger than the model's 64 tokens/),
    });
    const long = await run(job({ prompt: 'red circle '.repeat(10_000) }));
    expect(long.warnings[0]).toMatch(/longer than the model's limit of 256 tokens/);
    expect(long.prompt.length).toBeLessThan(2000);
  });
});

async function png(
  width: number,
  height: number,
  fill: (x: number, y: number) => [number, number, number],
): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(fill(x, y), 3 * (y * width + x));
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('edit', () => {
  it('keeps the kept tokens bit-equal to the encoded image and regenerates only the masked ones', async () => {
    const source = (await run(job())).images[0]!.png;
    // Left half white: regenerate columns 0–3 of the 8×8 grid; the mask is twice the image size (same shape).
    const mask = await png(96, 96, (x) => (x < 48 ? [255, 255, 255] : [0, 0, 0]));
    const edit = { image: source, regenerate: await maskToCells(mask, { width: 48, height: 48 }, 48, [8, 8], 0.5) };
    const j = await job({ kind: 'edit', prompt: 'a green triangle', edit, seeds: [1], orderSeeds: [2] });
    const cancelled = await engine.run(j, (p) => p.status === 'group' && engine.cancel(j.jobId));
    if (cancelled.status !== 'cancelled') throw new Error('expected a cancel');
    const { plan, state } = cancelled.checkpoint;
    expect(plan.kept).toEqual(Array.from({ length: 64 }, (_, i) => i).filter((i) => i % 8 >= 4));
    expect(plan.orders[0]!.every((cell) => cell % 8 < 4)).toBe(true);

    // The kept latents are exactly the encoder's.
    const model = await engine.model(TINY_BUNDLE);
    const z = await model.graphs.encode!(rgbToTensor(await loadModelImage(source, 48)), 1);
    for (const cell of plan.kept) {
      for (let c = 0; c < 8; c++) expect(state.latents[0]![cell * 8 + c]).toBe(z[c * 64 + cell]);
    }
    const done = await run(job({ kind: 'edit', prompt: 'a green triangle', edit, seeds: [1], orderSeeds: [2] }));
    expect(done.edit).toMatchObject({ keptTokens: 32, regeneratedTokens: 32 });
    expect(done.edit!.unmaskedPsnr).toBeGreaterThan(0);
  });

  it('gives typed errors for bad images and masks', async () => {
    const good = await png(64, 64, () => [10, 20, 30]);
    const edit = async (image: Uint8Array, mask: Uint8Array) =>
      rejection(
        (async () => {
          const regenerate = await maskToCells(mask, await inspectImage(image), 48, [8, 8], 0.5);
          return run(job({ kind: 'edit', edit: { image, regenerate } }));
        })(),
      );
    expect(await edit(Buffer.from('not an image at all'), good)).toMatchObject({ code: 'IMAGE_INVALID' });
    expect(await edit(good.subarray(0, 60), good)).toMatchObject({ code: 'IMAGE_INVALID' });
    expect(await edit(new Uint8Array(0), good)).toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(/empty/),
    });
    expect(await edit(good, await png(64, 32, () => [255, 255, 255]))).toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(/mask is 64×32 but the image is 64×64/),
    });
    expect(await edit(good, await png(64, 64, () => [0, 0, 0]))).toMatchObject({ code: 'INVALID_PAYLOAD' });
    // A 20,000 px image is refused from its header, before any pixel is decoded.
    const huge = Buffer.from(good);
    huge.writeUInt32BE(20_000, 16);
    huge.writeUInt32BE(20_000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    expect(await edit(huge, good)).toMatchObject({
      code: 'IMAGE_INVALID',
      message: expect.stringMatching(/20000×20000/),
    });
  });
});

describe('reconstruction', () => {
  it('reports PSNR, SSIM, per-token errors and a PCA image', async () => {
    const image = await png(100, 60, (x, y) => [x * 2, y * 4, 128]);
    const result = await engine.reconstruct(TINY_BUNDLE, 'tiny', image);
    expect(result.tokens).toEqual([8, 8]);
    expect(result.tokenErrors).toHaveLength(64);
    expect(result.psnr).toBeGreaterThan(0);
    expect(result.ssim).toBeLessThanOrEqual(1);
    expect(result.input).toMatchObject({ width: 48, height: 48 });
    expect(result.pca).toMatchObject({ width: 48, height: 48 });
  });
});

describe('providers', () => {
  const failing =
    (bad: string, when: 'create' | 'run'): SessionFactory =>
    async (file, ep, options) => {
      if (ep === bad && when === 'create') throw new Error(`simulated: ${ep} cannot create a session`);
      const session = await createOrtSession(file, 'cpu', options);
      if (ep !== bad) return session;
      return new Proxy(session, {
        get: (target, key) =>
          key === 'run'
            ? () => Promise.reject(new Error(`simulated: ${ep} failed its first run`))
            : Reflect.get(target, key),
      }) as Session;
    };

  /** Real sessions whose flow-head runs (head_sde, the path the tiny bundle takes) fail when `fails(feeds)` says so. */
  const failingHead =
    (fails: (feeds: Parameters<Session['run']>[0]) => boolean, message: string): SessionFactory =>
    async (file, _ep, options) => {
      const session = await createOrtSession(file, 'cpu', options);
      if (!file.endsWith('head_sde.onnx')) return session;
      return new Proxy(session, {
        get: (target, key) =>
          key === 'run'
            ? (feeds: Parameters<Session['run']>[0]) =>
                fails(feeds) ? Promise.reject(new Error(message)) : target.run(feeds)
            : Reflect.get(target, key),
      }) as Session;
    };

  it.each(['create', 'run'] as const)(
    'falls back to the next provider when one fails to %s, and says why',
    async (when) => {
      const notices: Array<string> = [];
      const e = new Engine({
        providers: ['webgpu', 'cpu'],
        sessionFactory: failing('webgpu', when),
        onFallback: (f) => notices.push(`${f.ep}: ${f.reason}`),
      });
      try {
        const outcome = await run(job(), undefined, e);
        expect(outcome.ep).toBe('cpu');
        expect(notices).toEqual([expect.stringMatching(/^webgpu: .*simulated/)]);
        expect(e.status()).toMatchObject({ ep: 'cpu', fallbacks: [{ ep: 'webgpu' }] });
      } finally {
        await e.dispose();
      }
    },
  );

  it('fails with PROVIDER_FAILED when no provider works, and OUT_OF_MEMORY when memory runs out', async () => {
    const none = new Engine({ providers: ['cpu'], sessionFactory: failing('cpu', 'create') });
    expect(await rejection(run(job(), undefined, none))).toMatchObject({ code: 'PROVIDER_FAILED' });
    let runs = 0;
    const oom = new Engine({
      providers: ['cpu'],
      sessionFactory: failingHead(() => ++runs > 5, 'Failed to allocate memory for requested buffer'),
    });
    try {
      const error = await rejection(run(job(), undefined, oom));
      expect(error).toBeInstanceOf(JobError);
      expect(error).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect((error as JobError).checkpoint?.state.committedGroups).toBeGreaterThan(0);
    } finally {
      await oom.dispose();
    }
  });

  it('makes a batch one image at a time when it does not fit in memory', async () => {
    // head_sde "runs out of memory" above 4 rows of x: two images × 4 tokens.
    const small = new Engine({
      providers: ['cpu'],
      sessionFactory: failingHead((feeds) => (feeds.x?.dims[0] ?? 0) > 4, 'std::bad_alloc'),
    });
    try {
      const batch = await run(job({ seeds: [7, 8], orderSeeds: [11, 12] }), undefined, small);
      const alone = await run(job({ seeds: [8], orderSeeds: [12] }));
      expect(batch.warnings).toEqual([expect.stringMatching(/one at a time/)]);
      expect(batch.images.map((i) => i.seed)).toEqual([7, 8]);
      expect(Buffer.from(batch.images[1]!.png).equals(Buffer.from(alone.images[0]!.png))).toBe(true);
      // Graph time sums both images' runs (each run starts its own count, so the failed batch run is not in it).
      const headRuns = alone.graphTime.head_sde?.runs ?? 0;
      expect(headRuns).toBeGreaterThan(0);
      expect(batch.graphTime.head_sde?.runs).toBe(2 * headRuns);
    } finally {
      await small.dispose();
    }
  });

  it('refuses a bundle with a wrong hash or a missing graph with MODEL_INVALID', async () => {
    const { cp, mkdtemp, rm, unlink, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'vgt-engine-'));
    try {
      await cp(TINY_BUNDLE, dir, { recursive: true });
      const file = path.join(dir, 'latent_in.onnx');
      const bytes = await readFile(file);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
      await writeFile(file, bytes);
      const e = new Engine();
      expect(await rejection(run(job({ bundleDir: dir }), undefined, e))).toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringMatching(/latent_in\.onnx: sha256 mismatch/),
      });
      await unlink(path.join(dir, 'vgtae_decode.onnx'));
      expect(await rejection(run(job({ bundleDir: dir }), undefined, e))).toMatchObject({
        code: 'MODEL_INVALID',
        message: expect.stringMatching(/vgtae_decode\.onnx: file missing/),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
