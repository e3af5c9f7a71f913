// One test per migration, each on a real database file: the schema it creates, the data it keeps, the
// constraints it enforces; plus the rules around them (one ordered list, newer databases refused, pragmas).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE, openDatabase, type Db } from '../../electron/store/db';
import { LATEST_VERSION, MIGRATIONS } from '../../electron/store/migrations';
import { tempHome } from './helpers';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

function freshFile(): string {
  const { home, cleanup } = tempHome('vgt-migrate-');
  cleanups.push(cleanup);
  return path.join(home, DB_FILE);
}

function open(file: string, migrateTo?: number): Db {
  const db = openDatabase(file, { migrateTo });
  cleanups.unshift(() => db.close());
  return db;
}

const version = (db: Db) => db.pragma('user_version', { simple: true });

/** A prompt and a finished generation with its image, written with plain SQL as version 10 knows it. */
function insertV10(db: Db, text = 'a red circle'): number {
  const promptId = db
    .prepare('INSERT INTO prompts (text, first_used_at, last_used_at, use_count) VALUES (?, 1, 1, 1) RETURNING id')
    .pluck()
    .get(text) as number;
  const hash = createHash('sha256').update(text).digest('hex');
  const imageId = db
    .prepare(
      "INSERT INTO images (hash, file, thumb, width, height, bytes, created_at) VALUES (?, 'images/x/' || ?, NULL, 8, 8, 10, 1) RETURNING id",
    )
    .pluck()
    .get(hash, hash) as number;
  return Number(
    db
      .prepare(
        `INSERT INTO generations (kind, status, prompt_id, model_id, seed, order_seed, order_kind, tokens_per_step,
           steps, cfg, cfg_schedule, width, height, image_id, created_at)
         VALUES ('generate', 'done', ?, 'm', 1, 2, 'random', 4, 30, 4.5, 'linear', 8, 8, ?, 1)`,
      )
      .run(promptId, imageId).lastInsertRowid,
  );
}

const match = (db: Db, query: string) =>
  db.prepare('SELECT rowid FROM search_index WHERE search_index MATCH ? ORDER BY rowid').pluck().all(query);

