// The generation runner, the studio's one entry to generation: requests become jobs planned once
// (core/job-planner.ts), queued and run one at a time (core/queue-pump.ts, core/job-execution.ts) on the engine
// (core/engine-host.ts), with typed progress; plus the calls that control jobs and use the engine directly. It is
// the services' `runner`, started and disposed by the studio.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  EditRequest,
  EngineStatus,
  GenerateRequest,
  GenerationProgress,
  ImageSource,
  InlinePng,
  JobKind,
  JobState,
  JobSummary,
  ReconstructResult,
  Sampling,
  TokenCount,
} from '../common/contract';
import { LIMITS } from '../common/contract';
import type { ForkRequest } from '../common/api/timeline';
import { StudioError } from '../common/errors';
import { resolveSampling, type Checkpoint, type EngineOutcome, type EngineProgress } from '../engine/engine';
import { planJob } from '../engine/plan';
import { encodePng, inspectImage, loadModelImage, maskToCells } from '../platform/image';
import type { Library } from '../store/library';
import { EngineHost, type EngineFactory } from './engine-host';
import { forkRequest, forkSpecOf } from './fork';
import { executeJob, type JobContext, type ProgressOf } from './job-execution';
import { BundleCache, planRequest, randomSeed, type PlannedEdit } from './job-planner';
import { QueuePump, type Run } from './queue-pump';
import type { Services } from './services';

/** What the runner uses of the studio (the services without the runner itself). */
export type RunnerServices = Omit<Services, 'runner'>;

export type RunnerOptions = Readonly<{
  /** The engine to use (tests pass an in-process Engine); default: a worker thread. Told the provider order. */
  engine?: EngineFactory;
}>;

type Submitted = Promise<{ jobId: string; position: number }>;

export class GenerationRunner {
  readonly #services: RunnerServices;
  readonly #bundles = new BundleCache();
  readonly #host: EngineHost;
  readonly #pump: QueuePump;
  #nextMemoryId = 1;
  #unsubscribe: (() => void) | null = null;

  constructor(services: RunnerServices, options: RunnerOptions = {}) {
    this.#services = services;
    this.#host = new EngineHost(services, options.engine);
    const context: JobContext = {
      services,
      bundles: this.#bundles,
      host: this.#host,
      library: () => this.#library(),
      emit: (jobId, progress) => this.#emit(jobId, progress),
    };
    this.#pump = new QueuePump({ library: context.library, execute: (claimed) => executeJob(context, claimed) });
  }

  /** Runs what waits in the library's queue (jobs of an earlier session, retries) without waiting for a request. */
  start(): void {
    this.#pump.pump();
  }

  /** The provider choice changed: the next engine operation starts a new engine (after the one in progress). */
  restartEngine(): Promise<void> {
    return this.#host.restart();
  }

