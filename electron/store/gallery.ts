// Reading the library: keyset pages for the gallery (with or without search text), and one generation in full.
// Every page is bounded (LIMIT) and walks an index in its sort order: the plain gallery walks
// generations (status, …, id); a search walks the FTS index by rowid (= generation id), newest first.
import {
  GALLERY_PAGE_MAX,
  ITEM_PROMPT_MAX_CHARS,
  TOTAL_CAP,
  type GalleryFilters,
  type GalleryItem,
  type GalleryPage,
  type GallerySort,
  type GenerationRecord,
  type ReplayParams,
  type Timings,
} from '../common/api/library';
import { StudioError } from '../common/errors';
import { iso, isoOrNull, notFound, placeholders, type StoreContext } from './context';
import { ftsSyntaxError, plainToFts } from './search';

export const DEFAULT_PAGE = 60;

/** The row shape shared by gallery pages and full records. */
type ItemRow = {
  id: number;
  kind: GalleryItem['kind'];
  status: GalleryItem['status'];
  prompt: string;
  model_id: string;
  seed: number;
  tokens_per_step: number;
  file: string | null;
  thumb: string | null;
  width: number;
  height: number;
  created_at: number;
  favorite: number;
  rating: number;
};

const ITEM_COLUMNS = `g.id, g.kind, g.status, substr(p.text, 1, ${ITEM_PROMPT_MAX_CHARS}) AS prompt, g.model_id, g.seed, g.tokens_per_step,
  i.file, i.thumb, coalesce(i.width, g.width) AS width, coalesce(i.height, g.height) AS height,
  g.created_at, g.favorite, g.rating`;

function toItem(row: ItemRow): GalleryItem {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    prompt: row.prompt,
    modelId: row.model_id,
    seed: row.seed,
    tokensPerStep: row.tokens_per_step,
    file: row.file,
    thumb: row.thumb,
    width: row.width,
    height: row.height,
    createdAt: iso(row.created_at),
    favorite: row.favorite === 1,
    rating: row.rating,
  };
}

export type PageQuery = Readonly<{
  filters?: GalleryFilters;
  sort?: GallerySort;
  cursor?: string;
  limit?: number;
  text?: string;
  syntax?: 'plain' | 'fts';
}>;

type Cursor = Readonly<{ sort: GallerySort; id: number; rating: number }>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.id, cursor.rating])).toString('base64url');
}

function decodeCursor(text: string, sort: GallerySort): Cursor {
  try {
    const [s, id, rating] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (s === sort && Number.isSafeInteger(id) && Number.isInteger(rating)) {
      return { sort, id: id as number, rating: rating as number };
    }
  } catch {
    // falls through to the typed error
  }
  throw new StudioError('INVALID_PAYLOAD', 'The page cursor is not one this gallery gave out (or the sort changed).');
}

type Sql = { clauses: Array<string>; params: Array<unknown> };

function statuses(filters: GalleryFilters): ReadonlyArray<string> {
  return filters.status ?? ['done'];
}

/** Only a status filter (or none): the total comes from the per-status counters, less what is in the trash. */
function countsByStatusOnly(query: PageQuery): boolean {
  return (
    query.text === undefined &&
    query.filters?.trashed !== true &&
    Object.keys(query.filters ?? {}).every((key) => key === 'status' || key === 'trashed')
  );
}

function filterSql(filters: GalleryFilters): Sql {
  const clauses: Array<string> = [];
  const params: Array<unknown> = [];
  const status = statuses(filters);
  clauses.push(status.length === 1 ? 'g.status = ?' : `g.status IN (${placeholders(status.length)})`);
  params.push(...status);
  // The trash is small (it empties itself after TRASH_KEEP_DAYS): a membership test against its primary key.
  clauses.push(`g.id ${filters.trashed === true ? 'IN' : 'NOT IN'} (SELECT generation_id FROM trash)`);
  if (filters.favorite !== undefined) {
    clauses.push('g.favorite = ?');
    params.push(filters.favorite ? 1 : 0);
  }
  if (filters.minRating !== undefined) {
    clauses.push('g.rating >= ?');
    params.push(filters.minRating);
  }
  if (filters.modelId !== undefined) {
    clauses.push('g.model_id = ?');
    params.push(filters.modelId);
  }
  if (filters.createdFrom !== undefined) {
    clauses.push('g.created_at >= ?');
    params.push(Date.parse(filters.createdFrom));
  }
  if (filters.createdTo !== undefined) {
    clauses.push('g.created_at <= ?');
    params.push(Date.parse(filters.createdTo));
  }
  if (filters.tokensPerStep !== undefined) {
    clauses.push(`g.tokens_per_step IN (${placeholders(filters.tokensPerStep.length)})`);
    params.push(...filters.tokensPerStep);
  }
  if (filters.kind !== undefined) {
    clauses.push(`g.kind IN (${placeholders(filters.kind.length)})`);
    params.push(...filters.kind);
  }
  for (const tag of filters.tags ?? []) {
    clauses.push(
      'g.id IN (SELECT gt.generation_id FROM generation_tags gt WHERE gt.tag_id = (SELECT id FROM tags WHERE key = ?))',
    );
    params.push(tag.toLowerCase());
  }
  if (filters.boardId !== undefined) {
    clauses.push('g.id IN (SELECT generation_id FROM board_items WHERE board_id = ?)');
    params.push(filters.boardId);
  }
  return { clauses, params };
}

