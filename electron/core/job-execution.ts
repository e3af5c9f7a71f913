// One claimed job, run to its end: the plan it was given (a job adopted from the queue is planned now), on the
// engine, with typed progress; its images recorded in the library (or written to <home>/scratch without history).
// Cancelled or failed jobs keep their committed tokens (a checkpoint) for decode-partial and resume.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GeneratedImage, GenerationProgress, ReplayParams, Timings } from '../common/contract';
import { StudioError, toErrorPayload } from '../common/errors';
import { JobError, type EngineImage, type EngineJob, type EngineOutcome } from '../engine/engine';
import { planForImages, type JobPlan } from '../engine/plan';
import { loadModelImage } from '../platform/image';
import { embedReplayParams, type Library } from '../store/library';
import { finishEdit } from './edit-pixels';
import type { EngineHost } from './engine-host';
import { forkOriginOf } from './fork';
import { cellsOfHex, planReplay, type BundleCache, type BundleInfo, type PlannedEdit } from './job-planner';
import type { Claimed, Run } from './queue-pump';
import type { Services } from './services';
import { encodeTimeline } from './timeline';

export const SCRATCH_DIR = 'scratch';

/** A progress event before its job id is added (distributes over the union). */
export type ProgressOf = GenerationProgress extends infer P ? (P extends unknown ? Omit<P, 'jobId'> : never) : never;

/** What running a job needs of the runner. */
export type JobContext = Readonly<{
  services: Pick<Services, 'home' | 'models'>;
  bundles: BundleCache;
  host: EngineHost;
  library: () => Promise<Library>;
  emit: (jobId: string, progress: ProgressOf) => void;
}>;

type Done = Extract<EngineOutcome, { status: 'done' }>;

export async function executeJob(ctx: JobContext, { run, ids }: Claimed): Promise<void> {
  const library = run.history ? await ctx.library().catch(() => null) : null;
  // The images claimed now: a queued batch the queue split runs in parts.
  const images = run.params.map((_, i) => i).filter((i) => !run.queued || ids.includes(run.libraryIds[i] ?? -1));
  const params = images.flatMap((i) => run.params[i] ?? []);
  const claimedIds = run.queued ? ids : [];
  run.state = 'running';
  const started = performance.now();
  try {
    const plan = run.plan ?? (await planAdopted(ctx, run));
    const seeds = params.map((p) => p.seed);
    const checkpoint = run.checkpoint && run.checkpoint.seeds.join() === seeds.join() ? run.checkpoint : undefined;
    const job: EngineJob = {
      jobId: run.jobId,
      kind: run.kind,
      bundleDir: run.bundleDir,
      modelId: run.modelId,
      plan: planForImages(plan, images),
      seeds,
      orderSeeds: params.map((p) => p.orderSeed),
      previews: run.previews,
      ...(checkpoint ? { checkpoint } : {}),
    };
    const outcome = await ctx.host.exclusive((engine) =>
      engine.run(job, (progress) => {
        if (progress.status === 'group') {
          run.committed = progress.committed;
          const first = claimedIds[0];
          if (library && first !== undefined) {
            void library
              .isCancelRequested(first)
              .then((yes) => yes && ctx.host.cancel(run.jobId))
              .catch(() => undefined);
          }
        }
        ctx.emit(run.jobId, progress);
      }),
    );
    await finishJob(ctx, run, claimedIds, params, library, outcome, started);
  } catch (error) {
    const payload = toErrorPayload(error);
    run.checkpoint = error instanceof JobError ? (error.checkpoint ?? run.checkpoint) : run.checkpoint;
    run.state = 'error';
    for (const id of claimedIds) await library?.markFailed(id, payload.message).catch(() => undefined);
    ctx.emit(run.jobId, { status: 'error', error: payload, resumable: run.checkpoint !== null });
  }
}

/** A job this session did not submit, planned once, when it first runs: its model, edit input and plan. */
async function planAdopted(ctx: JobContext, run: Run): Promise<JobPlan> {
  const model = await ctx.services.models.resolve(run.modelId);
  const bundle = await ctx.bundles.get(model.path);
  run.bundleDir = model.path;
  run.total = bundle.manifest.image.grid.reduce((a, b) => a * b, 1);
  if (run.kind === 'edit') {
    run.edit = run.sourcePath ? await adoptedEdit(run.sourcePath, run.params[0], bundle).catch(() => null) : null;
    if (!run.edit) {
      throw new StudioError('NOT_FOUND', 'The source image or mask of this edit is missing; make the edit again.');
    }
  }
  run.plan = planReplay(bundle, run.params, run.edit);
  return run.plan;
}

