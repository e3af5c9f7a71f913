// The persistent generation queue. A job is a generation row (status queued → running → done | failed |
// cancelled) plus a `queue` row while it waits or runs. Claiming, finishing and reordering are transactions, so
// two processes sharing the data folder never run the same job, and a job whose process died is found again.
import type { RecordStatus, QueueItem, ReplayParams, Timings } from '../common/api/library';
import { StudioError } from '../common/errors';
import { iso, isoOrNull, notFound, type StoreContext } from './context';
import { absolute, isAlive } from './files';
import { paramsOf, recordRow } from './gallery';
import {
  checkParams,
  checkTimings,
  insertGeneration,
  sourceId,
  stageSource,
  storeResult,
  type RecordedImage,
} from './records';

/** More than this many waiting jobs is refused: a queue is a plan for the next hours, not a backlog store. */
export const QUEUE_MAX = 10_000;
const INTERRUPTED_SHOWN = 100;
const ACTIVE_SHOWN = 500;

export const INTERRUPTED_MESSAGE = 'The studio stopped while this was running; retry it to run it again.';

export type Job = Readonly<{
  id: number;
  params: ReplayParams;
  /** The source image of an edit or reconstruction, as an absolute path. */
  sourcePath: string | null;
}>;

type QueueRow = { id: number; status: RecordStatus; position: number | null; cancel_requested: number | null };

function status(ctx: StoreContext, id: number): QueueRow {
  const row = ctx
    .prepare(
      `SELECT g.id, g.status, q.position, q.cancel_requested FROM generations g
       LEFT JOIN queue q ON q.generation_id = g.id WHERE g.id = ?`,
    )
    .get(id) as QueueRow | undefined;
  if (!row) throw notFound(id);
  return row;
}

/** One job; `position` is computed when not given (a list already knows it). */
export function queueItem(ctx: StoreContext, id: number, knownPosition?: number | null): QueueItem {
  const row = recordRow(ctx, id);
  const q = status(ctx, id);
  const position =
    knownPosition !== undefined
      ? knownPosition
      : q.status === 'queued' && q.position !== null
        ? (ctx.prepare('SELECT count(*) FROM queue WHERE position < ?').pluck().get(q.position) as number)
        : null;
  return {
    id,
    status: row.status,
    position,
    cancelRequested: q.cancel_requested === 1,
    params: paramsOf(row),
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    error: row.error,
  };
}

function announce(ctx: StoreContext, id: number): void {
  const q = status(ctx, id);
  ctx.emit({ kind: 'queue', id, status: q.status, cancelRequested: q.cancel_requested === 1 });
}

/** Where a new job went: its id and its place among the waiting jobs (0 = next), known without reading it back. */
export type Enqueued = Readonly<{ id: number; position: number }>;

/** Adds a job at the end of the queue (or the front). `source`: the bytes of an edit's source image, if new. */
export async function enqueue(
  ctx: StoreContext,
  params: ReplayParams,
  options: Readonly<{ front?: boolean; source?: Uint8Array }> = {},
): Promise<Enqueued> {
  const p = checkParams(params);
  const source = await stageSource(ctx, p, options.source);
  const enqueued = ctx.db
    .transaction((): Enqueued => {
      const waiting = ctx.prepare('SELECT count(*) FROM queue').pluck().get() as number;
      if (waiting >= QUEUE_MAX) throw new StudioError('BUSY', `The queue already holds ${QUEUE_MAX} jobs.`);
      const id = insertGeneration(ctx, p, {
        status: 'queued',
        imageId: null,
        sourceImageId: sourceId(ctx, source),
        timings: null,
        startedAt: null,
        finishedAt: null,
      });
      const edge = ctx
        .prepare(`SELECT ${options.front ? 'min(position) - 1' : 'max(position) + 1'} FROM queue`)
        .pluck()
        .get() as number | null;
      ctx.prepare('INSERT INTO queue (generation_id, position) VALUES (?, ?)').run(id, edge ?? 0);
      // Every job already in the queue sits before the new one, or none when it goes to the front.
      return { id, position: options.front ? 0 : waiting };
    })
    .immediate();
  announce(ctx, enqueued.id);
  return enqueued;
}