export type PageSql = Readonly<{
  countSql: string;
  countParams: ReadonlyArray<unknown>;
  sql: string;
  params: ReadonlyArray<unknown>;
  /** The count is exact (per-status counters) rather than capped at TOTAL_CAP. */
  countExact: boolean;
  sort: GallerySort;
  limit: number;
}>;

/** The SQL of one page (also what tests and the benchmark pass to EXPLAIN QUERY PLAN). */
export function pageSql(query: PageQuery): PageSql {
  const sort = query.sort ?? 'newest';
  const limit = Math.min(Math.max(1, query.limit ?? DEFAULT_PAGE), GALLERY_PAGE_MAX);
  const { clauses, params } = filterSql(query.filters ?? {});
  // A search in id order walks the FTS index by rowid (the generation id) and joins generations. Sorted by rating,
  // it walks the rating index instead and tests membership in the matches (`+` keeps the planner from driving
  // the loop by that list, which would mean sorting every match).
  const searching = query.text !== undefined;
  const ftsDriven = searching && sort !== 'rating';
  const from = ftsDriven ? 'search_index s JOIN generations g ON g.id = s.rowid' : 'generations g';
  const key = ftsDriven ? 's.rowid' : 'g.id';
  if (searching) {
    clauses.unshift(
      ftsDriven ? 'search_index MATCH ?' : '+g.id IN (SELECT rowid FROM search_index WHERE search_index MATCH ?)',
    );
    params.unshift(query.syntax === 'fts' ? query.text : plainToFts(query.text ?? ''));
  }
  const status = statuses(query.filters ?? {});
  const inStatus = `IN (${placeholders(status.length)})`;
  const countSql = countsByStatusOnly(query)
    ? `SELECT (SELECT coalesce(sum(count), 0) FROM status_counts WHERE status ${inStatus})
        - (SELECT count(*) FROM trash t JOIN generations g ON g.id = t.generation_id WHERE g.status ${inStatus})`
    : `SELECT count(*) FROM (SELECT 1 FROM ${from} WHERE ${clauses.join(' AND ')} LIMIT ${TOTAL_CAP + 1})`;
  const countParams = countsByStatusOnly(query) ? [...status, ...status] : [...params];
  if (query.cursor !== undefined) {
    const cursor = decodeCursor(query.cursor, sort);
    if (sort === 'rating') {
      clauses.push(`(g.rating, ${key}) < (?, ?)`);
      params.push(cursor.rating, cursor.id);
    } else {
      clauses.push(sort === 'newest' ? `${key} < ?` : `${key} > ?`);
      params.push(cursor.id);
    }
  }
  const order = sort === 'newest' ? `${key} DESC` : sort === 'oldest' ? `${key} ASC` : `g.rating DESC, ${key} DESC`;
  const sql = `SELECT ${ITEM_COLUMNS} FROM ${from} JOIN prompts p ON p.id = g.prompt_id
    LEFT JOIN images i ON i.id = g.image_id
    WHERE ${clauses.join(' AND ')} ORDER BY ${order} LIMIT ?`;
  params.push(limit + 1);
  return { countSql, countParams, countExact: countsByStatusOnly(query), sql, params, sort, limit };
}

