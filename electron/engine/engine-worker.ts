// The engine's worker thread: all inference and its JavaScript arithmetic run here, so the host's event loop (IPC,
// HTTP, the UI's events) stays responsive while a model generates.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorPayload } from '../common/errors';
import { Engine, JobError } from './engine';
import type { Reply, Request, WorkerOptions } from './protocol';

const port = parentPort;
if (!port) throw new Error('engine/engine-worker.ts runs as a worker thread');

// On Linux a nice value belongs to a thread (and the threads it starts, such as onnxruntime's pools): the engine
// yields the CPU to the host's event loop when the machine is busy. Elsewhere it would slow the whole app, so not.
if (process.platform === 'linux') {
  try {
    setPriority(0, 10);
  } catch {
    // Not allowed here (some containers): run at normal priority.
  }
}

const post = (reply: Reply): void => port.postMessage(reply);
const engine = new Engine({
  ...(workerData as WorkerOptions),
  onFallback: (fallback) => post({ op: 'fallback', fallback }),
});

async function handle(request: Exclude<Request, { op: 'cancel' }>): Promise<void> {
  try {
    switch (request.op) {
      case 'run': {
        const { jobId } = request.job;
        const value = await engine.run(request.job, (progress) => post({ op: 'progress', jobId, progress }));
        return post({ op: 'result', id: request.id, value });
      }
      case 'reconstruct':
        return post({
          op: 'result',
          id: request.id,
          value: await engine.reconstruct(request.bundleDir, request.modelId, request.image),
        });
      case 'decode':
        return post({
          op: 'result',
          id: request.id,
          value: await engine.decodeCheckpoint(request.bundleDir, request.checkpoint),
        });
      case 'status':
        return post({ op: 'result', id: request.id, value: engine.status() });
      case 'dispose':
        await engine.dispose();
        return post({ op: 'result', id: request.id, value: null });
    }
  } catch (error) {
    post({
      op: 'error',
      id: request.id,
      error: toErrorPayload(error),
      checkpoint: error instanceof JobError ? error.checkpoint : null,
    });
  }
}

port.on('message', (request: Request) => {
  if (request.op === 'cancel') engine.cancel(request.jobId);
  else void handle(request);
});
