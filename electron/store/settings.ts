// Settings rows: a key and a JSON value. The store keeps them as given; the host validates them against the contract
// (a value it cannot read falls back to its default there, so an old or hand-edited row never blocks the studio).
import { StudioError } from '../common/errors';
import type { StoreContext } from './context';

export type StoredSettings = Readonly<Record<string, unknown>>;

export function read(ctx: StoreContext): StoredSettings {
  const rows = ctx.prepare('SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>;
  const out: Record<string, unknown> = {};
  for (const { key, value } of rows) {
    try {
      out[key] = JSON.parse(value) as unknown;
    } catch {
      // json_valid guards the column; a value SQLite accepts but JSON.parse does not is skipped, never fatal.
    }
  }
  return out;
}

/** Saves every key of `patch` in one transaction; `undefined` values are left out. */
export function write(ctx: StoreContext, patch: StoredSettings): void {
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  for (const [key] of entries) {
    if (key.length < 1 || key.length > 64) throw new StudioError('INVALID_PAYLOAD', `Bad settings key ${key}.`);
  }
  const now = ctx.now();
  ctx.db
    .transaction(() => {
      const upsert = ctx.prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      );
      for (const [key, value] of entries) upsert.run(key, JSON.stringify(value), now);
    })
    .immediate();
}