/** One gallery page: items, the cursor of the next page, and the total matching the filters and text. */
export function page(ctx: StoreContext, query: PageQuery): GalleryPage {
  const q = pageSql(query);
  try {
    // One read transaction: the total and the items come from the same snapshot while writers go on.
    return ctx.db.transaction(() => {
      const count = ctx
        .prepare(q.countSql)
        .pluck()
        .get(...q.countParams) as number;
      const rows = ctx.prepare(q.sql).all(...q.params) as Array<ItemRow>;
      const items = rows.slice(0, q.limit).map(toItem);
      const last = items.at(-1);
      return {
        items,
        nextCursor:
          rows.length > q.limit && last ? encodeCursor({ sort: q.sort, id: last.id, rating: last.rating }) : null,
        total: Math.min(count, q.countExact ? count : TOTAL_CAP),
        totalExact: q.countExact || count <= TOTAL_CAP,
      };
    })();
  } catch (error) {
    throw (query.syntax === 'fts' ? ftsSyntaxError(error) : null) ?? error;
  }
}

type RecordRow = ItemRow & {
  full_prompt: string;
  negative_prompt: string | null;
  bundle_hash: string | null;
  provider: string | null;
  order_seed: number;
  order_kind: ReplayParams['order'];
  steps: number;
  cfg: number;
  cfg_schedule: ReplayParams['cfgSchedule'];
  params_width: number;
  params_height: number;
  extra: string | null;
  image_id: number | null;
  image_hash: string | null;
  source_hash: string | null;
  source_file: string | null;
  started_at: number | null;
  finished_at: number | null;
  timings: string | null;
  error: string | null;
  trashed_at: number | null;
};

const RECORD_SQL = `SELECT ${ITEM_COLUMNS}, p.text AS full_prompt, np.text AS negative_prompt, g.bundle_hash, g.provider, g.order_seed,
    g.order_kind, g.steps, g.cfg, g.cfg_schedule, g.width AS params_width, g.height AS params_height, g.extra,
    g.image_id, i.hash AS image_hash, si.hash AS source_hash, si.file AS source_file,
    g.started_at, g.finished_at, g.timings, g.error, tr.trashed_at
  FROM generations g JOIN prompts p ON p.id = g.prompt_id
  LEFT JOIN trash tr ON tr.generation_id = g.id
  LEFT JOIN prompts np ON np.id = g.negative_prompt_id
  LEFT JOIN images i ON i.id = g.image_id
  LEFT JOIN images si ON si.id = g.source_image_id
  WHERE g.id = ?`;

export function paramsOf(row: RecordRow): ReplayParams {
  return {
    kind: row.kind,
    prompt: row.full_prompt,
    negativePrompt: row.negative_prompt,
    modelId: row.model_id,
    bundleHash: row.bundle_hash,
    provider: row.provider,
    seed: row.seed,
    orderSeed: row.order_seed,
    order: row.order_kind,
    tokensPerStep: row.tokens_per_step,
    steps: row.steps,
    cfg: row.cfg,
    cfgSchedule: row.cfg_schedule,
    width: row.params_width,
    height: row.params_height,
    sourceImage: row.source_hash,
    extra: row.extra === null ? null : (JSON.parse(row.extra) as ReplayParams['extra']),
  };
}

export function recordRow(ctx: StoreContext, id: number): RecordRow {
  const row = ctx.prepare(RECORD_SQL).get(id) as RecordRow | undefined;
  if (!row) throw notFound(id);
  return row;
}

export function getRecord(ctx: StoreContext, id: number): GenerationRecord {
  const row = recordRow(ctx, id);
  const tags = ctx
    .prepare(
      `SELECT t.name FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id WHERE gt.generation_id = ?
       ORDER BY t.key`,
    )
    .pluck()
    .all(id) as Array<string>;
  const boards = ctx
    .prepare(
      `SELECT b.id, b.name FROM board_items bi JOIN boards b ON b.id = bi.board_id WHERE bi.generation_id = ?
       ORDER BY b.key`,
    )
    .all(id) as Array<{ id: number; name: string }>;
  const derived =
    row.image_id === null
      ? []
      : (ctx
          .prepare('SELECT id FROM generations WHERE source_image_id = ? ORDER BY id LIMIT 200')
          .pluck()
          .all(row.image_id) as Array<number>);
  return {
    ...toItem(row),
    prompt: row.full_prompt,
    params: paramsOf(row),
    imageHash: row.image_hash,
    sourceFile: row.source_file,
    derived,
    tags,
    boards,
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    timings: row.timings === null ? null : (JSON.parse(row.timings) as Timings),
    error: row.error,
    trashedAt: isoOrNull(row.trashed_at),
  };
}
