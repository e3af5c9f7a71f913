// Worker thread entry of compact.ts: one compaction of the database file it is given, then exit.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorPayload } from '../common/errors';
import { compactDatabase } from './compact';

const port = parentPort;
if (!port) throw new Error('store/compact-worker.ts runs as a worker thread');
const { file } = workerData as { file: string };
try {
  port.postMessage({ ok: true, report: compactDatabase(file) });
} catch (error) {
  port.postMessage({ ok: false, error: toErrorPayload(error) });
}
