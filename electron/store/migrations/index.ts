// The one ordered list of schema migrations. Each step's number is the `PRAGMA user_version` it leaves behind;
// numbers go up by 10 so a fix can slot in between. Never edit a shipped migration: add the next one.
import type { Database } from 'better-sqlite3';
import { updateToVersion10 } from './0010-library';
import { updateToVersion20 } from './0020-search';
import { updateToVersion30 } from './0030-queue';
import { updateToVersion40 } from './0040-counts';
import { updateToVersion50 } from './0050-settings';
import { updateToVersion60 } from './0060-trash';
import { updateToVersion70 } from './0070-timeline';

export type Migration = Readonly<{ version: number; name: string; up: (db: Database) => void }>;

export const MIGRATIONS: ReadonlyArray<Migration> = [
  { version: 10, name: 'library', up: updateToVersion10 },
  { version: 20, name: 'search', up: updateToVersion20 },
  { version: 30, name: 'queue', up: updateToVersion30 },
  { version: 40, name: 'counts', up: updateToVersion40 },
  { version: 50, name: 'settings', up: updateToVersion50 },
  { version: 60, name: 'trash', up: updateToVersion60 },
  { version: 70, name: 'timeline', up: updateToVersion70 },
];

MIGRATIONS.reduce((previous, m) => {
  if (m.version <= previous) throw new Error(`Migrations out of order at version ${m.version}`);
  return m.version;
}, 0);

export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
