// Messages between the host and the engine's worker thread (structured clone: typed arrays travel as they are).
import type { ReconstructResult, InlinePng } from '../common/contract';
import type { ErrorPayload } from '../common/errors';
import type { Checkpoint, EngineJob, EngineOptions, EngineOutcome, EngineProgress, EngineStatusInfo } from './engine';
import type { Fallback } from './providers';

/** What crosses into the worker: the engine's options minus functions. */
export type WorkerOptions = Omit<EngineOptions, 'sessionFactory' | 'onFallback'>;

export type Request =
  | Readonly<{ id: number; op: 'run'; job: EngineJob }>
  | Readonly<{ id: number; op: 'reconstruct'; bundleDir: string; modelId: string; image: Uint8Array }>
  | Readonly<{ id: number; op: 'decode'; bundleDir: string; checkpoint: Checkpoint }>
  | Readonly<{ id: number; op: 'status' }>
  | Readonly<{ id: number; op: 'dispose' }>
  | Readonly<{ op: 'cancel'; jobId: string }>;

export type Reply =
  | Readonly<{ op: 'progress'; jobId: string; progress: EngineProgress }>
  | Readonly<{ op: 'fallback'; fallback: Fallback }>
  | Readonly<{
      op: 'result';
      id: number;
      value: EngineOutcome | ReconstructResult | Array<InlinePng> | EngineStatusInfo | null;
    }>
  | Readonly<{ op: 'error'; id: number; error: ErrorPayload; checkpoint: Checkpoint | null }>;
