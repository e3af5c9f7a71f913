// The queue pump: the session's jobs and the loop that runs them one at a time. Jobs with history wait in the
// library's persistent queue (the pump claims them from it, so retries, reorders and jobs left by an earlier session
// run too; a batch is claimed together while the queue keeps it together); jobs without history wait in memory.
import type { JobKind, JobState } from '../common/contract';
import type { ReplayParams } from '../common/api/library';
import type { Checkpoint } from '../engine/engine';
import type { JobPlan } from '../engine/plan';
import type { Job as LibraryJob, Library } from '../store/library';
import type { PlannedEdit } from './job-planner';

export type Run = {
  jobId: string;
  kind: JobKind;
  state: JobState;
  prompt: string;
  createdAt: string;
  committed: number;
  total: number;
  modelId: string;
  /** The bundle folder it was planned on ('' until a job adopted from the queue is planned). */
  bundleDir: string;
  history: boolean;
  /** In the library's queue (app and web mode); the CLI runs its own jobs directly and records them at the end. */
  queued: boolean;
  previews: boolean;
  /** Library generation ids, one per image (history only). */
  libraryIds: Array<number>;
  /** Per image: what the library records and the PNG carries. */
  params: Array<ReplayParams>;
  /** The engine's plan, one order per image (null until a job adopted from the queue is planned). */
  plan: JobPlan | null;
  /** An edit's input; for an adopted edit, read from `sourcePath` when it is planned. */
  edit: PlannedEdit | null;
  sourcePath: string | null;
  checkpoint: Checkpoint | null;
};

export type Claimed = Readonly<{ run: Run; ids: ReadonlyArray<number> }>;

export type QueuePumpOptions = Readonly<{
  library: () => Promise<Library>;
  /** Runs one claimed job to its end (it reports its own errors). */
  execute: (claimed: Claimed) => Promise<void>;
}>;

export class QueuePump {
  /** Every job of this session by job id. */
  readonly runs = new Map<string, Run>();
  /** Jobs without history, in order. */
  readonly memory: Array<Run> = [];
  readonly #byLibraryId = new Map<number, Run>();
  readonly #options: QueuePumpOptions;
  #current: Run | null = null;
  #carry: LibraryJob | null = null;
  #pumping = false;
  /** Submissions enqueueing right now: their own queue announcements must not start a half-registered batch. */
  #submitting = 0;
  #wake = false;
  #disposed = false;

  constructor(options: QueuePumpOptions) {
    this.#options = options;
  }

  /** The job running now. */
  get current(): Run | null {
    return this.#current;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Adds a job of this session (its library ids, if queued, are set). */
  register(run: Run): void {
    this.runs.set(run.jobId, run);
    for (const id of run.libraryIds) this.#byLibraryId.set(id, run);
  }

  /** Enqueues a batch: until it is all registered, the queue's announcements do not claim any of it. */
  async submitting<T>(work: () => Promise<T>): Promise<T> {
    this.#submitting++;
    try {
      return await work();
    } finally {
      this.#submitting--;
    }
  }

  /** A job became queued in the library (a retry, a reorder, another window's submission). */
  queued(): void {
    if (this.#submitting === 0) this.pump();
  }

  pump(): void {
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
            this.#current = next.run;
            try {
              await this.#options.execute(next);
            } finally {
              this.#current = null;
            }
          }
        } while (this.#wake && !this.#disposed);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #next(): Promise<Claimed | null> {
    const memory = this.memory.shift();
    if (memory) return { run: memory, ids: [] };
    // A batch being enqueued is claimed once all of it is registered (its submit pumps again).
    if (this.#submitting > 0) return null;
    let library: Library;
    try {
      library = await this.#options.library();
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
    return { run, ids };
  }

  /** A job this session did not submit (a retry, or left by an earlier session): planned when it runs. */
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
      plan: null,
      edit: null,
      sourcePath: p.kind === 'edit' ? job.sourcePath : null,
      checkpoint: null,
    };
    this.register(run);
    return run;
  }

  /** No job starts from now on. */
  dispose(): void {
    this.#disposed = true;
  }
}
