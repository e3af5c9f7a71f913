// The engine: loads a bundle on the best provider that works (falling back with a reason), and runs jobs on it:
// generation and edits (with previews, cancel and resumable checkpoints), reconstruction, and partial decodes.
// It is transport-free; engine/worker.ts runs it off the host's event loop.
import type {
  EditSummary,
  GenerationProgress,
  InlinePng,
  ProviderId,
  ReconstructResult,
  ResolvedSampling,
  Sampling,
} from '../common/contract';
import { StudioError, toErrorPayload, type ErrorPayload } from '../common/errors';
import { validateBundle, type BundleManifest } from './bundle';
import { createOrtSession, sumGraphTime, type GraphTime, type SessionFactory } from './graphs';
import {
  encodePng,
  encodeScaledPng,
  latentRgbPreview,
  loadModelImage,
  rgbToTensor,
  tensorToRgb,
  type Rgb,
} from './image';
import { latentPca, psnr, ssim, tokenErrors } from './metrics';
import { loadModel, type LoadedModel } from './model';
import { providerCandidates, withFallback, type Fallback } from './providers';
import { checkForkGroup, continuePlan, sameSampling, samePlanText, switchedNoise, timelineOf } from './fork';
import type { ForkSpec, TimelineData } from './fork';
import { DecodeCost, DEFAULT_PACER, PreviewPacer } from './preview-pacer';
import { shuffled } from './rng';
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

/** Everything a resume needs: the plan (orders, fixed cells, text) and what was committed. */
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
  /** A fork with other tokens per step: the parent's group sizes over its kept (now fixed) cells. */
  prefixGroups?: ReadonlyArray<number>;
}>;

/** An edit: the image (any size; the engine resizes it) and, per grid cell, 1 where the token is regenerated. */
export type EditInput = Readonly<{ image: Uint8Array; regenerate: Uint8Array }>;