async function adoptedEdit(file: string, p: ReplayParams | undefined, bundle: BundleInfo): Promise<PlannedEdit | null> {
  const hex = p?.extra?.regenerate;
  if (typeof hex !== 'string') return null;
  const source = await readFile(file);
  const { grid, size } = bundle.manifest.image;
  const { sourceId, keepPixels, editContext } = p?.extra ?? {};
  return {
    source,
    pixels: await loadModelImage(source, size),
    regenerate: cellsOfHex(hex, grid[0] * grid[1]),
    keepPixels: keepPixels !== false,
    // A record without it was made with every kept token as context, whatever the model's default is now.
    editContext: editContext === 'none' ? 'none' : 'all',
    sourceId: typeof sourceId === 'number' ? sourceId : null,
  };
}

async function finishJob(
  ctx: JobContext,
  run: Run,
  ids: ReadonlyArray<number>,
  params: ReadonlyArray<ReplayParams>,
  library: Library | null,
  outcome: EngineOutcome,
  started: number,
): Promise<void> {
  if (outcome.status === 'cancelled') {
    run.checkpoint = outcome.checkpoint;
    run.committed = outcome.committed;
    run.state = 'cancelled';
    for (const id of ids) await library?.markCancelled(id).catch(() => undefined);
    ctx.emit(run.jobId, {
      status: 'cancelled',
      committed: outcome.committed,
      total: outcome.total,
      resumable: outcome.committed > 0,
    });
    return;
  }
  const timings = {
    totalMs: performance.now() - started,
    engineMs: outcome.seconds * 1000,
    ...(outcome.firstPreviewMs !== null ? { firstPreviewMs: outcome.firstPreviewMs } : {}),
    ...(outcome.firstDecodedPreviewMs !== null ? { firstDecodedPreviewMs: outcome.firstDecodedPreviewMs } : {}),
  };
  const edited = run.edit
    ? await finishEdit(outcome.images, run.edit, (await ctx.bundles.get(run.bundleDir)).manifest.image.grid)
    : null;
  const images: Array<GeneratedImage> = [];
  for (const [i, image] of (edited?.images ?? outcome.images).entries()) {
    const queued = params[i];
    if (!queued) throw new StudioError('INTERNAL', 'The engine returned more images than the job asked for.');
    // The provider is known only now: the engine picks it (with fallbacks) when it loads the model.
    const p: ReplayParams = { ...queued, provider: outcome.ep };
    images.push(await keepImage(ctx, run, { index: i, id: ids[i], params: p, image, library, outcome, timings }));
  }
  run.state = 'done';
  run.committed = run.total;
  run.checkpoint = null;
  ctx.emit(run.jobId, {
    status: 'done',
    images,
    model: run.modelId,
    ep: outcome.ep,
    seconds: outcome.seconds,
    firstPreviewMs: outcome.firstPreviewMs,
    firstDecodedPreviewMs: outcome.firstDecodedPreviewMs,
    warnings: [...outcome.warnings],
    ...(edited
      ? { edit: { ...edited.summary, ...(run.plan?.editContext ? { editContext: run.plan.editContext } : {}) } }
      : outcome.edit
        ? { edit: outcome.edit }
        : {}),
  });
}

/** One finished image: recorded in the library (with its timeline), or written to the scratch folder. */
async function keepImage(
  ctx: JobContext,
  run: Run,
  done: Readonly<{
    index: number;
    id: number | undefined;
    params: ReplayParams;
    image: EngineImage;
    library: Library | null;
    outcome: Done;
    timings: Timings;
  }>,
): Promise<GeneratedImage> {
  const { id, params: p, image, library, outcome, timings } = done;
  const recorded =
    library && id !== undefined
      ? await library.markDone(id, image.png, timings, outcome.ep)
      : library && run.history
        ? await library.recordGeneration(p, image.png, {
            timings,
            ...(run.edit ? { source: run.edit.source } : {}),
          })
        : null;
  if (recorded && library && image.timeline) {
    // The timeline is a bonus: an image whose timeline could not be kept is still recorded.
    const origin = forkOriginOf(p);
    const lineage = origin?.parentId ? { parentId: origin.parentId, forkGroup: origin.group } : null;
    await library
      .saveTimeline(recorded.id, encodeTimeline(image.timeline), image.timeline.groups.length, lineage)
      .catch(() => undefined);
  }
  if (recorded) {
    const { width, height, path: file, file: libraryFile } = recorded;
    return { id: recorded.id, file, libraryFile, seed: p.seed, orderSeed: p.orderSeed, width, height };
  }
  const dir = path.join(ctx.services.home, SCRATCH_DIR);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${run.jobId}-${done.index + 1}.png`);
  await writeFile(file, embedReplayParams(image.png, p));
  return { id: null, file, seed: p.seed, orderSeed: p.orderSeed, width: image.width, height: image.height };
}
