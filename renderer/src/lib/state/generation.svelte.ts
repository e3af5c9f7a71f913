// One generation (or edit) at a time as the user sees it: submits the job, follows its progress events, paints the
// live canvas, and keeps the results. It lives as long as the app, so switching views never loses a running job.
import type { StudioApi, StudioEvent } from '../../../../electron/common/contract';
import type {
  EditRequest,
  GeneratedImage,
  GenerateRequest,
  GenerationProgress,
  InlinePng,
  ResolvedSampling,
} from '../../../../electron/common/api/generation';
import { LiveBatchState } from './live-batch.svelte';
import type { LiveCanvasState } from './live-canvas.svelte';
import { ProgressState } from './progress.svelte';
import { messageOf } from '../errors';
import { fileUrl } from '../api/files';

const RESULTS_KEPT = 48;

export type JobKind = 'generate' | 'edit';

type Done = Extract<GenerationProgress, { status: 'done' }>;

export type Result = Readonly<{
  image: GeneratedImage;
  /** What the user asked for, so "Reuse settings" and the variations can start from it. */
  request: GenerateRequest;
  /** What the job ran with (the bundle's defaults filled in). */
  sampling: ResolvedSampling | null;
  src: string | null;
  kind: JobKind;
  favorite: boolean;
}>;

/** Where a cancelled or failed job stands: what survived and whether it can continue. */
export type Stopped = Readonly<{ committed: number; total: number; resumable: boolean; reason: 'cancelled' | 'error' }>;

export function pngUrl(png: InlinePng): string {
  return `data:image/png;base64,${png.png}`;
}

export class GenerationSession {
  /** The live canvases, one per image of the job. */
  readonly live = new LiveBatchState();
  readonly progress = new ProgressState();
  jobId = $state<string | null>(null);
  kind = $state<JobKind>('generate');
  /** Images the current job makes (its queue rows are jobId and the ids after it). */
  jobCount = $state(1);
  /** Latest preview of every image of the job. */
  previews = $state.raw<ReadonlyArray<string>>([]);
  /** How many previews arrived for this job: the live canvas is visibly alive when this grows. */
  previewCount = $state(0);
  results = $state.raw<ReadonlyArray<Result>>([]);
  error = $state<string | null>(null);
  warnings = $state.raw<ReadonlyArray<string>>([]);
  stopped = $state<Stopped | null>(null);
  submitting = $state(false);
  busy = $derived(this.submitting || this.progress.running);
  /** Submitted but not started (queued behind another job, or the model loading): the canvases still hold the last job. */
  waiting = $derived(this.busy && this.progress.phase === 'queued' && this.progress.group === 0);

  #api: StudioApi;
  #clock: () => number;
  #request: GenerateRequest | null = null;
  #sampling: ResolvedSampling | null = null;
  /** Events that arrive while a submit is in flight, before its job id is known. */
  #early: Array<GenerationProgress> = [];
  #onDone: ((done: Done, sampling: ResolvedSampling | null, kind: JobKind) => void) | null;
  #unsubscribe: () => void;

