// 60: the trash. A deleted generation first moves here (one row per generation, with when): it leaves the gallery,
// its files stay, and it can be restored until the trash is emptied (on request, or 30 days later, at open).
// A separate table rather than a column keeps the gallery's indexes and the per-status counters untouched.
import type { Database } from 'better-sqlite3';

export function updateToVersion60(db: Database): void {
  db.exec(`
    CREATE TABLE trash (
      generation_id INTEGER PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,
      trashed_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX trash_by_time ON trash (trashed_at);
  `);
}