/** Claims the first waiting job for this process (queued → running), or null when none waits. */
export function nextJob(ctx: StoreContext): Job | null {
  const claimed = ctx.db
    .transaction(() => {
      const id = ctx
        .prepare(
          `SELECT q.generation_id FROM queue q JOIN generations g ON g.id = q.generation_id
           WHERE g.status = 'queued' ORDER BY q.position LIMIT 1`,
        )
        .pluck()
        .get() as number | undefined;
      if (id === undefined) return null;
      ctx
        .prepare("UPDATE generations SET status = 'running', started_at = ?, error = NULL WHERE id = ?")
        .run(ctx.now(), id);
      ctx.prepare('UPDATE queue SET owner_pid = ? WHERE generation_id = ?').run(process.pid, id);
      return id;
    })
    .immediate();
  if (claimed === null) return null;
  announce(ctx, claimed);
  const row = recordRow(ctx, claimed);
  return {
    id: claimed,
    params: paramsOf(row),
    sourcePath: row.source_file === null ? null : absolute(ctx.home, row.source_file),
  };
}

function requireStatus(ctx: StoreContext, id: number, allowed: ReadonlyArray<RecordStatus>): QueueRow {
  const row = status(ctx, id);
  if (!allowed.includes(row.status)) {
    throw new StudioError('NOT_FOUND', `Job ${id} is ${row.status}, not ${allowed.join(' or ')}.`);
  }
  return row;
}

/**
 * The running job finished: its image is recorded and it leaves the queue. `provider`: the execution provider that ran
 * it (known only now), kept in the row and the PNG's parameters.
 */
export async function markDone(
  ctx: StoreContext,
  id: number,
  png: Uint8Array,
  timings?: Timings,
  provider?: string | null,
): Promise<RecordedImage> {
  requireStatus(ctx, id, ['running']);
  const timingsJson = checkTimings(timings);
  const stored = paramsOf(recordRow(ctx, id));
  const params = provider ? { ...stored, provider: provider.slice(0, 64) } : stored;
  const recorded = await storeResult(ctx, params, png, undefined, (imageId) => {
    const changed = ctx
      .prepare(
        `UPDATE generations SET status = 'done', image_id = ?, finished_at = ?, timings = ?, error = NULL,
           provider = ? WHERE id = ? AND status = 'running'`,
      )
      .run(imageId, ctx.now(), timingsJson, params.provider, id).changes;
    if (changed === 0) throw new StudioError('NOT_FOUND', `Job ${id} stopped running before it finished.`);
    ctx.prepare('DELETE FROM queue WHERE generation_id = ?').run(id);
    return id;
  });
  announce(ctx, id);
  ctx.emit({ kind: 'generations', change: 'added', ids: [id] });
  return recorded;
}

/** Ends a job without an image: failed (with the error) or cancelled. */
export function markEnded(
  ctx: StoreContext,
  id: number,
  outcome: 'failed' | 'cancelled',
  error: string | null,
  timings?: Timings,
): void {
  const timingsJson = checkTimings(timings);
  ctx.db
    .transaction(() => {
      requireStatus(ctx, id, outcome === 'cancelled' ? ['queued', 'running'] : ['running']);
      ctx
        .prepare('UPDATE generations SET status = ?, error = ?, finished_at = ?, timings = ? WHERE id = ?')
        .run(outcome, error === null ? null : error.slice(0, 4096), ctx.now(), timingsJson, id);
      ctx.prepare('DELETE FROM queue WHERE generation_id = ?').run(id);
    })
    .immediate();
  announce(ctx, id);
}

/** Whether someone asked the running job to stop (the engine checks between token groups). */
export function isCancelRequested(ctx: StoreContext, id: number): boolean {
  return ctx.prepare('SELECT cancel_requested FROM queue WHERE generation_id = ?').pluck().get(id) === 1;
}