  #emit(jobId: string, progress: ProgressOf): void {
    this.#services.events.emit({ type: 'generation.progress', data: { jobId, ...progress } as GenerationProgress });
  }

  async #library(): Promise<Library> {
    const library = await this.#services.library.get();
    // Retries and reorders made through the library's own calls wake the pump; cancels reach the running job.
    this.#unsubscribe ??= library.subscribe((change) => {
      if (change.kind !== 'queue') return;
      if (change.status === 'queued') this.#pump.queued();
      const current = this.#pump.current;
      if (change.cancelRequested && current?.libraryIds.includes(change.id)) this.#host.cancel(current.jobId);
    });
    return library;
  }

  async #imageBytes(source: ImageSource): Promise<Uint8Array> {
    if (source.kind === 'data') {
      const bytes = Buffer.from(source.base64, 'base64');
      if (bytes.length === 0) throw new StudioError('IMAGE_INVALID', 'The image data is empty or not base64.');
      return bytes;
    }
    let file = source.kind === 'file' ? path.resolve(source.path) : '';
    if (source.kind === 'generation') {
      const id = Number(source.id);
      if (!Number.isSafeInteger(id) || id < 1) throw new StudioError('NOT_FOUND', `No generation ${source.id}.`);
      const record = await (await this.#library()).get(id);
      if (!record.file) throw new StudioError('NOT_FOUND', `Generation ${id} has no image.`);
      file = path.join(this.#services.home, record.file);
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new StudioError('NOT_FOUND', `No image file at ${file}.`);
    if (info.size > LIMITS.maxUploadBytes) {
      throw new StudioError(
        'IMAGE_INVALID',
        `The image file is ${Math.round(info.size / 2 ** 20)} MB; the studio reads images up to ${LIMITS.maxUploadBytes / 2 ** 20} MB.`,
      );
    }
    return readFile(file);
  }

  // ---- submitting ----

  async generate(request: GenerateRequest): Submitted {
    const model = await this.#services.models.resolve(request.model);
    return this.#submit('generate', request, model, null, null);
  }

  async edit(request: EditRequest): Submitted {
    const model = await this.#services.models.resolve(request.model);
    const { size, grid } = (await this.#bundles.get(model.path)).manifest.image;
    const [imageBytes, maskBytes] = await Promise.all([
      this.#imageBytes(request.image),
      this.#imageBytes(request.mask),
    ]);
    const shape = await inspectImage(imageBytes);
    const regenerate = await maskToCells(maskBytes, shape, size, grid, request.maskThreshold ?? 0.5);
    // The model-size input, decoded once: the engine encodes these pixels; the library keeps them as a PNG, which a
    // replay reads back pixel for pixel.
    const pixels = await loadModelImage(imageBytes, size);
    const edit: PlannedEdit = {
      source: await encodePng(pixels),
      pixels,
      regenerate,
      keepPixels: request.keepPixels ?? true,
      editContext: request.editContext,
      // Lineage: an edit of a library image remembers which one.
      sourceId: request.sourceId ?? (request.image.kind === 'generation' ? Number(request.image.id) : null),
    };
    return this.#submit('edit', request, model, edit, null);
  }

  /** A fork of a library image at a group (core/fork.ts): a one-image generate job whose params carry its origin. */
  async fork(request: ForkRequest): Submitted {
    const library = await this.#library();
    const parent = await library.get(request.from);
    const model = await this.#services.models.resolve(parent.params.modelId);
    const [h, w] = (await this.#bundles.get(model.path)).manifest.image.grid;
    const { generate, extra } = forkRequest(request.from, parent.params, request, h * w, request.seed ?? randomSeed());
    return this.#submit('generate', { ...generate, count: 1 }, model, null, {
      extra,
      spec: forkSpecOf(extra.fork),
    });
  }

  /** Plans the job (once), queues it and starts the pump. */
  async #submit(
    kind: JobKind,
    request: GenerateRequest,
    model: Readonly<{ id: string; path: string }>,
    edit: PlannedEdit | null,
    fork: Parameters<typeof planRequest>[1]['fork'],
  ): Submitted {
    if (this.#pump.disposed) throw new StudioError('BUSY', 'The studio is shutting down.');
    const bundle = await this.#bundles.get(model.path);
    const count = request.count ?? 1;
    const { params, plan } = planRequest(bundle, { kind, request, modelId: model.id, count, edit, fork });
    const history = request.history ?? true;
    const run: Run = {
      jobId: '',
      kind,
      state: 'queued',
      prompt: plan.prompt,
      createdAt: new Date().toISOString(),
      committed: 0,
      total: bundle.manifest.image.grid[0] * bundle.manifest.image.grid[1],
      modelId: model.id,
      bundleDir: model.path,
      history,
      queued: history && this.#services.mode !== 'cli',
      previews: request.previews ?? true,
      libraryIds: [],
      params,
      plan,
      edit,
      sourcePath: null,
      checkpoint: null,
    };
    // A damaged library is reported now, not after the image is made.
    if (run.history) await this.#library();
    const position = await this.#enqueue(run);
    this.#emit(run.jobId, { status: 'queued', position });
    this.#pump.pump();
    return { jobId: run.jobId, position };
  }

  /** Puts a new job in the library's queue (or in memory); its place, counting the running job. */
  async #enqueue(run: Run): Promise<number> {
    const running = (): number => (this.#pump.current ? 1 : 0);
    if (!run.queued) {
      run.jobId = `t${this.#nextMemoryId++}`;
      this.#pump.register(run);
      this.#pump.memory.push(run);
      return this.#pump.memory.length - 1 + running();
    }
    const library = await this.#library();
    const source = run.edit ? { source: run.edit.source } : {};
    const items = await this.#pump.submitting(async () => {
      const items = [];
      for (const p of run.params) items.push(await library.enqueue(p, source));
      return items;
    });
    run.libraryIds = items.map((item) => item.id);
    run.jobId = String(run.libraryIds[0]);
    this.#pump.register(run);
    return (items[0]?.position ?? 0) + running();
  }

  // ---- controls ----

  #run(jobId: string): Run {
    const run = this.#pump.runs.get(jobId);
    if (!run) throw new StudioError('NOT_FOUND', `No job ${jobId} in this session.`);
    return run;
  }

  async cancel(jobId: string): Promise<{ cancelled: boolean; state: JobState }> {
    const run = this.#run(jobId);
    if (run.state === 'running') {
      this.#host.cancel(jobId);
      return { cancelled: true, state: run.state };
    }
    if (run.state !== 'queued') return { cancelled: false, state: run.state };
    const index = this.#pump.memory.indexOf(run);
    if (index >= 0) this.#pump.memory.splice(index, 1);
    if (run.queued) {
      const library = await this.#library();
      for (const id of run.libraryIds) await library.cancel(id).catch(() => undefined);
    }
    run.state = 'cancelled';
    this.#emit(jobId, { status: 'cancelled', committed: 0, total: Math.max(1, run.total), resumable: false });
    return { cancelled: true, state: run.state };
  }

  async resume(jobId: string): Submitted {
    const run = this.#run(jobId);
    if (run.state !== 'cancelled' && run.state !== 'error') {
      throw new StudioError('BUSY', `Job ${jobId} is ${run.state}; only cancelled or failed jobs resume.`);
    }
    run.state = 'queued';
    let position = this.#pump.current ? 1 : 0;
    if (run.queued) {
      const library = await this.#library();
      // The place the retried job got when it was queued again: reading the whole queue afterwards races with the
      // pump, which may already have claimed it.
      const items = [];
      for (const id of run.libraryIds) items.push(await library.retry(id));
      position += items[0]?.position ?? 0;
    } else {
      position += this.#pump.memory.length;
      this.#pump.memory.push(run);
    }
    this.#emit(jobId, { status: 'queued', position });
    this.#pump.pump();
    return { jobId, position };
  }

  async decodePartial(jobId: string): Promise<{ images: Array<InlinePng>; committed: number; total: number }> {
    const run = this.#run(jobId);
    const checkpoint = run.checkpoint;
    if (!checkpoint) {
      throw new StudioError(
        run.state === 'running' ? 'BUSY' : 'NOT_FOUND',
        run.state === 'running'
          ? `Job ${jobId} is running; its previews arrive with its progress events.`
          : `Job ${jobId} has no committed tokens to decode.`,
      );
    }
    const images = await this.#host.exclusive((engine) => engine.decodeCheckpoint(run.bundleDir, checkpoint));
    return { images, committed: run.committed, total: run.total };
  }

  /** Decodes one image's [cells, dZ] latents with a model's decoder (timeline frames). */
  async decodeLatents(modelId: string, latents: Float32Array): Promise<InlinePng> {
    const model = await this.#services.models.resolve(modelId);
    const sampling = resolveSampling((await this.#bundles.get(model.path)).manifest, {});
    const checkpoint: Checkpoint = {
      plan: { sampling, cond: [], uncond: [], kept: [], fed: [], orders: [] },
      state: { committedGroups: 0, latents: [latents], known: new Uint8Array(0) },
      seeds: [],
      orderSeeds: [],
      prompt: '',
      warnings: [],
      edit: null,
    };
    const [png] = await this.#host.exclusive((engine) => engine.decodeCheckpoint(model.path, checkpoint));
    if (!png) throw new StudioError('INTERNAL', 'The decoder returned no image.');
    return png;
  }

  /** A prompt's token count with the model's tokenizer (cached with its bundle; no engine work). */
  async countTokens(request: Readonly<{ prompt: string; model?: string }>): Promise<TokenCount> {
    const model = await this.#services.models.resolve(request.model);
    const { prompts } = await this.#bundles.get(model.path);
    return { ...prompts.count(request.prompt), model: model.id };
  }

  jobs(): Array<JobSummary> {
    return [...this.#pump.runs.values()].map((run) => ({
      jobId: run.jobId,
      kind: run.kind,
      state: run.state,
      prompt: run.prompt,
      committed: run.committed,
      total: run.total,
      count: run.params.length,
      resumable: run.checkpoint !== null && (run.state === 'cancelled' || run.state === 'error'),
      createdAt: run.createdAt,
    }));
  }

  /**
   * Runs one generation on the engine without queue, history or events (evaluation, benchmarks); `onProgress` sees
   * the engine's own progress. Planned like any job; waits for the engine like any other job.
   */
  async direct(
    request: Readonly<{
      prompt: string;
      /** Engine-level only (measurements): the text CFG's unconditional row takes; the studio's calls have none. */
      negativePrompt?: string | null;
      /** A registry id, or a bundle folder as `{ path }` (benchmarks of a bundle that is not installed). */
      model?: string | Readonly<{ path: string; id: string }>;
      sampling: Sampling;
      seeds: ReadonlyArray<number>;
      orderSeeds: ReadonlyArray<number>;
      previews?: boolean;
    }>,
    onProgress: (progress: EngineProgress) => void = () => undefined,
  ): Promise<EngineOutcome> {
    const model =
      typeof request.model === 'object' ? request.model : await this.#services.models.resolve(request.model);
    const { manifest, prompts } = await this.#bundles.get(model.path);
    const plan = planJob(manifest, prompts, request);
    const job = {
      jobId: `d${this.#nextMemoryId++}`,
      kind: 'generate',
      bundleDir: model.path,
      modelId: model.id,
      plan,
      seeds: request.seeds,
      orderSeeds: request.orderSeeds,
      previews: request.previews ?? false,
    } as const;
    return this.#host.exclusive((engine) => engine.run(job, onProgress));
  }

  async reconstruct(request: Readonly<{ image: ImageSource; model?: string }>): Promise<ReconstructResult> {
    const model = await this.#services.models.resolve(request.model);
    const bytes = await this.#imageBytes(request.image);
    return this.#host.exclusive((engine) => engine.reconstruct(model.path, model.id, bytes));
  }

  async status(): Promise<EngineStatus> {
    const info = await this.#host.status();
    return {
      ep: info?.ep ?? null,
      model: info?.model ? { id: info.model.id, name: info.model.name } : null,
      fallbacks: [...(info?.fallbacks ?? [])],
      busy: this.#pump.current !== null,
    };
  }

  async dispose(): Promise<void> {
    this.#pump.dispose();
    const current = this.#pump.current;
    if (current) this.#host.cancel(current.jobId);
    this.#unsubscribe?.();
    await this.#host.dispose();
  }
}