  constructor(
    api: StudioApi,
    options: Readonly<{
      clock?: () => number;
      /** Told about every finished job of this session (the app records its timing). */
      onDone?: (done: Done, sampling: ResolvedSampling | null, kind: JobKind) => void;
    }> = {},
  ) {
    this.#api = api;
    this.#clock = options.clock ?? (() => performance.now());
    this.#onDone = options.onDone ?? null;
    this.#unsubscribe = api.subscribe((event: StudioEvent) => {
      if (event.type === 'generation.progress') this.handle(event.data);
    });
  }

  /** The first image's canvas (an edit's only one). */
  get canvas(): LiveCanvasState {
    return this.live.first;
  }

  dispose(): void {
    this.#unsubscribe();
  }

  generate(request: GenerateRequest): Promise<void> {
    return this.#submit('generate', request, () => this.#api.call('generation.generate', request));
  }

  edit(request: EditRequest): Promise<void> {
    const { image: _image, mask: _mask, maskThreshold: _threshold, ...rest } = request;
    return this.#submit('edit', rest, () => this.#api.call('generation.edit', request));
  }

  async cancel(): Promise<void> {
    if (!this.jobId) return;
    try {
      await this.#api.call('generation.cancel', { jobId: this.jobId });
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  /** Continues a cancelled or failed job from its committed tokens. */
  async resume(): Promise<void> {
    const jobId = this.jobId;
    if (!jobId || !this.stopped?.resumable) return;
    this.error = null;
    this.submitting = true;
    try {
      await this.#api.call('generation.resume', { jobId });
      this.stopped = null;
      this.progress.start(this.#clock(), this.progress.totalGroups, this.progress.group);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.submitting = false;
    }
  }

  /** Decodes what a stopped job committed, as it is, and shows it on the canvas. */
  async decodeAsIs(): Promise<void> {
    const jobId = this.jobId;
    if (!jobId) return;
    try {
      const decoded = await this.#api.call('generation.decodePartial', { jobId });
      this.previews = decoded.images.map(pngUrl);
      this.live.finish(this.previews);
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  toggleFavorite(index: number, favorite: boolean): void {
    this.results = this.results.map((r, i) => (i === index ? { ...r, favorite } : r));
  }

  /** Applies one progress event of the current job (events of other jobs are someone else's). */
  handle(event: GenerationProgress): void {
    if (this.submitting && this.jobId === null) {
      this.#early.push(event);
      return;
    }
    if (event.jobId !== this.jobId) return;
    const now = this.#clock();
    switch (event.status) {
      case 'queued':
        this.progress.update('queued', now);
        break;
      case 'prefill':
        this.#sampling = event.sampling;
        this.warnings = event.warnings;
        // A resume re-prefills the same grid and keeps what its canvases show; anything else starts them over.
        if (
          this.canvas.rows !== event.grid[0] ||
          this.canvas.cols !== event.grid[1] ||
          this.live.count !== event.count ||
          this.progress.group === 0
        ) {
          this.live.reset(event.grid[0], event.grid[1], event.groups, event.count);
        }
        this.live.fix(event.fixed);
        this.progress.update('prefill', now, undefined, event.groups);
        break;
      case 'group':
        if (event.previews && event.previews.length > 0) {
          this.previews = event.previews.map(pngUrl);
          this.previewCount++;
        }
        this.live.commit(
          event.group - 1,
          event.positions,
          event.imagePositions,
          this.previews,
          // No kind: a decoded preview (what the field meant before quick previews existed).
          event.previews?.length ? (event.previewKind ?? 'decoded') : undefined,
        );
        this.progress.update('group', now, event.group, event.groups);
        break;
      case 'decode':
        this.progress.update('decode', now);
        break;
      case 'done':
        this.progress.update('done', now);
        this.warnings = event.warnings;
        this.#finish(event);
        break;
      case 'error':
        this.progress.update('error', now);
        this.error = event.error.message;
        this.stopped = {
          committed: this.canvas.committed,
          total: this.canvas.tokens,
          resumable: event.resumable,
          reason: 'error',
        };
        break;
      case 'cancelled':
        this.progress.update('cancelled', now);
        this.stopped = {
          committed: event.committed,
          total: event.total,
          resumable: event.resumable,
          reason: 'cancelled',
        };
        break;
    }
  }

  async #submit(kind: JobKind, request: GenerateRequest, call: () => Promise<{ jobId: string }>): Promise<void> {
    if (this.busy) return;
    this.kind = kind;
    this.jobCount = Math.max(1, request.count ?? 1);
    this.#request = request;
    this.#sampling = null;
    this.error = null;
    this.stopped = null;
    this.warnings = [];
    this.previews = [];
    this.previewCount = 0;
    this.jobId = null;
    this.#early = [];
    this.submitting = true;
    this.progress.start(this.#clock());
    try {
      const accepted = await call();
      this.jobId = accepted.jobId;
    } catch (error) {
      this.error = messageOf(error);
      this.progress.update('error', this.#clock());
    } finally {
      this.submitting = false;
    }
    const early = this.#early;
    this.#early = [];
    for (const event of early) this.handle(event);
  }

  #finish(done: Done): void {
    const images = done.images;
    const request = this.#request ?? { prompt: '' };
    const fresh = images.map((image, i): Result => ({
      image,
      request,
      sampling: this.#sampling,
      src: image.id === null ? this.#wholePreview(i) : null,
      kind: this.kind,
      favorite: false,
    }));
    this.live.finish(fresh.map((r) => r.src));
    this.results = [...fresh, ...this.results].slice(0, RESULTS_KEPT);
    this.#onDone?.(done, this.#sampling, this.kind);
    void this.#useLibraryFiles(fresh, this.jobId);
  }

  /**
   * The picture of an image saved outside the library (its file is out of the renderer's reach): the decoded preview of
   * its last group, the image as made, when one came. Previews are rate-limited, so the newest may predate the final
   * tokens; an edit's result also blends in the source's pixels: otherwise there is no picture but the saved file.
   */
  #wholePreview(index: number): string | null {
    const canvas = this.live.canvases[index];
    if (this.kind !== 'generate' || !canvas || canvas.decodedGroups === null) return null;
    return canvas.decodedGroups >= canvas.totalGroups ? canvas.preview : null;
  }

  /** The results show the saved files, never a preview (that may be a partial decode). */
  async #useLibraryFiles(fresh: ReadonlyArray<Result>, jobId: string | null): Promise<void> {
    const sources = await Promise.all(
      fresh.map(async (result) => {
        if (result.image.id === null) return result.src;
        // The done event names the file relative to the data folder; older hosts only give the absolute path.
        if (result.image.libraryFile) return fileUrl(result.image.libraryFile);
        try {
          const record = await this.#api.call('library.get', { id: result.image.id });
          return record.file ? fileUrl(record.file) : result.src;
        } catch {
          return result.src;
        }
      }),
    );
    this.results = this.results.map((r) => {
      const i = fresh.indexOf(r);
      return i >= 0 ? { ...r, src: sources[i] ?? r.src } : r;
    });
    if (this.jobId === jobId) this.live.finish(sources);
  }
}
