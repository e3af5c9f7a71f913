// The engine: loads a bundle on the best provider that works (falling back with a reason; loader.ts), and runs jobs on
// it: generation and edits (with previews, cancel and resumable checkpoints), reconstruction, and partial decodes.
// It is transport-free; engine/engine-worker.ts runs it off the host's event loop.
import type {
  EditSummary,
  GenerationProgress,
  InlinePng,
  ProviderId,
  ReconstructResult,
  ResolvedSampling,
  Sampling,
} from '../common/contract';
import type { JobPlan } from './plan';
import { StudioError, toErrorPayload, type ErrorPayload } from '../common/errors';
import { validateBundle, type BundleManifest } from './bundle';
import type { GraphTime, SessionFactory } from './graphs';
import { rgbToTensor, tensorToRgb, type Rgb } from '../platform/image';
import { loadOnBestProvider } from './loader';
import { oneAtATime } from './one-at-a-time';
import type { LoadedModel } from './model';
import { editSummary, finishedImages, toInlinePng } from './outputs';
import { GroupPreviews } from './previews';
import type { Fallback } from './providers';
import { reconstructImage } from './reconstruct';
import { continuePlan, sameSampling, samePlanText, switchedNoise } from './fork';
import type { TimelineData } from './fork';
import { DecodeCost, DEFAULT_PACER, PreviewPacer } from './preview-pacer';
import {
  gridToLatents,
  groupSizes,
  initialState,
  latentsToGrid,
  sample,
  seededNoise,
  type SamplePlan,
  type SampleState,
} from './sampler';

/** Everything a resume needs: the plan (orders, kept and fed cells, text) and what was committed. */
export type Checkpoint = Readonly<{
  plan: SamplePlan;
  state: SampleState;
  seeds: ReadonlyArray<number>;
  orderSeeds: ReadonlyArray<number>;
  /** The prompt as the model saw it (trimmed, maybe truncated). */
  prompt: string;
  warnings: ReadonlyArray<string>;
  /** An edit's input pixels and kept cells, for the unmasked PSNR at the end. */
  edit: Readonly<{ source: Rgb; kept: number }> | null;
  /** A fork: groups before `group` draw their noise from the parent's seeds (`before`). */
  noise?: Readonly<{ before: ReadonlyArray<number>; group: number }>;
  /** A fork with other tokens per step: the parent's group sizes over its committed (now kept) cells. */
  prefixGroups?: ReadonlyArray<number>;
}>;

export type EngineJob = Readonly<{
  jobId: string;
  kind: 'generate' | 'edit';
  bundleDir: string;
  modelId: string;
  /** Made by the host (engine/plan.ts), one order per seed; the engine runs it as it is. */
  plan: JobPlan;
  seeds: ReadonlyArray<number>;
  orderSeeds: ReadonlyArray<number>;
  previews: boolean;
  /** Continue a cancelled or failed job. */
  checkpoint?: Checkpoint;
}>;

type WithoutJob<T> = T extends unknown ? Omit<T, 'jobId'> : never;
/** The engine's share of a job's progress (the runner adds queued, done, error and cancelled). */
export type EngineProgress = WithoutJob<Extract<GenerationProgress, { status: 'prefill' | 'group' | 'decode' }>>;

export type EngineImage = Readonly<{
  png: Uint8Array;
  seed: number;
  orderSeed: number;
  width: number;
  height: number;
  timeline?: TimelineData;
}>;

export type EngineOutcome =
  | Readonly<{
      status: 'done';
      images: ReadonlyArray<EngineImage>;
      ep: ProviderId;
      sampling: ResolvedSampling;
      prompt: string;
      seconds: number;
      /** The first preview of any kind, and the first decoded one (instant previews come first when the bundle has them). */
      firstPreviewMs: number | null;
      firstDecodedPreviewMs: number | null;
      /** Time in each graph during this job (previews included), for the benchmark's breakdown. */
      graphTime: GraphTime;
      warnings: ReadonlyArray<string>;
      edit: EditSummary | null;
    }>
  | Readonly<{ status: 'cancelled'; checkpoint: Checkpoint; committed: number; total: number }>;

/** A failed job: its typed error, and what it had committed (resumable when it has groups). */
export class JobError extends StudioError {
  readonly checkpoint: Checkpoint | null;

  constructor(payload: ErrorPayload, checkpoint: Checkpoint | null) {
    super(payload.code, payload.message);
    this.name = 'JobError';
    this.checkpoint = checkpoint;
  }
}