describe('migrations', () => {
  it('is one ordered list, stepping by 10, ending at LATEST_VERSION', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions.every((v) => v % 10 === 0)).toBe(true);
    expect(LATEST_VERSION).toBe(versions.at(-1));
  });

  it('opens with WAL, foreign keys, a busy timeout, and brings a new file to the latest version', () => {
    const db = open(freshFile());
    expect(version(db)).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = db
      .prepare("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")
      .all() as Array<{
      name: string;
      strict: number;
    }>;
    const ours = tables.filter((t) => !t.name.startsWith('sqlite_') && !t.name.startsWith('search_index'));
    expect(ours.length).toBeGreaterThanOrEqual(9);
    expect(ours.filter((t) => t.strict !== 1)).toEqual([]);
  });

  it('10 (library): tables, constraints and foreign keys', () => {
    const db = open(freshFile(), 10);
    expect(version(db)).toBe(10);
    const id = insertV10(db);
    // done ⇔ has an image
    expect(() => db.prepare('UPDATE generations SET image_id = NULL WHERE id = ?').run(id)).toThrow(/CHECK/);
    // STRICT: a string in an INTEGER column is refused, not stored
    expect(() => db.prepare("UPDATE generations SET seed = 'x' WHERE id = ?").run(id)).toThrow(/cannot store TEXT/);
    expect(() => db.prepare('UPDATE generations SET rating = 6 WHERE id = ?').run(id)).toThrow(/CHECK/);
    expect(() => db.prepare('UPDATE generations SET prompt_id = 999 WHERE id = ?').run(id)).toThrow(/FOREIGN KEY/);
    // an image a generation uses cannot be deleted behind its back
    expect(() => db.prepare('DELETE FROM images').run()).toThrow(/FOREIGN KEY/);
    // tags and boards go with their generation
    db.prepare("INSERT INTO tags (name, key, created_at) VALUES ('Cat', 'cat', 1)").run();
    db.prepare('INSERT INTO generation_tags (generation_id, tag_id) VALUES (?, 1)').run(id);
    db.prepare('DELETE FROM generations WHERE id = ?').run(id);
    expect(db.prepare('SELECT count(*) FROM generation_tags').pluck().get()).toBe(0);
    expect(() => db.prepare('SELECT * FROM search_index').all()).toThrow(/no such table/);
  });

  it('20 (search): indexes the rows that exist and follows prompts, tags and boards', () => {
    const file = freshFile();
    const before = open(file, 10);
    const old = insertV10(before, 'a purple triangle');
    before.close();
    const db = open(file, 20);
    expect(version(db)).toBe(20);
    expect(match(db, 'purple')).toEqual([old]);
    const fresh = insertV10(db, 'two green squares');
    expect(match(db, 'green')).toEqual([fresh]);
    db.prepare("INSERT INTO tags (name, key, created_at) VALUES ('Keeper', 'keeper', 1)").run();
    db.prepare('INSERT INTO generation_tags (generation_id, tag_id) VALUES (?, 1)').run(old);
    expect(match(db, 'tags:keeper')).toEqual([old]);
    db.prepare("UPDATE tags SET name = 'Favourite', key = 'favourite' WHERE id = 1").run();
    expect(match(db, 'keeper')).toEqual([]);
    expect(match(db, 'favourite')).toEqual([old]);
    db.prepare("INSERT INTO boards (name, key, created_at) VALUES ('Série été', 'série été', 1)").run();
    db.prepare('INSERT INTO board_items (board_id, generation_id, added_at) VALUES (1, ?, 1)').run(fresh);
    expect(match(db, 'boards:serie')).toEqual([fresh]); // diacritics folded
    db.prepare('DELETE FROM board_items').run();
    expect(match(db, 'serie')).toEqual([]);
    db.prepare('DELETE FROM generations WHERE id = ?').run(old);
    expect(match(db, 'purple OR favourite')).toEqual([]);
  });

  it('30 (queue): a queue row per waiting job, gone with its generation', () => {
    const db = open(freshFile(), 30);
    expect(version(db)).toBe(30);
    const id = insertV10(db);
    db.prepare('INSERT INTO queue (generation_id, position) VALUES (?, 0)').run(id);
    expect(() => db.prepare('INSERT INTO queue (generation_id, position) VALUES (999, 1)').run()).toThrow(
      /FOREIGN KEY/,
    );
    db.prepare('DELETE FROM generations WHERE id = ?').run(id);
    expect(db.prepare('SELECT count(*) FROM queue').pluck().get()).toBe(0);
  });

  it('40 (counts): counts the rows that exist and follows inserts, status changes and deletes', () => {
    const file = freshFile();
    const before = open(file, 30);
    insertV10(before, 'one');
    insertV10(before, 'two');
    before.close();
    const db = open(file, 40);
    const counts = () =>
      Object.fromEntries(
        (
          db.prepare('SELECT status, count FROM status_counts WHERE count > 0').all() as Array<{
            status: string;
            count: number;
          }>
        ).map((r) => [r.status, r.count]),
      );
    expect(counts()).toEqual({ done: 2 });
    const id = insertV10(db, 'three');
    db.prepare("UPDATE generations SET status = 'failed', image_id = NULL WHERE id = ?").run(id);
    expect(counts()).toEqual({ done: 2, failed: 1 });
    db.prepare("DELETE FROM generations WHERE status = 'done'").run();
    expect(counts()).toEqual({ failed: 1 });
  });

  it('50 (settings): keeps the generations, one JSON value per key, refuses what is not JSON', () => {
    const file = freshFile();
    const before = open(file, 40);
    insertV10(before);
    before.close();
    const db = open(file, 50);
    expect(db.prepare('SELECT count(*) FROM generations').pluck().get()).toBe(1);
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('provider', '\"cuda\"', 1)").run();
    expect(db.prepare("SELECT json_extract(value, '$') FROM settings WHERE key = 'provider'").pluck().get()).toBe(
      'cuda',
    );
    expect(() => db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('x', 'not json', 1)").run()).toThrow(
      /CHECK/,
    );
    expect(() => db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('', '1', 1)").run()).toThrow(
      /CHECK/,
    );
    expect(() =>
      db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('provider', '\"cpu\"', 2)").run(),
    ).toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it('60 (trash): keeps the generations, one trash row per generation, gone with its generation', () => {
    const file = freshFile();
    const before = open(file, 50);
    const id = insertV10(before);
    before.close();
    const db = open(file, 60);
    expect(db.prepare('SELECT count(*) FROM generations').pluck().get()).toBe(1);
    db.prepare('INSERT INTO trash (generation_id, trashed_at) VALUES (?, 5)').run(id);
    expect(() => db.prepare('INSERT INTO trash (generation_id, trashed_at) VALUES (?, 6)').run(id)).toThrow(
      /UNIQUE|PRIMARY KEY/,
    );
    expect(() => db.prepare('INSERT INTO trash (generation_id, trashed_at) VALUES (999, 6)').run()).toThrow(
      /FOREIGN KEY/,
    );
    db.prepare('DELETE FROM generations WHERE id = ?').run(id);
    expect(db.prepare('SELECT count(*) FROM trash').pluck().get()).toBe(0);
  });

  it('refuses a database from a newer studio, and leaves it untouched', () => {
    const file = freshFile();
    const db = open(file);
    db.pragma(`user_version = ${LATEST_VERSION + 10}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(expect.objectContaining({ code: 'DATABASE_TOO_NEW' }));
    const again = openDatabase(file, { readonly: true });
    expect(version(again)).toBe(LATEST_VERSION + 10);
    again.close();
  });

  it('refuses a file that is not a database with DATABASE_CORRUPT and a way out', () => {
    const file = freshFile();
    writeFileSync(file, 'these are not the pages you are looking for '.repeat(200));
    expect(() => openDatabase(file)).toThrow(
      expect.objectContaining({ code: 'DATABASE_CORRUPT', message: expect.stringMatching(/vgt history recover/) }),
    );
  });
});
