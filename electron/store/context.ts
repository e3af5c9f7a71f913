// What the library's modules share: the open database, the data folder, a clock, cached statements, and the
// change feed. Each module is plain functions of this context.
import type { Statement } from 'better-sqlite3';
import type { RecordStatus } from '../common/api/library';
import { StudioError } from '../common/errors';
import type { Db } from './db';

export type LibraryChange =
  | Readonly<{ kind: 'generations'; change: 'added' | 'updated' | 'removed'; ids: ReadonlyArray<number> }>
  | Readonly<{ kind: 'queue'; id: number; status: RecordStatus; cancelRequested: boolean }>;

export type StoreContext = Readonly<{
  db: Db;
  home: string;
  now: () => number;
  prepare: (sql: string) => Statement;
  emit: (change: LibraryChange) => void;
}>;

export function createContext(
  db: Db,
  home: string,
  now: () => number,
  emit: (change: LibraryChange) => void,
): StoreContext {
  const cache = new Map<string, Statement>();
  return {
    db,
    home,
    now,
    emit,
    prepare: (sql) => {
      let statement = cache.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** `?, ?, ?` for an IN list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export function notFound(id: number): StudioError {
  return new StudioError('NOT_FOUND', `No generation ${id} in the library.`);
}
