// 70: timelines and lineage. A finished generation keeps its timeline (token order, group sizes and the committed
// latents as half floats, deflated: a few kB) so any point of it can be shown or forked later; a fork records its
// parent and the group it kept. A separate table keeps the gallery's rows and indexes as they were.
import type { Database } from 'better-sqlite3';

export function updateToVersion70(db: Database): void {
  db.exec(`
    CREATE TABLE timelines (
      generation_id INTEGER PRIMARY KEY REFERENCES generations (id) ON DELETE CASCADE,
      data BLOB NOT NULL CHECK (length(data) BETWEEN 1 AND 4194304),
      groups INTEGER NOT NULL CHECK (groups >= 0),
      -- A fork: the generation it continued (null once that one is deleted) and how many of its groups it kept.
      parent_id INTEGER REFERENCES generations (id) ON DELETE SET NULL,
      fork_group INTEGER CHECK (fork_group IS NULL OR fork_group >= 0),
      created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX timelines_by_parent ON timelines (parent_id) WHERE parent_id IS NOT NULL;
  `);
}
