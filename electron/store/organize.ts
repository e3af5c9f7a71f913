// The user's own organisation: favorites, ratings, tags, boards, and delete (rows and, once unreferenced, files).
import { NameSchema, type Board } from '../common/api/library';
import { StudioError, describeIssues } from '../common/errors';
import { placeholders, type StoreContext } from './context';
import { dropUnreferencedImages, removeFiles } from './images';

const BOARDS_MAX = 1000;

/** A tag or board name by the one rule (common/api/library.ts NameSchema): its display form and its key. */
export function parseName(raw: string): Readonly<{ name: string; key: string }> {
  const parsed = NameSchema.safeParse(raw);
  if (!parsed.success) throw new StudioError('INVALID_PAYLOAD', `Invalid name: ${describeIssues(parsed.error)}`);
  return { name: parsed.data, key: parsed.data.toLowerCase() };
}

function existingIds(ctx: StoreContext, ids: ReadonlyArray<number>): Array<number> {
  return ctx
    .prepare(`SELECT id FROM generations WHERE id IN (${placeholders(ids.length)})`)
    .pluck()
    .all(...ids) as Array<number>;
}

export function update(
  ctx: StoreContext,
  ids: ReadonlyArray<number>,
  changes: Readonly<{ favorite?: boolean; rating?: number }>,
): number {
  if (
    changes.rating !== undefined &&
    !(Number.isInteger(changes.rating) && changes.rating >= 0 && changes.rating <= 5)
  ) {
    throw new StudioError('INVALID_PAYLOAD', 'A rating is a whole number of stars from 0 to 5.');
  }
  const favorite = changes.favorite === undefined ? null : changes.favorite ? 1 : 0;
  const updated = ctx
    .prepare(
      `UPDATE generations SET favorite = coalesce(?, favorite), rating = coalesce(?, rating)
       WHERE id IN (${placeholders(ids.length)})`,
    )
    .run(favorite, changes.rating ?? null, ...ids).changes;
  ctx.emit({ kind: 'generations', change: 'updated', ids: existingIds(ctx, ids) });
  return updated;
}

/** Deletes generations (not running ones: cancel those first), then the files nothing refers to any more. */
export async function remove(
  ctx: StoreContext,
  ids: ReadonlyArray<number>,
): Promise<Readonly<{ deleted: number; filesRemoved: number }>> {
  const { deleted, files } = ctx.db
    .transaction(() => {
      const rows = ctx
        .prepare(
          `SELECT id, status, image_id, source_image_id FROM generations WHERE id IN (${placeholders(ids.length)})`,
        )
        .all(...ids) as Array<{ id: number; status: string; image_id: number | null; source_image_id: number | null }>;
      const running = rows.find((r) => r.status === 'running');
      if (running) throw new StudioError('BUSY', `Generation ${running.id} is running; cancel it before deleting.`);
      const del = ctx.prepare('DELETE FROM generations WHERE id = ?');
      for (const row of rows) del.run(row.id);
      const images = rows.flatMap((r) => [r.image_id, r.source_image_id]).filter((x): x is number => x !== null);
      return { deleted: rows.map((r) => r.id), files: dropUnreferencedImages(ctx, images) };
    })
    .immediate();
  const filesRemoved = await removeFiles(ctx, files);
  if (deleted.length > 0) ctx.emit({ kind: 'generations', change: 'removed', ids: deleted });
  return { deleted: deleted.length, filesRemoved };
}

/** Inside a transaction: the id of the tag (created if new). */
function tagId(ctx: StoreContext, raw: string): number {
  const { name, key } = parseName(raw);
  return ctx
    .prepare(
      `INSERT INTO tags (name, key, created_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET key = key RETURNING id`,
    )
    .pluck()
    .get(name, key, ctx.now()) as number;
}

/** Tags no generation carries are dropped: a tag exists by being used. */
function dropUnusedTags(ctx: StoreContext): void {
  ctx.prepare('DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM generation_tags)').run();
}

export function tag(
  ctx: StoreContext,
  ids: ReadonlyArray<number>,
  add: ReadonlyArray<string> = [],
  removeNames: ReadonlyArray<string> = [],
): void {
  ctx.db
    .transaction(() => {
      const present = existingIds(ctx, ids);
      const link = ctx.prepare('INSERT OR IGNORE INTO generation_tags (generation_id, tag_id) VALUES (?, ?)');
      for (const raw of add) {
        const id = tagId(ctx, raw);
        for (const generation of present) link.run(generation, id);
      }
      const unlink = ctx.prepare(
        'DELETE FROM generation_tags WHERE generation_id = ? AND tag_id = (SELECT id FROM tags WHERE key = ?)',
      );
      for (const raw of removeNames) {
        const { key } = parseName(raw);
        for (const generation of present) unlink.run(generation, key);
      }
      dropUnusedTags(ctx);
    })
    .immediate();
  ctx.emit({ kind: 'generations', change: 'updated', ids: existingIds(ctx, ids) });
}

/** Tags with how many gallery items carry them: what is in the trash counts for none (it shows in no tag filter). */
export function tags(ctx: StoreContext, prefix = '', limit = 100): Array<Readonly<{ name: string; count: number }>> {
  const key = prefix.normalize('NFC').trim().toLowerCase();
  return ctx
    .prepare(
      `SELECT t.name, count(*) AS count FROM tags t JOIN generation_tags gt ON gt.tag_id = t.id
       WHERE substr(t.key, 1, length(@key)) = @key AND gt.generation_id NOT IN (SELECT generation_id FROM trash)
       GROUP BY t.id ORDER BY count DESC, t.key LIMIT @limit`,
    )
    .all({ key, limit: Math.min(Math.max(limit, 1), 500) }) as Array<{ name: string; count: number }>;
}

