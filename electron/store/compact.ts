// The slow part of a library repair: the integrity check, the search index rebuilt from its source, VACUUM and a
// WAL checkpoint. At 100,000 rows that is seconds of synchronous SQLite, so it runs on its own connection in a worker
// thread; the host keeps serving (WAL readers see the last committed state meanwhile).
import { StudioError, type ErrorPayload } from '../common/errors';
import { startModuleWorker } from '../platform/threads';
import { corruptError, isCorruption, openDatabase } from './db';

export type CompactReport = Readonly<{ integrity: string }>;

type Reply = Readonly<{ ok: true; report: CompactReport }> | Readonly<{ ok: false; error: ErrorPayload }>;

/** Runs on the calling thread: the worker's body, and what tests call directly. */
export function compactDatabase(file: string): CompactReport {
  const db = openDatabase(file);
  try {
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>)
      .map((r) => r.integrity_check)
      .join('; ');
    db.exec("INSERT INTO search_index (search_index) VALUES ('delete-all')");
    db.exec(
      'INSERT INTO search_index (rowid, prompt, tags, boards) SELECT id, prompt, tags, boards FROM search_source',
    );
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { integrity };
  } catch (error) {
    if (isCorruption(error)) throw corruptError(file, error);
    throw error;
  } finally {
    db.close();
  }
}

/** `compactDatabase` in a worker thread; its errors come back as the same StudioErrors. */
export function compactInWorker(file: string): Promise<CompactReport> {
  // A promise settles once: the exit after a reply (or an error) changes nothing.
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, 'compact-worker', { file });
    worker.once('message', (reply: Reply) =>
      reply.ok ? resolve(reply.report) : reject(new StudioError(reply.error.code, reply.error.message)),
    );
    worker.once('error', (error) =>
      reject(new StudioError('INTERNAL', `The library maintenance thread failed: ${error.message}`, { cause: error })),
    );
    worker.once('exit', (code) =>
      reject(new StudioError('INTERNAL', `The library maintenance thread exited (code ${code}).`)),
    );
  });
}