export type EngineOptions = Readonly<{
  /** VGT_EP. */
  preference?: string;
  /** The providers to try, in order, instead of the available ones of `preference` (tests, benchmarks). */
  providers?: ReadonlyArray<ProviderId>;
  /** Threads per graph run (0: onnxruntime's default). */
  threads?: number;
  /** Remembers verified bundle hashes across runs. */
  hashCacheFile?: string;
  /** The share of the sampling time decoded previews may take (default 0.2; 0: instant previews only). */
  previewBudget?: number;
  /** The fewest groups between two decoded previews (default 3). */
  previewMinGroups?: number;
  sessionFactory?: SessionFactory;
  /** A provider was skipped (session creation or its first run failed). */
  onFallback?: (fallback: Fallback) => void;
}>;

export type EngineStatusInfo = Readonly<{
  ep: ProviderId | null;
  model: Readonly<{ dir: string; id: string; name: string }> | null;
  fallbacks: ReadonlyArray<Fallback>;
}>;

/** Request settings over the bundle's defaults; k must fit the grid. */
export function resolveSampling(manifest: BundleManifest, sampling: Sampling): ResolvedSampling {
  const d = manifest.sampling;
  const [h, w] = manifest.image.grid;
  const resolved: ResolvedSampling = {
    tokensPerStep: sampling.tokensPerStep ?? d.tokensPerStep,
    steps: sampling.steps ?? d.steps,
    cfg: sampling.cfg ?? d.cfg,
    cfgSchedule: sampling.cfgSchedule ?? d.cfgSchedule,
    order: sampling.order ?? d.order,
  };
  if (resolved.tokensPerStep > h * w) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `tokensPerStep ${resolved.tokensPerStep} is larger than the model's ${h * w} tokens (a ${h}×${w} grid); use 1 to ${h * w}.`,
    );
  }
  return resolved;
}

/** The first report of a job: what it makes, on which provider, and the cells already known (an edit's, a resume's). */
function prefillProgress(job: EngineJob, model: LoadedModel, checkpoint: Checkpoint, groups: number): EngineProgress {
  const { grid, size } = model.bundle.manifest.image;
  const { plan, state } = checkpoint;
  return {
    status: 'prefill',
    kind: job.kind,
    model: job.modelId,
    ep: model.graphs.ep,
    grid,
    width: size,
    height: size,
    count: plan.orders.length,
    groups,
    sampling: plan.sampling,
    fixed: Array.from(state.known.keys()).filter((cell) => state.known[cell] === 1),
    warnings: [...checkpoint.warnings],
  };
}

export class Engine {
  readonly #options: EngineOptions;
  #loaded: Readonly<{ dir: string; model: LoadedModel }> | null = null;
  #loading: Promise<LoadedModel> | null = null;
  readonly #fallbacks: Array<Fallback> = [];
  readonly #cancelled = new Set<string>();
  /** The loaded model's decoder time per image (measured at warm-up, then on every decode). */
  #decodeCost = new DecodeCost();

  constructor(options: EngineOptions = {}) {
    this.#options = options;
  }

