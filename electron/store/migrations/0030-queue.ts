// 30: the persistent generation queue. A queued or running generation has a row here; the row goes when the
// job ends. `owner_pid` is the process running the job, so a restart can tell a job whose process died
// (interrupted) from one another live process (the CLI beside the app) is still running.
import type { Database } from 'better-sqlite3';

export function updateToVersion30(db: Database): void {
  db.exec(`
    CREATE TABLE queue (
      generation_id INTEGER PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      owner_pid INTEGER,
      cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1))
    ) STRICT;
    CREATE INDEX queue_by_position ON queue (position);
  `);
}