/** Cancels a waiting job at once; asks a running one to stop (the engine then calls markCancelled). */
export function cancel(ctx: StoreContext, id: number): QueueItem {
  const row = status(ctx, id);
  if (row.status === 'queued') markEnded(ctx, id, 'cancelled', null);
  else if (row.status === 'running') {
    ctx.prepare('UPDATE queue SET cancel_requested = 1 WHERE generation_id = ?').run(id);
    announce(ctx, id);
  } else
    throw new StudioError('NOT_FOUND', `Job ${id} is ${row.status}; only waiting or running jobs can be cancelled.`);
  return queueItem(ctx, id);
}

/** Puts an interrupted, failed or cancelled job back at the end of the queue. */
export function retry(ctx: StoreContext, id: number): QueueItem {
  ctx.db
    .transaction(() => {
      requireStatus(ctx, id, ['interrupted', 'failed', 'cancelled']);
      const end = ctx.prepare('SELECT max(position) + 1 FROM queue').pluck().get() as number | null;
      ctx
        .prepare(
          "UPDATE generations SET status = 'queued', error = NULL, started_at = NULL, finished_at = NULL WHERE id = ?",
        )
        .run(id);
      ctx.prepare('INSERT INTO queue (generation_id, position) VALUES (?, ?)').run(id, end ?? 0);
    })
    .immediate();
  announce(ctx, id);
  return queueItem(ctx, id);
}

/** Moves a waiting job before another waiting job, or to the end (`before` null). */
export function move(ctx: StoreContext, id: number, before: number | null): void {
  ctx.db
    .transaction(() => {
      requireStatus(ctx, id, ['queued']);
      if (before !== null) requireStatus(ctx, before, ['queued']);
      const order = (
        ctx.prepare('SELECT generation_id FROM queue ORDER BY position').pluck().all() as Array<number>
      ).filter((x) => x !== id);
      const at = before === null ? order.length : order.indexOf(before);
      order.splice(at, 0, id);
      const set = ctx.prepare('UPDATE queue SET position = ? WHERE generation_id = ?');
      order.forEach((job, index) => set.run(index, job));
    })
    .immediate();
  announce(ctx, id);
}

/** Jobs that were running in a process that no longer exists become `interrupted`. Returns their ids. */
export function recoverInterrupted(ctx: StoreContext): Array<number> {
  const ids = ctx.db
    .transaction(() => {
      const running = ctx
        .prepare(
          `SELECT q.generation_id AS id, q.owner_pid AS pid FROM queue q JOIN generations g ON g.id = q.generation_id
           WHERE g.status = 'running'`,
        )
        .all() as Array<{ id: number; pid: number | null }>;
      const dead = running.filter((r) => r.pid === null || (r.pid !== process.pid && !isAlive(r.pid)));
      for (const { id } of dead) {
        ctx
          .prepare("UPDATE generations SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ?")
          .run(INTERRUPTED_MESSAGE, ctx.now(), id);
        ctx.prepare('DELETE FROM queue WHERE generation_id = ?').run(id);
      }
      return dead.map((r) => r.id);
    })
    .immediate();
  for (const id of ids) announce(ctx, id);
  return ids;
}

/** Running jobs, the first ACTIVE_SHOWN waiting jobs in order, then the most recent interrupted ones. */
export function list(ctx: StoreContext): Array<QueueItem> {
  const active = ctx
    .prepare(
      `SELECT q.generation_id AS id, g.status = 'running' AS running FROM queue q
       JOIN generations g ON g.id = q.generation_id ORDER BY running DESC, q.position LIMIT ?`,
    )
    .all(ACTIVE_SHOWN) as Array<{ id: number; running: number }>;
  const interrupted = ctx
    .prepare("SELECT id FROM generations WHERE status = 'interrupted' ORDER BY id DESC LIMIT ?")
    .pluck()
    .all(INTERRUPTED_SHOWN) as Array<number>;
  let waiting = 0;
  return [
    ...active.map((job) => queueItem(ctx, job.id, job.running ? null : waiting++)),
    ...interrupted.map((id) => queueItem(ctx, id, null)),
  ];
}
