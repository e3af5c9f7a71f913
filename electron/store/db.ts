// Opens the library database: WAL, foreign keys, a busy timeout, and the schema brought up to date in one
// transaction. A file that is not a database, is damaged, or was written by a newer studio is refused with a
// typed error that says what to do next; nothing is ever overwritten to "fix" it.
import Database, { SqliteError, type Database as Db } from 'better-sqlite3';
import { StudioError } from '../common/errors';
import { LATEST_VERSION, MIGRATIONS } from './migrations';

export type { Db };

export const DB_FILE = 'library.db';

const RECOVER_HINT =
  'Run `vgt history recover` (or Settings → Library → Recover) to move it aside and rebuild the library ' +
  'from the images in the data folder; no image is deleted.';

/** SQLite failures that mean the file itself is unusable. */
export function isCorruption(error: unknown): boolean {
  return (
    error instanceof SqliteError &&
    (error.code === 'SQLITE_CORRUPT' || error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT_'))
  );
}

export function corruptError(file: string, cause?: unknown): StudioError {
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  return new StudioError(
    'DATABASE_CORRUPT',
    `The library database ${file} is damaged or not a database${detail}. ${RECOVER_HINT}`,
    { cause },
  );
}

/** Brings `db` to `target` (default: the latest version), all pending steps in one transaction. */
export function migrate(db: Db, target: number = LATEST_VERSION): Readonly<{ from: number; to: number }> {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > LATEST_VERSION) {
    throw new StudioError(
      'DATABASE_TOO_NEW',
      `The library database has schema version ${from}; this VGT Studio knows up to ${LATEST_VERSION}. ` +
        'Update VGT Studio, or point VGT_STUDIO_HOME at another folder.',
    );
  }
  const pending = MIGRATIONS.filter((m) => m.version > from && m.version <= target);
  if (pending.length === 0) return { from, to: from };
  db.transaction(() => {
    for (const migration of pending) {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
  return { from, to: Math.max(...pending.map((m) => m.version)) };
}

export type OpenOptions = Readonly<{ readonly?: boolean; migrateTo?: number }>;

/** Opens (creating if needed) and migrates the database at `file`. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: options.readonly ?? false });
    // The first statement reads the header: a non-database file fails here, not in the constructor.
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // FULL: a committed row survives power loss too, and its image file was fsynced before it.
    db.pragma('synchronous = FULL');
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    if (!options.readonly) migrate(db, options.migrateTo);
    return db;
  } catch (error) {
    db?.close();
    if (isCorruption(error)) throw corruptError(file, error);
    throw error;
  }
}
