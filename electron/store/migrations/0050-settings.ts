// 50: studio settings that the app, web mode and the CLI share (the execution provider preference, …): one JSON value
// per key, so a new setting needs no new migration.
import type { Database } from 'better-sqlite3';

export function updateToVersion50(db: Database): void {
  db.exec(`
    CREATE TABLE settings (
      key TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
      value TEXT NOT NULL CHECK (json_valid(value)),
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
  `);
}
