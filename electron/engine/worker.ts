// The engine's worker thread: all inference and its JavaScript arithmetic run here, so the host's event loop (IPC,
// HTTP, the UI's events) stays responsive while a model generates.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorPayload } from '../common/errors';
import { Engine, JobError } from './engine';
import type { Reply, Request, WorkerOptions } from './protocol';

const port = parentPort;
if (!port) throw new Error('engine/worker.ts runs as a worker thread');

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
