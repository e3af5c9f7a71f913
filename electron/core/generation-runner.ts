// The generation runner: turns generate/edit requests into jobs, runs them one at a time on the engine's worker
// thread, and reports typed progress. Jobs with history live in the library's persistent queue (the runner claims
// them from it, so retries, reorders and jobs left by an earlier session run too) and their images are recorded
// there; jobs without history wait in memory and write to <home>/scratch. Cancelled or failed jobs keep their
// committed tokens (a checkpoint) for decode-partial and resume.
import { createHash, randomInt } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  EditRequest,
  EngineStatus,
  GenerateRequest,
  GeneratedImage,
  GenerationProgress,
  ImageSource,
  InlinePng,
  JobKind,
  JobState,
  JobSummary,
  ReconstructResult,
  ResolvedSampling,
  Sampling,
  TokenCount,
} from '../common/contract';
import { LIMITS } from '../common/contract';
import type { ReplayParams } from '../common/api/library';
import type { ForkRequest } from '../common/api/timeline';
import { StudioError, toErrorPayload } from '../common/errors';
import { readManifest, type BundleManifest } from '../engine/bundle';
import {
  JobError,
  resolveSampling,
  type Checkpoint,
  type EngineJob,
  type EngineOutcome,
  type EngineProgress,
} from '../engine/engine';
import { EngineWorker, type EngineApi } from '../engine/engine-worker';
import { encodePng, inspectImage, loadModelImage, maskToCells } from '../engine/image';
import { PromptEncoder } from '../engine/tokenizer';
import { embedReplayParams, imageHash, type Job as LibraryJob, type Library } from '../store/library';
import { forkOriginOf, forkRequest, forkSpecOf } from './fork';
import type { Services } from './services';
import { encodeTimeline } from './timeline';
import { providerPreference, readSettingsOrDefaults } from './settings';
import { finishEdit, type EditPixels } from './edit-pixels';

/** The library keeps prompts up to this many characters; the model's token limit is usually far lower. */
const PROMPT_MAX_CHARS = 4096;
export const SCRATCH_DIR = 'scratch';

type Run = {
  jobId: string;
  kind: JobKind;
  state: JobState;
  prompt: string;
  createdAt: string;
  committed: number;
  total: number;
  modelId: string;
  bundleDir: string;
  history: boolean;
  /** In the library's queue (app and web mode); the CLI runs its own jobs directly and records them at the end. */
  queued: boolean;
  previews: boolean;
  /** Library generation ids, one per image (history only). */
  libraryIds: Array<number>;
  /** Per image: what the library records and the PNG carries. */
  params: Array<ReplayParams>;
  /** An edit's input (the model-size PNG), regenerated cells, whether its pixels are kept, and its library source. */
  edit: (EditPixels & Readonly<{ sourceId: number | null }>) | null;
  checkpoint: Checkpoint | null;
  warnings: Array<string>;
};

/** A progress event before its job id is added (distributes over the union). */
type ProgressOf = GenerationProgress extends infer P ? (P extends unknown ? Omit<P, 'jobId'> : never) : never;

type Claimed = Readonly<{ run: Run; ids: ReadonlyArray<number> }>;

type BundleInfo = Readonly<{ manifest: BundleManifest; prompts: PromptEncoder; hash: string }>;

export type RunnerOptions = Readonly<{
  /** The engine to use (tests pass an in-process Engine); default: a worker thread. Told the provider order. */
  engine?: (options: Readonly<{ preference: string | undefined }>) => EngineApi;
}>;

/** Regenerated cells as hex, four cells a digit (1024 cells fit the library's 16 kB of `extra`). */
export function hexOfCells(cells: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < cells.length; i += 4) {
    const bit = (j: number): number => (cells[i + j] ?? 0) << (3 - j);
    hex += (bit(0) | bit(1) | bit(2) | bit(3)).toString(16);
  }
  return hex;
}