  status(): EngineStatusInfo {
    const loaded = this.#loaded;
    return {
      ep: loaded?.model.graphs.ep ?? null,
      model: loaded
        ? { dir: loaded.dir, id: loaded.model.bundle.manifest.id, name: loaded.model.bundle.manifest.name }
        : null,
      fallbacks: [...this.#fallbacks],
    };
  }

  /** The model of a bundle folder: validated (hashes once), sessions created once, the previous model released. */
  async model(bundleDir: string): Promise<LoadedModel> {
    if (this.#loaded?.dir === bundleDir) return this.#loaded.model;
    // One load at a time; a second caller for the same folder shares it.
    while (this.#loading) await this.#loading.catch(() => undefined);
    if (this.#loaded?.dir === bundleDir) return this.#loaded.model;
    this.#loading = this.#load(bundleDir);
    try {
      return await this.#loading;
    } finally {
      this.#loading = null;
    }
  }

  async #load(bundleDir: string): Promise<LoadedModel> {
    const bundle = await validateBundle(bundleDir, { hashes: 'verify', cacheFile: this.#options.hashCacheFile });
    const previous = this.#loaded;
    this.#loaded = null;
    await previous?.model.graphs.release();
    const { model, decodeCost } = await loadOnBestProvider(bundle, this.#options, this.#fallbacks);
    this.#decodeCost = decodeCost;
    this.#loaded = { dir: bundleDir, model };
    return model;
  }

  cancel(jobId: string): void {
    this.#cancelled.add(jobId);
  }

  async run(job: EngineJob, onProgress: (progress: EngineProgress) => void): Promise<EngineOutcome> {
    this.#cancelled.delete(job.jobId);
    const model = await this.model(job.bundleDir);
    const started = performance.now();
    const { grid } = model.bundle.manifest.image;
    const total = grid[0] * grid[1];
    const checkpoint =
      job.checkpoint ??
      (job.plan.fork ? await this.#forkStart(model, job, job.plan.fork) : await this.#start(model, job));
    const { plan, state } = checkpoint;
    const groups = groupSizes(plan.orders[0]?.length ?? 0, plan.sampling.tokensPerStep).length;
    onProgress(prefillProgress(job, model, checkpoint, groups));

    model.graphs.takeGraphTime();
    const previews = new GroupPreviews({
      enabled: job.previews,
      pacer: new PreviewPacer(
        {
          budget: this.#options.previewBudget ?? DEFAULT_PACER.budget,
          minGroups: this.#options.previewMinGroups ?? DEFAULT_PACER.minGroups,
        },
        this.#decodeCost,
        plan.orders.length,
      ),
      latentRgb: model.bundle.manifest.preview?.latentRgb ?? null,
      dZ: model.tables.dZ,
      grid,
      started,
      decode: (latents) => this.#decode(model, latents),
    });
    try {
      await this.#sample(job, model, checkpoint, previews, onProgress, started);
    } catch (error) {
      const payload = toErrorPayload(error);
      const committed = state.known.reduce((a, b) => a + b, 0);
      if (payload.code === 'CANCELLED') return { status: 'cancelled', checkpoint, committed, total };
      if (payload.code !== 'OUT_OF_MEMORY' || plan.orders.length === 1) throw new JobError(payload, checkpoint);
    } finally {
      this.#cancelled.delete(job.jobId);
    }
    // The batch did not fit: the same images one at a time, each from what the batch had committed.
    if (state.committedGroups < groups)
      return oneAtATime(job, checkpoint, onProgress, (one, report) => this.run(one, report));

    onProgress({ status: 'decode' });
    return this.#finish(model, checkpoint, previews, started);
  }

  /** Samples the job's remaining groups, reporting each one with its previews. */
  async #sample(
    job: EngineJob,
    model: LoadedModel,
    checkpoint: Checkpoint,
    previews: GroupPreviews,
    onProgress: (progress: EngineProgress) => void,
    started: number,
  ): Promise<void> {
    const { plan, state } = checkpoint;
    const { grid } = model.bundle.manifest.image;
    const total = grid[0] * grid[1];
    const noise = checkpoint.noise
      ? switchedNoise(checkpoint.noise.before, checkpoint.seeds, checkpoint.noise.group)
      : seededNoise(checkpoint.seeds);
    await sample(model.graphs, model.tables, plan, state, noise, {
      shouldStop: () => this.#cancelled.has(job.jobId),
      onGroup: async (report) => {
        const shown = await previews.after(report, state.latents);
        onProgress({
          status: 'group',
          group: report.group + 1,
          groups: report.groups,
          positions: Array.from(report.cells[0] ?? []),
          // Each image has its own order seed, so its own cells.
          ...(report.cells.length > 1 ? { imagePositions: report.cells.map((cells) => Array.from(cells)) } : {}),
          committed: state.known.reduce((a, b) => a + b, 0),
          total,
          elapsedMs: performance.now() - started,
          ...(shown ?? {}),
        });
        previews.nextGroup();
      },
    });
  }

  /** The sampled job's images decoded, with its times and, for an edit, how well the kept pixels held. */
  async #finish(
    model: LoadedModel,
    checkpoint: Checkpoint,
    previews: GroupPreviews,
    started: number,
  ): Promise<EngineOutcome> {
    const { graphs, tables } = model;
    const { grid, size } = model.bundle.manifest.image;
    const rgbs = await this.#decodeRgb(model, checkpoint.state.latents).catch((error: unknown) => {
      throw new JobError(toErrorPayload(error), checkpoint);
    });
    const images = await finishedImages(checkpoint, rgbs, tables.dZ);
    const edit = editSummary(checkpoint, rgbs, grid, size);
    return {
      status: 'done',
      images,
      ep: graphs.ep,
      sampling: checkpoint.plan.sampling,
      prompt: checkpoint.prompt,
      seconds: (performance.now() - started) / 1000,
      firstPreviewMs: previews.firstPreviewMs,
      firstDecodedPreviewMs: previews.firstDecodedPreviewMs,
      graphTime: graphs.takeGraphTime(),
      warnings: checkpoint.warnings,
      edit,
    };
  }

  /** A fresh job's first state from its plan: for an edit, the source encoded and its kept cells known (fed or not). */
  async #start(model: LoadedModel, job: EngineJob): Promise<Checkpoint> {
    const { tables, graphs } = model;
    const { grid } = model.bundle.manifest.image;
    const cells = grid[0] * grid[1];
    const { sampling, cond, uncond, kept, fed, orders, source } = job.plan;
    const state = initialState(job.seeds.length, cells, tables.dZ);
    let edit: Checkpoint['edit'] = null;
    if (source) {
      if (!graphs.encode) {
        throw new StudioError(
          'MODEL_INVALID',
          'This model has no image encoder (vgtae_encode): it cannot edit images.',
        );
      }
      const [latents] = gridToLatents(await graphs.encode(rgbToTensor(source), 1), 1, tables.dZ, cells) as [
        Float32Array,
      ];
      for (const lat of state.latents) lat.set(latents);
      // Every kept cell is known (decoded from the source), whether or not the model is fed it.
      for (const cell of kept) state.known[cell] = 1;
      // Unknown cells (every order holds them all) start neutral (zero), exactly as a fresh generation.
      for (const lat of state.latents)
        for (const cell of orders[0] ?? []) lat.fill(0, cell * tables.dZ, (cell + 1) * tables.dZ);
      edit = { source, kept: kept.length };
    }
    return {
      plan: { sampling, cond, uncond, kept, fed, orders },
      state,
      seeds: job.seeds,
      orderSeeds: job.orderSeeds,
      prompt: job.plan.prompt,
      warnings: job.plan.warnings,
      edit,
    };
  }

  /** A fork's checkpoint: the parent's run with the noise switched at `group`, or the parent replayed to it. */
  async #forkStart(model: LoadedModel, job: EngineJob, fork: NonNullable<JobPlan['fork']>): Promise<Checkpoint> {
    const { group } = fork;
    const orderSeeds = [fork.orderSeed];
    const parentPlan = { ...fork.parent, source: null, editContext: null, fork: null };
    const base = await this.#start(model, { ...job, plan: parentPlan, seeds: [fork.seed], orderSeeds });
    const mine = await this.#start(model, { ...job, orderSeeds });
    if (samePlanText(base.plan, mine.plan) && sameSampling(base.plan.sampling, mine.plan.sampling)) {
      return { ...base, seeds: job.seeds, noise: { before: [fork.seed], group } };
    }
    const { state } = base;
    await sample(model.graphs, model.tables, base.plan, state, seededNoise([fork.seed]), {
      shouldStop: () => state.committedGroups >= group || this.#cancelled.has(job.jobId),
    }).catch((error: unknown) => {
      if (!(error instanceof StudioError && error.code === 'CANCELLED')) throw error;
    });
    if (this.#cancelled.has(job.jobId)) throw new StudioError('CANCELLED');
    const next = continuePlan(base.plan, state, mine.plan, group);
    return { ...mine, plan: next.plan, state: next.state, prefixGroups: next.prefixGroups };
  }

  async #decodeRgb(model: LoadedModel, latents: ReadonlyArray<Float32Array>): Promise<Array<Rgb>> {
    const { grid, size } = model.bundle.manifest.image;
    const cells = grid[0] * grid[1];
    const started = performance.now();
    const image = await model.graphs.decode(latentsToGrid(latents, model.tables.dZ, cells), latents.length, grid);
    // Every decode (previews, results, decode-as-is) refines the estimate that paces the previews.
    if (this.#loaded?.model === model) this.#decodeCost.record(performance.now() - started, latents.length);
    return latents.map((_, b) => tensorToRgb(image, size, size, b * 3 * size * size));
  }

  async #decode(model: LoadedModel, latents: ReadonlyArray<Float32Array>): Promise<Array<InlinePng>> {
    return Promise.all((await this.#decodeRgb(model, latents)).map(toInlinePng));
  }

  /** Decodes a checkpoint's committed tokens as they are (unfilled tokens neutral). */
  async decodeCheckpoint(bundleDir: string, checkpoint: Checkpoint): Promise<Array<InlinePng>> {
    return this.#decode(await this.model(bundleDir), checkpoint.state.latents);
  }

  async reconstruct(bundleDir: string, modelId: string, imageBytes: Uint8Array): Promise<ReconstructResult> {
    return reconstructImage(await this.model(bundleDir), modelId, imageBytes);
  }

  async dispose(): Promise<void> {
    const loaded = this.#loaded;
    this.#loaded = null;
    await loaded?.model.graphs.release();
  }
}
