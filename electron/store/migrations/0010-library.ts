// 10: the library's core tables. Prompts are stored once (history: first/last use, count); an image is a
// content-addressed file that generations refer to as their output or as the source of an edit/reconstruction.
import type { Database } from 'better-sqlite3';

export function updateToVersion10(db: Database): void {
  db.exec(`
    CREATE TABLE prompts (
      id INTEGER PRIMARY KEY,
      text TEXT NOT NULL UNIQUE,
      first_used_at INTEGER NOT NULL,
      last_used_at INTEGER NOT NULL,
      use_count INTEGER NOT NULL DEFAULT 0 CHECK (use_count >= 0)
    ) STRICT;

    CREATE TABLE images (
      id INTEGER PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
      file TEXT NOT NULL UNIQUE,
      thumb TEXT UNIQUE,
      width INTEGER NOT NULL CHECK (width > 0),
      height INTEGER NOT NULL CHECK (height > 0),
      bytes INTEGER NOT NULL CHECK (bytes > 0),
      created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE generations (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('generate', 'edit', 'reconstruct')),
      status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
      prompt_id INTEGER NOT NULL REFERENCES prompts (id),
      negative_prompt_id INTEGER REFERENCES prompts (id),
      model_id TEXT NOT NULL,
      bundle_hash TEXT,
      provider TEXT,
      seed INTEGER NOT NULL,
      order_seed INTEGER NOT NULL,
      order_kind TEXT NOT NULL CHECK (order_kind IN ('random', 'raster')),
      tokens_per_step INTEGER NOT NULL CHECK (tokens_per_step > 0),
      steps INTEGER NOT NULL CHECK (steps > 0),
      cfg REAL NOT NULL,
      cfg_schedule TEXT NOT NULL CHECK (cfg_schedule IN ('linear', 'constant')),
      width INTEGER NOT NULL CHECK (width > 0),
      height INTEGER NOT NULL CHECK (height > 0),
      extra TEXT CHECK (extra IS NULL OR json_valid(extra)),
      -- Images are deleted by the library once no generation refers to them, never by cascade.
      source_image_id INTEGER REFERENCES images (id),
      image_id INTEGER REFERENCES images (id),
      favorite INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1)),
      rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      timings TEXT CHECK (timings IS NULL OR json_valid(timings)),
      error TEXT,
      -- A finished generation always has its image; nothing else does.
      CHECK ((status = 'done') = (image_id IS NOT NULL))
    ) STRICT;

    -- The gallery: equality on status (and favorite / model) then newest first by id.
    CREATE INDEX generations_by_status ON generations (status, id);
    CREATE INDEX generations_by_favorite ON generations (status, favorite, id);
    CREATE INDEX generations_by_rating ON generations (status, rating, id);
    CREATE INDEX generations_by_model ON generations (status, model_id, id);
    CREATE INDEX generations_by_created ON generations (created_at);
    CREATE INDEX generations_by_prompt ON generations (prompt_id);
    CREATE INDEX generations_by_negative_prompt ON generations (negative_prompt_id);
    CREATE INDEX generations_by_image ON generations (image_id);
    CREATE INDEX generations_by_source ON generations (source_image_id);

    CREATE TABLE tags (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      -- The name folded to lower case: "Cat" and "cat" are one tag.
      key TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE generation_tags (
      generation_id INTEGER NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
      PRIMARY KEY (generation_id, tag_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX generation_tags_by_tag ON generation_tags (tag_id, generation_id);

    CREATE TABLE boards (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      key TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE board_items (
      board_id INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
      generation_id INTEGER NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
      added_at INTEGER NOT NULL,
      PRIMARY KEY (board_id, generation_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX board_items_by_generation ON board_items (generation_id);

    -- Files being written: registered before the file exists and removed in the transaction that records it,
    -- so a process killed in between leaves a row that names exactly what to clean up.
    -- The same rows let processes sharing the folder (app and CLI) keep out of each other's way: a file being
    -- written is not removed, a file being removed is not reused until it is gone.
    CREATE TABLE pending_files (
      path TEXT NOT NULL,
      pid INTEGER NOT NULL,
      purpose TEXT NOT NULL CHECK (purpose IN ('write', 'remove')),
      created_at INTEGER NOT NULL,
      PRIMARY KEY (path, pid, purpose)
    ) STRICT;
  `);
}
