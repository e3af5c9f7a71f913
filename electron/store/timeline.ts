// Timelines and fork lineage (migration 70): one row per finished generation that has a timeline.
import type { StoreContext } from './context';
import { notFound } from './context';

export type Lineage = Readonly<{ parentId: number; forkGroup: number }>;

export type StoredTimelineRow = Readonly<{
  data: Uint8Array;
  groups: number;
  parentId: number | null;
  forkGroup: number | null;
  /** Forks made from this generation, oldest first. */
  forks: ReadonlyArray<Readonly<{ id: number; group: number }>>;
}>;

export function save(ctx: StoreContext, id: number, data: Uint8Array, groups: number, lineage: Lineage | null): void {
  const exists = ctx.prepare('SELECT 1 FROM generations WHERE id = ?').pluck().get(id);
  if (!exists) throw notFound(id);
  // The parent may be gone by the time its fork finishes: the link is then dropped, the fork kept.
  const parent =
    lineage && ctx.prepare('SELECT 1 FROM generations WHERE id = ?').pluck().get(lineage.parentId) ? lineage : null;
  ctx
    .prepare(
      `INSERT INTO timelines (generation_id, data, groups, parent_id, fork_group, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (generation_id) DO UPDATE SET data = excluded.data, groups = excluded.groups,
         parent_id = excluded.parent_id, fork_group = excluded.fork_group`,
    )
    .run(id, Buffer.from(data), groups, parent?.parentId ?? null, parent?.forkGroup ?? null, ctx.now());
}

export function get(ctx: StoreContext, id: number): StoredTimelineRow | null {
  const row = ctx
    .prepare(
      'SELECT data, groups, parent_id AS parentId, fork_group AS forkGroup FROM timelines WHERE generation_id = ?',
    )
    .get(id) as { data: Buffer; groups: number; parentId: number | null; forkGroup: number | null } | undefined;
  if (!row) return null;
  const forks = ctx
    .prepare(
      'SELECT generation_id AS id, fork_group AS "group" FROM timelines WHERE parent_id = ? ORDER BY generation_id LIMIT 200',
    )
    .all(id) as Array<{ id: number; group: number }>;
  return {
    data: new Uint8Array(row.data),
    groups: row.groups,
    parentId: row.parentId,
    forkGroup: row.forkGroup,
    forks,
  };
}