export function cellsOfHex(hex: string, count: number): Uint8Array {
  const cells = new Uint8Array(count);
  for (let i = 0; i < count; i++) cells[i] = (parseInt(hex[i >> 2] ?? '0', 16) >> (3 - (i & 3))) & 1;
  return cells;
}

function samplingOf(p: ReplayParams | undefined): EngineJob['sampling'] {
  if (!p) throw new StudioError('INTERNAL', 'A job without images.');
  return { tokensPerStep: p.tokensPerStep, steps: p.steps, cfg: p.cfg, cfgSchedule: p.cfgSchedule, order: p.order };
}

function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

export class GenerationRunner {
  readonly #services: Services;
  readonly #options: RunnerOptions;
  readonly #runs = new Map<string, Run>();
  readonly #byLibraryId = new Map<number, Run>();
  readonly #memoryQueue: Array<Run> = [];
  readonly #bundles = new Map<string, Promise<BundleInfo>>();
  #engine: EngineApi | null = null;
  #engineLock: Promise<unknown> = Promise.resolve();
  #current: Run | null = null;
  #carry: LibraryJob | null = null;
  #pumping = false;
  /** Submissions enqueueing right now: their own queue announcements must not start a half-registered batch. */
  #submitting = 0;
  #wake = false;
  #nextMemoryId = 1;
  #unsubscribe: (() => void) | null = null;
  #disposed = false;

  constructor(services: Services, options: RunnerOptions = {}) {
    this.#services = services;
    this.#options = options;
  }

  // ---- engine ----

  /** The engine, created on first use with the provider order of that moment (VGT_EP, else the Settings choice). */
  async #engineApi(): Promise<EngineApi> {
    if (this.#engine instanceof EngineWorker && !this.#engine.alive) this.#engine = null;
    if (this.#engine) return this.#engine;
    const preference = providerPreference(this.#services.env, await readSettingsOrDefaults(this.#services));
    this.#engine =
      this.#options.engine?.({ preference }) ??
      new EngineWorker(
        {
          preference,
          threads: Number(this.#services.env.VGT_THREADS) || undefined,
          hashCacheFile: path.join(this.#services.home, 'cache', 'bundle-hashes.json'),
        },
        (fallback) =>
          this.#services.events.emit({
            type: 'notice',
            data: {
              level: 'warning',
              message:
                `The ${fallback.ep} provider could not run the model, so the next one is used: ${fallback.reason}`.slice(
                  0,
                  1024,
                ),
            },
          }),
      );
    return this.#engine;
  }

  /**
   * The provider choice changed: once the engine work in progress is done, the engine is let go, so the next
   * operation starts a new one that loads its model with the new order.
   */
  restartEngine(): Promise<void> {
    const next = this.#engineLock.then(async () => {
      const engine = this.#engine;
      this.#engine = null;
      await engine?.dispose();
    });
    this.#engineLock = next.catch(() => undefined);
    return next;
  }