/** Renames a tag; renaming onto an existing tag merges the two. */
export function renameTag(ctx: StoreContext, from: string, to: string): void {
  const source = parseName(from);
  const target = parseName(to);
  ctx.db
    .transaction(() => {
      const id = ctx.prepare('SELECT id FROM tags WHERE key = ?').pluck().get(source.key) as number | undefined;
      if (id === undefined) throw new StudioError('NOT_FOUND', `No tag named ${JSON.stringify(source.name)}.`);
      const other = ctx.prepare('SELECT id FROM tags WHERE key = ?').pluck().get(target.key) as number | undefined;
      if (other === undefined || other === id) {
        ctx.prepare('UPDATE tags SET name = ?, key = ? WHERE id = ?').run(target.name, target.key, id);
        return;
      }
      ctx
        .prepare(
          `INSERT OR IGNORE INTO generation_tags (generation_id, tag_id)
           SELECT generation_id, ? FROM generation_tags WHERE tag_id = ?`,
        )
        .run(other, id);
      ctx.prepare('DELETE FROM tags WHERE id = ?').run(id);
    })
    .immediate();
  ctx.emit({ kind: 'generations', change: 'updated', ids: [] });
}

export function deleteTag(ctx: StoreContext, name: string): void {
  const { key } = parseName(name);
  const changes = ctx.prepare('DELETE FROM tags WHERE key = ?').run(key).changes;
  if (changes === 0) throw new StudioError('NOT_FOUND', `No tag named ${JSON.stringify(name)}.`);
  ctx.emit({ kind: 'generations', change: 'updated', ids: [] });
}

// What is in the trash counts in no board (it shows in none).
const BOARD_SQL = `SELECT b.id, b.name,
    (SELECT count(*) FROM board_items bi WHERE bi.board_id = b.id
       AND bi.generation_id NOT IN (SELECT generation_id FROM trash)) AS count,
    (SELECT i.thumb FROM board_items bi JOIN generations g ON g.id = bi.generation_id
       JOIN images i ON i.id = g.image_id WHERE bi.board_id = b.id
       AND bi.generation_id NOT IN (SELECT generation_id FROM trash)
       ORDER BY bi.generation_id DESC LIMIT 1) AS cover
  FROM boards b`;

export function boards(ctx: StoreContext): Array<Board> {
  return ctx.prepare(`${BOARD_SQL} ORDER BY b.key LIMIT ?`).all(BOARDS_MAX) as Array<Board>;
}

export function board(ctx: StoreContext, id: number): Board {
  const found = ctx.prepare(`${BOARD_SQL} WHERE b.id = ?`).get(id) as Board | undefined;
  if (!found) throw new StudioError('NOT_FOUND', `No board ${id}.`);
  return found;
}

/** Creates a board, or returns the one that already has this name. */
export function createBoard(ctx: StoreContext, raw: string): Board {
  const { name, key } = parseName(raw);
  const id = ctx.db
    .transaction(() => {
      const count = ctx.prepare('SELECT count(*) FROM boards').pluck().get() as number;
      const existing = ctx.prepare('SELECT id FROM boards WHERE key = ?').pluck().get(key) as number | undefined;
      if (existing !== undefined) return existing;
      if (count >= BOARDS_MAX) throw new StudioError('INVALID_PAYLOAD', `There are already ${BOARDS_MAX} boards.`);
      return Number(
        ctx.prepare('INSERT INTO boards (name, key, created_at) VALUES (?, ?, ?)').run(name, key, ctx.now())
          .lastInsertRowid,
      );
    })
    .immediate();
  return board(ctx, id);
}

export function renameBoard(ctx: StoreContext, id: number, raw: string): void {
  const { name, key } = parseName(raw);
  ctx.db
    .transaction(() => {
      board(ctx, id);
      const other = ctx.prepare('SELECT id FROM boards WHERE key = ?').pluck().get(key) as number | undefined;
      if (other !== undefined && other !== id) {
        throw new StudioError('INVALID_PAYLOAD', `A board named ${JSON.stringify(name)} already exists.`);
      }
      ctx.prepare('UPDATE boards SET name = ?, key = ? WHERE id = ?').run(name, key, id);
    })
    .immediate();
}

/** Deletes the board; its generations stay in the library. */
export function deleteBoard(ctx: StoreContext, id: number): void {
  if (ctx.prepare('DELETE FROM boards WHERE id = ?').run(id).changes === 0) {
    throw new StudioError('NOT_FOUND', `No board ${id}.`);
  }
}

export function setBoard(ctx: StoreContext, boardId: number, ids: ReadonlyArray<number>, member: boolean): void {
  ctx.db
    .transaction(() => {
      board(ctx, boardId);
      const present = existingIds(ctx, ids);
      const statement = member
        ? ctx.prepare('INSERT OR IGNORE INTO board_items (board_id, generation_id, added_at) VALUES (?, ?, ?)')
        : ctx.prepare('DELETE FROM board_items WHERE board_id = ? AND generation_id = ?');
      for (const generation of present) {
        if (member) statement.run(boardId, generation, ctx.now());
        else statement.run(boardId, generation);
      }
    })
    .immediate();
  ctx.emit({ kind: 'generations', change: 'updated', ids: existingIds(ctx, ids) });
}
