// The host's handle on the engine's worker thread: the Engine's API, with every call answered by the worker.
// Running from TypeScript sources (CLI, web mode, tests), the worker registers tsx first; a build ships engine-worker.js.
import type { Worker } from 'node:worker_threads';
import type { InlinePng, ReconstructResult } from '../common/contract';
import { StudioError } from '../common/errors';
import { startModuleWorker } from '../platform/threads';
import {
  JobError,
  type Checkpoint,
  type EngineJob,
  type EngineOutcome,
  type EngineProgress,
  type EngineStatusInfo,
} from './engine';
import type { Fallback } from './providers';
import type { Reply, Request, WorkerOptions } from './protocol';

/** What the host needs of an engine; the in-process Engine and EngineThread both provide it. */
export type EngineApi = Readonly<{
  run(job: EngineJob, onProgress: (progress: EngineProgress) => void): Promise<EngineOutcome>;
  cancel(jobId: string): void;
  reconstruct(bundleDir: string, modelId: string, image: Uint8Array): Promise<ReconstructResult>;
  decodeCheckpoint(bundleDir: string, checkpoint: Checkpoint): Promise<Array<InlinePng>>;
  status(): EngineStatusInfo | Promise<EngineStatusInfo>;
  dispose(): Promise<void>;
}>;

// onnxruntime's first initialisation recurses in proportion to the process's command line; a `vgt generate` with a
// 100 kB prompt overflowed the worker's default 4 MB stack (segfault). 64 MB is reserved, not committed.
const WORKER_LIMITS = { stackSizeMb: 64 };

function startWorker(options: WorkerOptions): Worker {
  return startModuleWorker(import.meta.url, 'engine-worker', options, WORKER_LIMITS);
}

/** A request without its id (distributes over the union). */
type Call = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

type Pending = Readonly<{ resolve: (value: unknown) => void; reject: (error: unknown) => void }>;

export class EngineThread implements EngineApi {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #progress = new Map<string, (progress: EngineProgress) => void>();
  #nextId = 1;
  #dead: StudioError | null = null;

  constructor(options: WorkerOptions = {}, onFallback?: (fallback: Fallback) => void) {
    this.#worker = startWorker(options);
    this.#worker.on('message', (reply: Reply) => {
      if (reply.op === 'progress') return this.#progress.get(reply.jobId)?.(reply.progress);
      if (reply.op === 'fallback') return onFallback?.(reply.fallback);
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.op === 'result') pending?.resolve(reply.value);
      else pending?.reject(new JobError(reply.error, reply.checkpoint));
    });
    // A crashed worker fails what it was doing; the next engine is a new worker (the runner makes one).
    const fail = (error: StudioError): void => {
      this.#dead ??= error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', (error) => fail(new StudioError('INTERNAL', `The engine stopped: ${error.message}`)));
    this.#worker.on('exit', (code) => fail(new StudioError('INTERNAL', `The engine exited (code ${code}).`)));
  }

  get alive(): boolean {
    return this.#dead === null;
  }

  #call<T>(request: Call): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  async run(job: EngineJob, onProgress: (progress: EngineProgress) => void): Promise<EngineOutcome> {
    this.#progress.set(job.jobId, onProgress);
    try {
      return await this.#call<EngineOutcome>({ op: 'run', job });
    } finally {
      this.#progress.delete(job.jobId);
    }
  }

  cancel(jobId: string): void {
    if (!this.#dead) this.#worker.postMessage({ op: 'cancel', jobId } satisfies Request);
  }

  reconstruct(bundleDir: string, modelId: string, image: Uint8Array): Promise<ReconstructResult> {
    return this.#call({ op: 'reconstruct', bundleDir, modelId, image });
  }

  decodeCheckpoint(bundleDir: string, checkpoint: Checkpoint): Promise<Array<InlinePng>> {
    return this.#call({ op: 'decode', bundleDir, checkpoint });
  }

  status(): Promise<EngineStatusInfo> {
    return this.#call({ op: 'status' });
  }

  async dispose(): Promise<void> {
    if (!this.#dead) await this.#call({ op: 'dispose' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}