  /** One engine operation at a time: a model switch must never release sessions another call is using. */
  #exclusive<T>(work: (engine: EngineApi) => Promise<T>): Promise<T> {
    const next = this.#engineLock.then(async () => work(await this.#engineApi()));
    this.#engineLock = next.catch(() => undefined);
    return next;
  }

  async #bundle(dir: string): Promise<BundleInfo> {
    let info = this.#bundles.get(dir);
    if (!info) {
      info = (async () => {
        const manifest = await readManifest(dir);
        const prompts = await PromptEncoder.load(
          path.join(
            dir,
            Object.entries(manifest.files).find(([, e]) => e.role === 'tokenizer')?.[0] ?? 'tokenizer.json',
          ),
          manifest,
        );
        const hash = createHash('sha256')
          .update(await readFile(path.join(dir, 'vgt-bundle.json')))
          .digest('hex');
        return { manifest, prompts, hash };
      })();
      this.#bundles.set(dir, info);
      info.catch(() => this.#bundles.delete(dir));
    }
    return info;
  }

  #emit(jobId: string, progress: ProgressOf): void {
    this.#services.events.emit({ type: 'generation.progress', data: { jobId, ...progress } as GenerationProgress });
  }

  async #library(): Promise<Library> {
    const library = await this.#services.library.get();
    // Retries and reorders made through the library's own calls wake the runner; cancels reach the running job.
    this.#unsubscribe ??= library.subscribe((change) => {
      if (change.kind !== 'queue') return;
      if (change.status === 'queued' && this.#submitting === 0) this.#pump();
      const current = this.#current;
      if (change.cancelRequested && current?.libraryIds.includes(change.id)) this.#engine?.cancel(current.jobId);
    });
    return library;
  }

  // ---- inputs ----

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

  async generate(request: GenerateRequest): Promise<{ jobId: string; position: number }> {
    return this.#submit('generate', request, request.count ?? 1, null);
  }

  async edit(request: EditRequest): Promise<{ jobId: string; position: number }> {
    const model = await this.#services.models.resolve(request.model);
    const { manifest } = await this.#bundle(model.path);
    const { size, grid } = manifest.image;
    const [imageBytes, maskBytes] = await Promise.all([
      this.#imageBytes(request.image),
      this.#imageBytes(request.mask),
    ]);
    const shape = await inspectImage(imageBytes);
    const regenerate = await maskToCells(maskBytes, shape, size, grid, request.maskThreshold ?? 0.5);
    const masked = regenerate.reduce((a, b) => a + b, 0);
    const k = resolveSampling(manifest, request).tokensPerStep;
    if (k > masked) {
      throw new StudioError(
        'INVALID_PAYLOAD',
        `tokensPerStep ${k} is larger than the ${masked} masked tokens; use 1 to ${masked}.`,
      );
    }
    // The model-size input, as a PNG: what the library keeps and what a replay reads back pixel for pixel.
    const source = await encodePng(await loadModelImage(imageBytes, size));
    // Lineage: an edit of a library image remembers which one.
    const sourceId = request.sourceId ?? (request.image.kind === 'generation' ? Number(request.image.id) : null);
    const keepPixels = request.keepPixels ?? true;
    return this.#submit('edit', request, request.count ?? 1, { source, regenerate, keepPixels, sourceId });
  }

  /** A prompt's token count with the model's tokenizer (cached with its bundle; no engine work). */
  async countTokens(request: Readonly<{ prompt: string; model?: string }>): Promise<TokenCount> {
    const model = await this.#services.models.resolve(request.model);
    const { prompts } = await this.#bundle(model.path);
    return { ...prompts.count(request.prompt), model: model.id };
  }

  /** A fork of a library image at a group (core/fork.ts): a one-image generate job whose params carry its origin. */
  async fork(request: ForkRequest): Promise<{ jobId: string; position: number }> {
    const library = await this.#library();
    const parent = await library.get(request.from);
    const model = await this.#services.models.resolve(parent.params.modelId);
    const [h, w] = (await this.#bundle(model.path)).manifest.image.grid;
    const { generate, extra } = forkRequest(request.from, parent.params, request, h * w, request.seed ?? randomSeed());
    return this.#submit('generate', generate, 1, null, extra);
  }

  async #submit(
    kind: JobKind,
    request: GenerateRequest | EditRequest,
    count: number,
    edit: Run['edit'],
    extra: ReplayParams['extra'] = null,
  ): Promise<{ jobId: string; position: number }> {
    if (this.#disposed) throw new StudioError('BUSY', 'The studio is shutting down.');
    const model = await this.#services.models.resolve(request.model);
    const bundle = await this.#bundle(model.path);
    const sampling = resolveSampling(bundle.manifest, request);
    const encoded = bundle.prompts.encode(request.prompt);
    const warnings = encoded.warning ? [encoded.warning] : [];
    const prompt = encoded.prompt.slice(0, PROMPT_MAX_CHARS);
    const seed = request.seed ?? randomSeed();
    // One seed fixes the image: the order seed is the seed itself unless set (the order and the noise draw from
    // separate streams of the generator, so sharing the number does not correlate them).
    const orderSeed = request.orderSeed ?? seed;
    const { size, grid } = bundle.manifest.image;
    const params = Array.from({ length: count }, (_, i) =>
      this.#params(kind, prompt, model.id, bundle.hash, sampling, seed + i, orderSeed + i, size, edit, extra),
    );
    const run: Run = {
      jobId: '',
      kind,
      state: 'queued',
      prompt,
      createdAt: new Date().toISOString(),
      committed: 0,
      total: grid[0] * grid[1],
      modelId: model.id,
      bundleDir: model.path,
      history: request.history ?? true,
      queued: (request.history ?? true) && this.#services.mode !== 'cli',
      previews: request.previews ?? true,
      libraryIds: [],
      params,
      edit,
      checkpoint: null,
      warnings,
    };
    let position: number;
    // A damaged library is reported now, not after the image is made.
    if (run.history) await this.#library();
    if (run.queued) {
      const library = await this.#library();
      const items = [];
      this.#submitting++;
      try {
        for (const p of params) items.push(await library.enqueue(p, edit ? { source: edit.source } : {}));
      } finally {
        this.#submitting--;
      }
      run.libraryIds = items.map((item) => item.id);
      run.jobId = String(run.libraryIds[0]);
      for (const id of run.libraryIds) this.#byLibraryId.set(id, run);
      position = (items[0]?.position ?? 0) + (this.#current ? 1 : 0);
    } else {
      run.jobId = `t${this.#nextMemoryId++}`;
      position = this.#memoryQueue.length + (this.#current ? 1 : 0);
      this.#memoryQueue.push(run);
    }
    this.#runs.set(run.jobId, run);
    this.#emit(run.jobId, { status: 'queued', position });
    this.#pump();
    return { jobId: run.jobId, position };
  }

  #params(
    kind: JobKind,
    prompt: string,
    modelId: string,
    bundleHash: string,
    sampling: ResolvedSampling,
    seed: number,
    orderSeed: number,
    size: number,
    edit: Run['edit'],
    extra: ReplayParams['extra'] = null,
  ): ReplayParams {
    return {
      kind,
      prompt,
      negativePrompt: null,
      modelId,
      bundleHash,
      provider: null, // the engine's, recorded when the run finishes
      seed,
      orderSeed,
      order: sampling.order,
      tokensPerStep: sampling.tokensPerStep,
      steps: sampling.steps,
      cfg: sampling.cfg,
      cfgSchedule: sampling.cfgSchedule,
      width: size,
      height: size,
      sourceImage: edit ? imageHash(edit.source) : null,
      extra: edit
        ? {
            regenerate: hexOfCells(edit.regenerate),
            ...(edit.sourceId !== null ? { sourceId: edit.sourceId } : {}),
            ...(edit.keepPixels ? {} : { keepPixels: false }),
          }
        : extra,
    };
  }

  // ---- running ----

  #pump(): void {
    if (this.#disposed) return;
    if (this.#pumping) {
      this.#wake = true;
      return;
    }
    this.#pumping = true;
    void (async () => {
      try {
        do {
          this.#wake = false;
          for (let next = await this.#next(); next && !this.#disposed; next = await this.#next()) {
            await this.#execute(next);
          }
        } while (this.#wake && !this.#disposed);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #next(): Promise<Claimed | null> {
    const memory = this.#memoryQueue.shift();
    if (memory) return { run: memory, ids: [] };
    // A batch being enqueued is claimed once all of it is registered (its submit pumps again).
    if (this.#submitting > 0) return null;
    let library: Library;
    try {
      library = await this.#library();
    } catch {
      return null; // A damaged library holds no runnable jobs; memory jobs still run.
    }
    const first = this.#carry ?? (await library.nextJob());
    this.#carry = null;
    if (!first) return null;
    const known = this.#byLibraryId.get(first.id);
    const run = known ?? this.#adopt(first);
    const ids = [first.id];
    // The rest of the batch, while the queue keeps it together.
    while (known && ids.length < run.libraryIds.length) {
      const job = await library.nextJob();
      if (!job) break;
      if (this.#byLibraryId.get(job.id) !== run) {
        this.#carry = job;
        break;
      }
      ids.push(job.id);
    }
    if (!known && first.sourcePath && first.params.kind === 'edit') {
      run.edit = await this.#adoptEdit(first).catch(() => null);
    }
    return { run, ids };
  }

  /** A job this session did not submit (a retry, or left by an earlier session): rebuilt from its parameters. */
  #adopt(job: LibraryJob): Run {
    const p = job.params;
    const run: Run = {
      jobId: String(job.id),
      kind: p.kind === 'edit' ? 'edit' : 'generate',
      state: 'queued',
      prompt: p.prompt,
      createdAt: new Date().toISOString(),
      committed: 0,
      total: 0,
      modelId: p.modelId,
      bundleDir: '',
      history: true,
      queued: true,
      previews: true,
      libraryIds: [job.id],
      params: [p],
      edit: null,
      checkpoint: null,
      warnings: [],
    };
    this.#runs.set(run.jobId, run);
    this.#byLibraryId.set(job.id, run);
    return run;
  }

  async #adoptEdit(job: LibraryJob): Promise<Run['edit']> {
    const hex = job.params.extra?.regenerate;
    if (!job.sourcePath) return null;
    const source = await readFile(job.sourcePath);
    const model = await this.#services.models.resolve(job.params.modelId);
    const [h, w] = (await this.#bundle(model.path)).manifest.image.grid;
    const { sourceId, keepPixels } = job.params.extra ?? {};
    return typeof hex === 'string'
      ? {
          source,
          regenerate: cellsOfHex(hex, h * w),
          keepPixels: keepPixels !== false,
          sourceId: typeof sourceId === 'number' ? sourceId : null,
        }
      : null;
  }

  async #execute({ run, ids }: Claimed): Promise<void> {
    const library = run.history ? await this.#library().catch(() => null) : null;
    const params = run.queued ? run.params.filter((_, i) => ids.includes(run.libraryIds[i] ?? -1)) : run.params;
    const claimedIds = run.queued ? ids : [];
    this.#current = run;
    run.state = 'running';
    const started = performance.now();
    try {
      const model = await this.#services.models.resolve(run.modelId);
      run.bundleDir = model.path;
      run.total = (await this.#bundle(model.path)).manifest.image.grid.reduce((a, b) => a * b, 1);
      if (run.kind === 'edit' && !run.edit) {
        throw new StudioError('NOT_FOUND', 'The source image or mask of this edit is missing; make the edit again.');
      }
      const seeds = params.map((p) => p.seed);
      const fork = forkOriginOf(params[0]);
      const checkpoint = run.checkpoint && run.checkpoint.seeds.join() === seeds.join() ? run.checkpoint : undefined;
      const job: EngineJob = {
        jobId: run.jobId,
        kind: run.kind,
        bundleDir: model.path,
        modelId: run.modelId,
        prompt: run.prompt,
        sampling: samplingOf(params[0] ?? run.params[0]),
        seeds,
        orderSeeds: params.map((p) => p.orderSeed),
        previews: run.previews,
        ...(run.edit ? { edit: { image: run.edit.source, regenerate: run.edit.regenerate } } : {}),
        ...(checkpoint ? { checkpoint } : {}),
        ...(fork ? { fork: forkSpecOf(fork) } : {}),
      };
      const outcome = await this.#exclusive((engine) =>
        engine.run(job, (progress) => {
          if (progress.status === 'group') {
            run.committed = progress.committed;
            const first = claimedIds[0];
            if (library && first !== undefined) {
              void library
                .isCancelRequested(first)
                .then((yes) => yes && this.#engine?.cancel(run.jobId))
                .catch(() => undefined);
            }
          }
          if (progress.status === 'prefill') {
            this.#emit(run.jobId, { ...progress, warnings: [...run.warnings, ...progress.warnings] });
          } else this.#emit(run.jobId, progress);
        }),
      );
      await this.#finish(run, claimedIds, params, library, outcome, started);
    } catch (error) {
      const payload = toErrorPayload(error);
      run.checkpoint = error instanceof JobError ? (error.checkpoint ?? run.checkpoint) : run.checkpoint;
      run.state = 'error';
      for (const id of claimedIds) await library?.markFailed(id, payload.message).catch(() => undefined);
      this.#emit(run.jobId, { status: 'error', error: payload, resumable: run.checkpoint !== null });
    } finally {
      this.#current = null;
    }
  }

  async #finish(
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
      this.#emit(run.jobId, {
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
    const images: Array<GeneratedImage> = [];
    const edited = run.edit
      ? await finishEdit(outcome.images, run.edit, (await this.#bundle(run.bundleDir)).manifest.image.grid)
      : null;
    for (const [i, image] of (edited?.images ?? outcome.images).entries()) {
      const queued = params[i];
      if (!queued) throw new StudioError('INTERNAL', 'The engine returned more images than the job asked for.');
      // The provider is known only now: the engine picks it (with fallbacks) when it loads the model.
      const p: ReplayParams = { ...queued, provider: outcome.ep };
      const id = ids[i];
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
        images.push({
          id: recorded.id,
          file: recorded.path,
          seed: p.seed,
          orderSeed: p.orderSeed,
          width: recorded.width,
          height: recorded.height,
        });
      } else {
        const dir = path.join(this.#services.home, SCRATCH_DIR);
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, `${run.jobId}-${i + 1}.png`);
        await writeFile(file, embedReplayParams(image.png, p));
        images.push({ id: null, file, seed: p.seed, orderSeed: p.orderSeed, width: image.width, height: image.height });
      }
    }
    run.state = 'done';
    run.committed = run.total;
    run.checkpoint = null;
    this.#emit(run.jobId, {
      status: 'done',
      images,
      model: run.modelId,
      ep: outcome.ep,
      seconds: outcome.seconds,
      firstPreviewMs: outcome.firstPreviewMs,
      firstDecodedPreviewMs: outcome.firstDecodedPreviewMs,
      warnings: [...run.warnings, ...outcome.warnings],
      ...(edited ? { edit: edited.summary } : outcome.edit ? { edit: outcome.edit } : {}),
    });
  }

  /** Runs what waits in the library's queue (jobs of an earlier session, retries) without waiting for a request. */
  start(): void {
    this.#pump();
  }

  // ---- controls ----

  #run(jobId: string): Run {
    const run = this.#runs.get(jobId);
    if (!run) throw new StudioError('NOT_FOUND', `No job ${jobId} in this session.`);
    return run;
  }

  async cancel(jobId: string): Promise<{ cancelled: boolean; state: JobState }> {
    const run = this.#run(jobId);
    if (run.state === 'running') {
      this.#engine?.cancel(jobId);
      return { cancelled: true, state: run.state };
    }
    if (run.state !== 'queued') return { cancelled: false, state: run.state };
    const index = this.#memoryQueue.indexOf(run);
    if (index >= 0) this.#memoryQueue.splice(index, 1);
    if (run.queued) {
      const library = await this.#library();
      for (const id of run.libraryIds) await library.cancel(id).catch(() => undefined);
    }
    run.state = 'cancelled';
    this.#emit(jobId, { status: 'cancelled', committed: 0, total: Math.max(1, run.total), resumable: false });
    return { cancelled: true, state: run.state };
  }

  async resume(jobId: string): Promise<{ jobId: string; position: number }> {
    const run = this.#run(jobId);
    if (run.state !== 'cancelled' && run.state !== 'error') {
      throw new StudioError('BUSY', `Job ${jobId} is ${run.state}; only cancelled or failed jobs resume.`);
    }
    run.state = 'queued';
    let position = this.#current ? 1 : 0;
    if (run.queued) {
      const library = await this.#library();
      // The place the retried job got when it was queued again: reading the whole queue afterwards races with the
      // runner, which may already have claimed it.
      const items = [];
      for (const id of run.libraryIds) items.push(await library.retry(id));
      position += items[0]?.position ?? 0;
    } else {
      position += this.#memoryQueue.length;
      this.#memoryQueue.push(run);
    }
    this.#emit(jobId, { status: 'queued', position });
    this.#pump();
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
    const images = await this.#exclusive((engine) => engine.decodeCheckpoint(run.bundleDir, checkpoint));
    return { images, committed: run.committed, total: run.total };
  }

  /** Decodes one image's [cells, dZ] latents with a model's decoder (timeline frames). */
  async decodeLatents(modelId: string, latents: Float32Array): Promise<InlinePng> {
    const model = await this.#services.models.resolve(modelId);
    const sampling = resolveSampling((await this.#bundle(model.path)).manifest, {});
    const checkpoint: Checkpoint = {
      plan: { sampling, cond: [], uncond: [], fixed: [], orders: [] },
      state: { committedGroups: 0, latents: [latents], known: new Uint8Array(0) },
      seeds: [],
      orderSeeds: [],
      prompt: '',
      warnings: [],
      edit: null,
    };
    const [png] = await this.#exclusive((engine) => engine.decodeCheckpoint(model.path, checkpoint));
    if (!png) throw new StudioError('INTERNAL', 'The decoder returned no image.');
    return png;
  }

  jobs(): Array<JobSummary> {
    return [...this.#runs.values()].map((run) => ({
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
   * the engine's own progress. Waits for the engine like any other job.
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
    const job: EngineJob = {
      jobId: `d${this.#nextMemoryId++}`,
      kind: 'generate',
      bundleDir: model.path,
      modelId: model.id,
      prompt: request.prompt,
      negativePrompt: request.negativePrompt ?? null,
      sampling: request.sampling,
      seeds: request.seeds,
      orderSeeds: request.orderSeeds,
      previews: request.previews ?? false,
    };
    return this.#exclusive((engine) => engine.run(job, onProgress));
  }

  async reconstruct(request: Readonly<{ image: ImageSource; model?: string }>): Promise<ReconstructResult> {
    const model = await this.#services.models.resolve(request.model);
    const bytes = await this.#imageBytes(request.image);
    return this.#exclusive((engine) => engine.reconstruct(model.path, model.id, bytes));
  }

  async status(): Promise<EngineStatus> {
    const info = this.#engine ? await this.#engine.status() : null;
    return {
      ep: info?.ep ?? null,
      model: info?.model ? { id: info.model.id, name: info.model.name } : null,
      fallbacks: [...(info?.fallbacks ?? [])],
      busy: this.#current !== null,
    };
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#current) this.#engine?.cancel(this.#current.jobId);
    this.#unsubscribe?.();
    await this.#engineLock;
    await this.#engine?.dispose();
    this.#engine = null;
  }
}

const runners = new WeakMap<Services, GenerationRunner>();

/** The studio's runner, created on first use (commands such as doctor never start an engine). */
export function generationRunner(services: Services, options?: RunnerOptions): GenerationRunner {
  let runner = runners.get(services);
  if (!runner) {
    runner = new GenerationRunner(services, options);
    runners.set(services, runner);
  }
  return runner;
}

export async function disposeGenerationRunner(services: Services): Promise<void> {
  await runners.get(services)?.dispose();
  runners.delete(services);
}