export type EngineJob = Readonly<{
  jobId: string;
  kind: 'generate' | 'edit';
  bundleDir: string;
  modelId: string;
  prompt: string;
  /** The text CFG's unconditional row takes instead of the bundle's unconditional prompt (blank: the bundle's). */
  negativePrompt?: string | null;
  sampling: Sampling;
  seeds: ReadonlyArray<number>;
  orderSeeds: ReadonlyArray<number>;
  previews: boolean;
  edit?: EditInput;
  /** Continue a cancelled or failed job. */
  checkpoint?: Checkpoint;
  /** Keep another job's first groups (engine/fork.ts). */
  fork?: ForkSpec;
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

/** Instant (latent → RGB) previews cost ~1 ms; more than ~30 per second would only load the UI. */
const INSTANT_PREVIEW_INTERVAL_MS = 33;

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

async function toInlinePng(rgb: Rgb): Promise<InlinePng> {
  return { png: Buffer.from(await encodePng(rgb)).toString('base64'), width: rgb.width, height: rgb.height };
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
    const candidates = this.#options.providers ?? (await providerCandidates(this.#options.preference));
    const { value } = await withFallback(
      candidates,
      async (ep) => {
        const model = await loadModel(
          bundle,
          ep,
          { threads: this.#options.threads },
          this.#options.sessionFactory ?? createOrtSession,
        );
        try {
          const cost = new DecodeCost();
          cost.record(await warmUp(model), 1);
          this.#decodeCost = cost;
        } catch (error) {
          await model.graphs.release();
          throw error;
        }
        return model;
      },
      (fallback) => {
        this.#fallbacks.push(fallback);
        this.#options.onFallback?.(fallback);
      },
    ).catch((error: unknown) => {
      if (error instanceof StudioError && error.code === 'MODEL_INVALID') throw error;
      const tried = this.#fallbacks.map((f) => `${f.ep}: ${f.reason}`).join('; ');
      throw new StudioError('PROVIDER_FAILED', `No execution provider could run this model (${tried}).`, {
        cause: error,
      });
    });
    this.#loaded = { dir: bundleDir, model: value };
    return value;
  }

  cancel(jobId: string): void {
    this.#cancelled.add(jobId);
  }

  async run(job: EngineJob, onProgress: (progress: EngineProgress) => void): Promise<EngineOutcome> {
    this.#cancelled.delete(job.jobId);
    const model = await this.model(job.bundleDir);
    const started = performance.now();
    const { bundle, graphs, tables } = model;
    const { grid, size } = bundle.manifest.image;
    const cells = grid[0] * grid[1];
    const checkpoint =
      job.checkpoint ?? (job.fork ? await this.#forkPlan(model, job, job.fork) : await this.#plan(model, job));
    const { plan, state } = checkpoint;
    const B = plan.orders.length;
    const total = cells;
    const groups = groupSizes(plan.orders[0]?.length ?? 0, plan.sampling.tokensPerStep).length;
    const fixed = Array.from(state.known.keys()).filter((cell) => state.known[cell] === 1);
    onProgress({
      status: 'prefill',
      kind: job.kind,
      model: job.modelId,
      ep: graphs.ep,
      grid,
      width: size,
      height: size,
      count: B,
      groups,
      sampling: plan.sampling,
      fixed,
      warnings: [...checkpoint.warnings],
    });

    let firstPreviewMs: number | null = null;
    let firstDecodedPreviewMs: number | null = null;
    graphs.takeGraphTime();
    const latentRgb = bundle.manifest.preview?.latentRgb ?? null;
    let lastInstantAt = -Infinity;
    const pacer = new PreviewPacer(
      {
        budget: this.#options.previewBudget ?? DEFAULT_PACER.budget,
        minGroups: this.#options.previewMinGroups ?? DEFAULT_PACER.minGroups,
      },
      this.#decodeCost,
      B,
    );
    // Sampling time of each group: from the end of the previous group's previews (or the start) to its report.
    let groupStart = performance.now();
    try {
      const noise = checkpoint.noise
        ? switchedNoise(checkpoint.noise.before, checkpoint.seeds, checkpoint.noise.group)
        : seededNoise(checkpoint.seeds);
      await sample(graphs, tables, plan, state, noise, {
        shouldStop: () => this.#cancelled.has(job.jobId),
        onGroup: async (report) => {
          const now = performance.now();
          pacer.group(now - groupStart);
          const last = report.group + 1 === report.groups;
          let previews: Array<InlinePng> | undefined;
          let previewKind: 'decoded' | 'approximate' | undefined;
          if (job.previews && !last) {
            if (pacer.due()) {
              // The same decode as "decode as is" after a cancel: committed latents, the others left at zero.
              previews = await this.#decode(model, state.latents);
              previewKind = 'decoded';
              pacer.decoded();
              firstDecodedPreviewMs ??= performance.now() - started;
              firstPreviewMs ??= firstDecodedPreviewMs;
            } else if (latentRgb && now - lastInstantAt >= INSTANT_PREVIEW_INTERVAL_MS) {
              const rgbs = state.latents.map((latents) => latentRgbPreview(latents, tables.dZ, grid, latentRgb));
              previews = await Promise.all(rgbs.map(toInlinePng));
              previewKind = 'approximate';
              lastInstantAt = performance.now();
              firstPreviewMs ??= lastInstantAt - started;
            }
          }
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
            ...(previews ? { previews, previewKind } : {}),
          });
          groupStart = performance.now();
        },
      });
    } catch (error) {
      const payload = toErrorPayload(error);
      const committed = state.known.reduce((a, b) => a + b, 0);
      if (payload.code === 'CANCELLED') return { status: 'cancelled', checkpoint, committed, total };
      if (payload.code !== 'OUT_OF_MEMORY' || B === 1) throw new JobError(payload, checkpoint);
    } finally {
      this.#cancelled.delete(job.jobId);
    }
    // The batch did not fit: the same images one at a time, each from what the batch had committed.
    if (state.committedGroups < groups) return this.#oneByOne(job, checkpoint, onProgress);

    onProgress({ status: 'decode' });
    const rgbs = await this.#decodeRgb(model, state.latents).catch((error: unknown) => {
      throw new JobError(toErrorPayload(error), checkpoint);
    });
    const images = await Promise.all(
      rgbs.map(async (rgb, b) => ({
        png: await encodePng(rgb),
        seed: checkpoint.seeds[b] ?? 0,
        orderSeed: checkpoint.orderSeeds[b] ?? 0,
        width: rgb.width,
        height: rgb.height,
        timeline: timelineOf(plan, state.latents[b] ?? new Float32Array(0), b, tables.dZ, checkpoint.prefixGroups),
      })),
    );
    let edit: EditSummary | null = null;
    if (checkpoint.edit) {
      const [h, w] = grid;
      const stride = size / w;
      const kept = new Set(plan.fixed);
      const keptPixel = (pixel: number): boolean =>
        kept.has(Math.floor(Math.floor(pixel / size) / stride) * w + Math.floor((pixel % size) / stride));
      edit = {
        keptTokens: checkpoint.edit.kept,
        regeneratedTokens: h * w - checkpoint.edit.kept,
        unmaskedPsnr: psnr(images0(rgbs), checkpoint.edit.source, keptPixel),
      };
    }
    return {
      status: 'done',
      images,
      ep: graphs.ep,
      sampling: plan.sampling,
      prompt: checkpoint.prompt,
      seconds: (performance.now() - started) / 1000,
      firstPreviewMs,
      firstDecodedPreviewMs,
      graphTime: graphs.takeGraphTime(),
      warnings: checkpoint.warnings,
      edit,
    };
  }

  async #oneByOne(
    job: EngineJob,
    checkpoint: Checkpoint,
    onProgress: (progress: EngineProgress) => void,
  ): Promise<EngineOutcome> {
    const { plan, state } = checkpoint;
    const warning = `The ${plan.orders.length} images did not fit in memory together, so they were made one at a time.`;
    const outcomes: Array<Extract<EngineOutcome, { status: 'done' }>> = [];
    for (let b = 0; b < plan.orders.length; b++) {
      const single: Checkpoint = {
        ...checkpoint,
        plan: { ...plan, orders: [plan.orders[b] ?? new Int32Array(0)] },
        state: {
          committedGroups: state.committedGroups,
          latents: state.latents.slice(b, b + 1),
          known: state.known.slice(),
        },
        seeds: checkpoint.seeds.slice(b, b + 1),
        orderSeeds: checkpoint.orderSeeds.slice(b, b + 1),
      };
      const outcome = await this.run(
        { ...job, seeds: single.seeds, orderSeeds: single.orderSeeds, checkpoint: single },
        onProgress,
      );
      if (outcome.status === 'cancelled') return outcome;
      outcomes.push(outcome);
    }
    const [first] = outcomes;
    if (!first) throw new StudioError('INTERNAL', 'No image was generated.');
    return {
      ...first,
      images: outcomes.flatMap((o) => o.images),
      seconds: outcomes.reduce((sum, o) => sum + o.seconds, 0),
      graphTime: sumGraphTime(outcomes.map((o) => o.graphTime)),
      warnings: [...first.warnings, warning],
    };
  }

  /** A fresh job's plan: text ids, per-image orders, and for an edit the encoded image and the kept cells. */
  async #plan(model: LoadedModel, job: EngineJob): Promise<Checkpoint> {
    const { bundle, tables, prompts, graphs } = model;
    const sampling = resolveSampling(bundle.manifest, job.sampling);
    const { grid, size } = bundle.manifest.image;
    const cells = grid[0] * grid[1];
    const encoded = prompts.encode(job.prompt, job.negativePrompt);
    const warnings = encoded.warning ? [encoded.warning] : [];
    const B = job.seeds.length;
    const state = initialState(B, cells, tables.dZ);
    let generate = Array.from({ length: cells }, (_, i) => i);
    let fixed: Array<number> = [];
    let edit: Checkpoint['edit'] = null;
    if (job.edit) {
      if (!graphs.encode) {
        throw new StudioError(
          'MODEL_INVALID',
          'This model has no image encoder (vgtae_encode): it cannot edit images.',
        );
      }
      const source = await loadModelImage(job.edit.image, size);
      const masked = job.edit.regenerate;
      if (masked.length !== cells) {
        throw new StudioError(
          'INVALID_PAYLOAD',
          `An edit needs one mask value per token (${cells}), got ${masked.length}.`,
        );
      }
      generate = generate.filter((cell) => masked[cell] === 1);
      fixed = Array.from({ length: cells }, (_, i) => i).filter((cell) => masked[cell] !== 1);
      if (generate.length === 0) {
        throw new StudioError('INVALID_PAYLOAD', 'The mask marks no token for regeneration.');
      }
      if (sampling.tokensPerStep > generate.length) {
        throw new StudioError(
          'INVALID_PAYLOAD',
          `tokensPerStep ${sampling.tokensPerStep} is larger than the ${generate.length} masked tokens; use 1 to ${generate.length}.`,
        );
      }
      const [latents] = gridToLatents(await graphs.encode(rgbToTensor(source), 1), 1, tables.dZ, cells) as [
        Float32Array,
      ];
      for (const lat of state.latents) lat.set(latents);
      for (const cell of fixed) state.known[cell] = 1;
      // Unknown cells start neutral (zero), exactly as a fresh generation.
      for (const lat of state.latents)
        for (const cell of generate) lat.fill(0, cell * tables.dZ, (cell + 1) * tables.dZ);
      edit = { source, kept: fixed.length };
    }
    const orders = job.orderSeeds.map((orderSeed) =>
      sampling.order === 'raster' ? Int32Array.from(generate) : shuffled(generate, orderSeed),
    );
    return {
      plan: { sampling, cond: encoded.cond, uncond: encoded.uncond, fixed, orders },
      state,
      seeds: job.seeds,
      orderSeeds: job.orderSeeds,
      prompt: encoded.prompt,
      warnings,
      edit,
    };
  }

  /** A fork's checkpoint: the parent's run with the noise switched at `group`, or the parent replayed to it. */
  async #forkPlan(model: LoadedModel, job: EngineJob, fork: ForkSpec): Promise<Checkpoint> {
    const { parent, group } = fork;
    if (job.seeds.length !== 1) throw new StudioError('INVALID_PAYLOAD', 'A fork makes one image.');
    const parentJob = { ...job, prompt: parent.prompt, sampling: parent.sampling, seeds: [parent.seed] };
    const base = await this.#plan(model, { ...parentJob, orderSeeds: [parent.orderSeed] });
    const mine = await this.#plan(model, { ...job, orderSeeds: [parent.orderSeed] });
    checkForkGroup(base.plan, group);
    if (samePlanText(base.plan, mine.plan) && sameSampling(base.plan.sampling, mine.plan.sampling)) {
      return { ...base, seeds: job.seeds, noise: { before: [parent.seed], group } };
    }
    const { state } = base;
    await sample(model.graphs, model.tables, base.plan, state, seededNoise([parent.seed]), {
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
    const model = await this.model(bundleDir);
    const { graphs, tables, bundle } = model;
    if (!graphs.encode) {
      throw new StudioError(
        'MODEL_INVALID',
        'This model has no image encoder (vgtae_encode): it cannot reconstruct images.',
      );
    }
    const started = performance.now();
    const { grid, size } = bundle.manifest.image;
    const cells = grid[0] * grid[1];
    const input = await loadModelImage(imageBytes, size);
    const z = await graphs.encode(rgbToTensor(input), 1);
    const output = tensorToRgb(await graphs.decode(z, 1, grid), size, size);
    const [latents] = gridToLatents(z, 1, tables.dZ, cells) as [Float32Array];
    const pca = latentPca(latents, tables.dZ, grid);
    const scale = Math.max(1, Math.floor(size / grid[1]));
    return {
      model: modelId,
      input: await toInlinePng(input),
      output: await toInlinePng(output),
      psnr: psnr(input, output),
      ssim: ssim(input, output),
      tokens: grid,
      tokenErrors: tokenErrors(input, output, grid),
      pca: {
        png: Buffer.from(await encodeScaledPng(pca, scale)).toString('base64'),
        width: pca.width * scale,
        height: pca.height * scale,
      },
      seconds: (performance.now() - started) / 1000,
    };
  }

  async dispose(): Promise<void> {
    const loaded = this.#loaded;
    this.#loaded = null;
    await loaded?.model.graphs.release();
  }
}

function images0(rgbs: ReadonlyArray<Rgb>): Rgb {
  const [first] = rgbs;
  if (!first) throw new StudioError('INTERNAL', 'The decoder returned no image.');
  return first;
}

/**
 * One tiny run of every graph: a provider that creates sessions but cannot run them fails here, not mid-job. Returns
 * the decode's time, the first measure of what a decoded preview costs.
 */
async function warmUp(model: LoadedModel): Promise<number> {
  const { graphs, tables, bundle } = model;
  const { hidden: H, dZ } = tables;
  const W = bundle.manifest.architecture.headWidth;
  await graphs.lmStep({
    embeds: new Float32Array(H),
    rows: 1,
    length: 1,
    mask: BigInt64Array.of(1n),
    positions: BigInt64Array.of(0n),
    past: null,
  });
  await graphs.latentIn(new Float32Array(dZ), new Float32Array(H), 1);
  await graphs.headCond(new Float32Array(H), 1);
  await graphs.headVelocity(new Float32Array(dZ), new Float32Array(1), new Float32Array(W), 1);
  const [h, w] = bundle.manifest.image.grid;
  const started = performance.now();
  await graphs.decode(new Float32Array(dZ * h * w), 1, [h, w]);
  return performance.now() - started;
}
