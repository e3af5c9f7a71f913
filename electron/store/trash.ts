// The trash: delete in the studio moves generations here first. A trashed generation leaves the gallery, search,
// boards and tag counts, keeps its files, and comes back with restore. Emptying (all, some, or what is older than
// TRASH_KEEP_DAYS, done at open) deletes for good through organize.remove.
import { TRASH_KEEP_DAYS } from '../common/api/library';
import { StudioError } from '../common/errors';
import { placeholders, type StoreContext } from './context';
import { remove } from './organize';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Moves generations to the trash (already trashed ones keep their date); queued or running jobs are refused. */
export function trash(ctx: StoreContext, ids: ReadonlyArray<number>): Readonly<{ trashed: number }> {
  const moved = ctx.db
    .transaction(() => {
      const rows = ctx
        .prepare(`SELECT id, status FROM generations WHERE id IN (${placeholders(ids.length)})`)
        .all(...ids) as Array<{ id: number; status: string }>;
      const busy = rows.find((r) => r.status === 'running' || r.status === 'queued');
      if (busy) {
        throw new StudioError('BUSY', `Generation ${busy.id} is ${busy.status}; cancel it before deleting.`);
      }
      const put = ctx.prepare('INSERT OR IGNORE INTO trash (generation_id, trashed_at) VALUES (?, ?)');
      const now = ctx.now();
      return rows.filter((r) => put.run(r.id, now).changes > 0).map((r) => r.id);
    })
    .immediate();
  if (moved.length > 0) ctx.emit({ kind: 'generations', change: 'removed', ids: moved });
  return { trashed: moved.length };
}

/** Takes generations out of the trash, back into the gallery where they were (same id, same date). */
export function restore(ctx: StoreContext, ids: ReadonlyArray<number>): Readonly<{ restored: number }> {
  const back = ctx.db
    .transaction(() => {
      const out = ctx.prepare('DELETE FROM trash WHERE generation_id = ?');
      return ids.filter((id) => out.run(id).changes > 0);
    })
    .immediate();
  if (back.length > 0) ctx.emit({ kind: 'generations', change: 'added', ids: back });
  return { restored: back.length };
}

/** Deletes for good what is in the trash: everything, or only `ids` among it (ids not in the trash are left alone). */
export async function emptyTrash(
  ctx: StoreContext,
  ids?: ReadonlyArray<number>,
): Promise<Readonly<{ deleted: number; filesRemoved: number }>> {
  const inTrash = (
    ids === undefined
      ? ctx.prepare('SELECT generation_id FROM trash').pluck().all()
      : ctx
          .prepare(`SELECT generation_id FROM trash WHERE generation_id IN (${placeholders(ids.length)})`)
          .pluck()
          .all(...ids)
  ) as Array<number>;
  return deleteInChunks(ctx, inTrash);
}

/** Deletes for good what has been in the trash longer than TRASH_KEEP_DAYS. */
export async function purgeExpired(ctx: StoreContext): Promise<number> {
  const before = ctx.now() - TRASH_KEEP_DAYS * DAY_MS;
  const old = ctx.prepare('SELECT generation_id FROM trash WHERE trashed_at < ?').pluck().all(before) as Array<number>;
  return (await deleteInChunks(ctx, old)).deleted;
}

/** When a generation went to the trash (epoch ms), or null when it is not there. */
export function trashedAt(ctx: StoreContext, id: number): number | null {
  return (ctx.prepare('SELECT trashed_at FROM trash WHERE generation_id = ?').pluck().get(id) as number) ?? null;
}

/** SQLite limits bound parameters: big trashes are deleted 500 at a time. */
async function deleteInChunks(
  ctx: StoreContext,
  ids: ReadonlyArray<number>,
): Promise<Readonly<{ deleted: number; filesRemoved: number }>> {
  let deleted = 0;
  let filesRemoved = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const done = await remove(ctx, ids.slice(i, i + 500));
    deleted += done.deleted;
    filesRemoved += done.filesRemoved;
  }
  return { deleted, filesRemoved };
}
