// The library service: the one object the rest of the studio uses for history, gallery and queue.
//
//   const library = openLibrary(home, { onChange })   // opens (or creates) <home>/library.db, migrates, recovers
//
//   Engine, running the queue:
//     await library.enqueue(params, { front?, source? })  → { id, position }   (source: an edit's source PNG)
//     await library.nextJob()                     → { id, params, sourcePath } | null   (claims: queued → running)
//     await library.isCancelRequested(id)         → boolean             (poll between token groups)
//     await library.markDone(id, png, timings?, provider?) → RecordedImage (embeds `vgt` params, writes files, row)
//     await library.markFailed(id, message, timings?) / markCancelled(id, timings?)
//   Engine, a one-off generation (`vgt generate` without the queue):
//     await library.recordGeneration(params, png, { timings?, source? }) → RecordedImage
//       RecordedImage.png is the stored PNG (with the `vgt` chunk): write it to --out for an identical file.
//   Everyone else: list / search / get / update / delete / trash / restore / emptyTrash / tag / tags / renameTag / deleteTag / boards /
//     createBoard / renameBoard / deleteBoard / addToBoard / removeFromBoard / importPng / repair / queue /
//     moveJob / cancel / retry / recoverInterrupted (also run at open) / settings / saveSettings / subscribe / close.
//
// Every method is async (or returns plain data) so the SQL can move to a worker thread without changing callers.
// Errors are StudioErrors: NOT_FOUND, INVALID_PAYLOAD, IMAGE_INVALID, SEARCH_SYNTAX, BUSY, DATABASE_CORRUPT, ….
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type {
  Board,
  GalleryPage,
  GenerationRecord,
  ListRequest,
  PromptUse,
  QueueItem,
  RecoverReport,
  RepairReport,
  ReplayParams,
  SearchRequest,
  Timings,
} from '../common/api/library';
import { StudioError } from '../common/errors';
import { createContext, type LibraryChange, type StoreContext } from './context';
import { compactInWorker } from './compact';
import { corruptError, DB_FILE, isCorruption, openDatabase } from './db';
import { absolute, cleanTempFiles, fileSize, IMAGES_DIR, listLibraryFiles, makeThumbnail, writeAtomic } from './files';
import { getRecord, page } from './gallery';
import { imageHash, removeFiles, settlePending } from './images';
import * as organize from './organize';
import { recentPrompts } from './prompts';
import { embedReplayParams, readReplayParams } from './png';
import * as queue from './queue';
import * as settings from './settings';
import * as timeline from './timeline';
import * as trash from './trash';
import { checkParams, checkTimings, insertGeneration, storeResult, type RecordedImage } from './records';

export type { LibraryChange } from './context';
export type { Job } from './queue';
export type { RecordedImage } from './records';
export { embedReplayParams, readReplayParams } from './png';
export { imageHash } from './images';

export type LibraryOptions = Readonly<{
  /** Told about every change (the studio forwards them as `library.changed` / `queue.changed` events). */
  onChange?: (change: LibraryChange) => void;
  /** For tests. */
  now?: () => number;
}>;

export type Library = Readonly<{
  home: string;
  file: string;
  recordGeneration(
    params: ReplayParams,
    png: Uint8Array,
    options?: Readonly<{ timings?: Timings; source?: Uint8Array }>,
  ): Promise<RecordedImage>;
  enqueue(params: ReplayParams, options?: Readonly<{ front?: boolean; source?: Uint8Array }>): Promise<queue.Enqueued>;
  nextJob(): Promise<queue.Job | null>;
  isCancelRequested(id: number): Promise<boolean>;
  markDone(id: number, png: Uint8Array, timings?: Timings, provider?: string | null): Promise<RecordedImage>;
  markFailed(id: number, message: string, timings?: Timings): Promise<void>;
  markCancelled(id: number, timings?: Timings): Promise<void>;
  recoverInterrupted(): Promise<ReadonlyArray<number>>;
  queue(): Promise<ReadonlyArray<QueueItem>>;
  moveJob(id: number, before: number | null): Promise<void>;
  cancel(id: number): Promise<QueueItem>;
  retry(id: number): Promise<QueueItem>;
  list(request?: ListRequest): Promise<GalleryPage>;
  search(request: SearchRequest): Promise<GalleryPage>;
  get(id: number): Promise<GenerationRecord>;
  update(ids: ReadonlyArray<number>, changes: Readonly<{ favorite?: boolean; rating?: number }>): Promise<number>;
  delete(ids: ReadonlyArray<number>): Promise<Readonly<{ deleted: number; filesRemoved: number }>>;
  /** Moves to the trash (restorable); `emptyTrash` deletes from it for good (all, or only `ids`). */
  trash(ids: ReadonlyArray<number>): Promise<Readonly<{ trashed: number }>>;
  restore(ids: ReadonlyArray<number>): Promise<Readonly<{ restored: number }>>;
  emptyTrash(ids?: ReadonlyArray<number>): Promise<Readonly<{ deleted: number; filesRemoved: number }>>;
  tag(ids: ReadonlyArray<number>, add?: ReadonlyArray<string>, remove?: ReadonlyArray<string>): Promise<void>;
  tags(prefix?: string, limit?: number): Promise<ReadonlyArray<Readonly<{ name: string; count: number }>>>;
  /** Prompt history for completion (store/prompts.ts). */
  prompts(text?: string, limit?: number): Promise<ReadonlyArray<PromptUse>>;
  renameTag(from: string, to: string): Promise<void>;
  deleteTag(name: string): Promise<void>;
  boards(): Promise<ReadonlyArray<Board>>;
  createBoard(name: string): Promise<Board>;
  renameBoard(id: number, name: string): Promise<void>;
  deleteBoard(id: number): Promise<void>;
  addToBoard(boardId: number, ids: ReadonlyArray<number>): Promise<void>;
  removeFromBoard(boardId: number, ids: ReadonlyArray<number>): Promise<void>;
  importPng(png: Uint8Array): Promise<Readonly<{ id: number; existed: boolean }>>;
  repair(): Promise<RepairReport>;
  /** Studio settings as stored (key → JSON value); the host checks them against the contract. */
  settings(): Promise<settings.StoredSettings>;
  saveSettings(patch: settings.StoredSettings): Promise<void>;
  /** A finished generation's timeline (core/timeline.ts encodes it) and, for a fork, its parent and kept groups. */
  saveTimeline(id: number, data: Uint8Array, groups: number, lineage: timeline.Lineage | null): Promise<void>;
  timeline(id: number): Promise<timeline.StoredTimelineRow | null>;
  subscribe(listener: (change: LibraryChange) => void): () => void;
  close(): void;
}>;

/** Records a PNG that carries `vgt` parameters, unless the same image is already a finished generation. */
async function importPng(ctx: StoreContext, png: Uint8Array): Promise<Readonly<{ id: number; existed: boolean }>> {
  const params = readReplayParams(png);
  if (params === null) {
    throw new StudioError('IMAGE_INVALID', 'This PNG carries no VGT parameters, so it cannot be replayed.');
  }
  // The source of an edit is linked only when that image is in this library too.
  const known =
    params.sourceImage !== null && ctx.prepare('SELECT 1 FROM images WHERE hash = ?').get(params.sourceImage);
  const p = { ...params, sourceImage: known ? params.sourceImage : null };
  // Stored as this studio writes it (same JSON, chunk after IHDR): a studio PNG keeps its bytes and its hash.
  const hash = imageHash(embedReplayParams(png, p));
  const existing = ctx
    .prepare(
      "SELECT g.id FROM generations g JOIN images i ON i.id = g.image_id WHERE i.hash = ? AND g.status = 'done' LIMIT 1",
    )
    .pluck()
    .get(hash) as number | undefined;
  if (existing !== undefined) {
    // The same image in the trash comes back rather than being recorded twice.
    const restored = trash.restore(ctx, [existing]).restored > 0;
    return { id: existing, existed: !restored };
  }
  const recorded = await storeResult(ctx, p, png, undefined, (imageId, sourceImageId) =>
    insertGeneration(ctx, p, {
      status: 'done',
      imageId,
      sourceImageId,
      timings: null,
      startedAt: null,
      finishedAt: ctx.now(),
    }),
  );
  ctx.emit({ kind: 'generations', change: 'added', ids: [recorded.id] });
  return { id: recorded.id, existed: false };
}

/** Reconciles rows and files, checks integrity and compacts. Safe to run at any time. */
async function repair(ctx: StoreContext, file: string): Promise<RepairReport> {
  const dbBytes = async () => (await fileSize(file)) + (await fileSize(`${file}-wal`));
  const bytesBefore = await dbBytes();
  const tempFilesRemoved = cleanTempFiles(ctx.home);
  let orphanFilesRemoved = await settlePending(ctx);
  // Rows whose image vanished keep their parameters (they can be replayed) but no longer claim an image.
  const images = ctx.prepare('SELECT id, hash, file, thumb FROM images').all() as Array<{
    id: number;
    hash: string;
    file: string;
    thumb: string | null;
  }>;
  let missingImages = 0;
  let thumbnailsRebuilt = 0;
  for (const image of images) {
    const full = absolute(ctx.home, image.file);
    if (!existsSync(full)) {
      ctx.db
        .transaction(() => {
          missingImages += ctx
            .prepare(
              `UPDATE generations SET status = 'failed', image_id = NULL,
                 error = 'The image file was missing at repair; replay to make it again.' WHERE image_id = ?`,
            )
            .run(image.id).changes;
          ctx.prepare('UPDATE generations SET source_image_id = NULL WHERE source_image_id = ?').run(image.id);
          ctx.prepare('DELETE FROM images WHERE id = ?').run(image.id);
        })
        .immediate();
      continue;
    }
    if (image.thumb === null || !existsSync(absolute(ctx.home, image.thumb))) {
      const thumb = image.thumb ?? `thumbs/${image.hash.slice(0, 2)}/${image.hash}.webp`;
      try {
        await writeAtomic(ctx.home, thumb, await makeThumbnail(readFileSync(full)));
        ctx.prepare('UPDATE images SET thumb = ? WHERE id = ?').run(thumb, image.id);
        thumbnailsRebuilt += 1;
      } catch {
        // An unreadable image keeps its row; the gallery shows it without a thumbnail.
      }
    }
  }
  // Files no row refers to (and no live process is writing) go.
  const known = new Set(
    (ctx.prepare('SELECT file, thumb FROM images').all() as Array<{ file: string; thumb: string | null }>).flatMap(
      (i) => [i.file, i.thumb],
    ),
  );
  const strays = listLibraryFiles(ctx.home).filter((f) => !known.has(f));
  const claimed = ctx.db
    .transaction(() => {
      const referenced = ctx.prepare('SELECT 1 FROM images WHERE file = @path OR thumb = @path').pluck();
      const pending = ctx.prepare('SELECT 1 FROM pending_files WHERE path = ?').pluck();
      return strays.filter((f) => !referenced.get({ path: f }) && !pending.get(f));
    })
    .immediate();
  orphanFilesRemoved += await removeFiles(ctx, claimed);
  const { integrity } = await compactInWorker(file);
  if (missingImages > 0) ctx.emit({ kind: 'generations', change: 'updated', ids: [] });
  return {
    integrity,
    orphanFilesRemoved,
    tempFilesRemoved,
    missingImages,
    thumbnailsRebuilt,
    bytesBefore,
    bytesAfter: await dbBytes(),
  };
}

/** A damaged page can surface in any later statement: every call through the guard maps it to DATABASE_CORRUPT. */
function corruptionGuard(file: string) {
  return async <T>(run: () => T | Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (isCorruption(error)) throw corruptError(file, error);
      throw error;
    }
  };
}

/** A finished one-off generation (not from the queue): its files, then its row, then the change event. */
async function recordGeneration(
  ctx: StoreContext,
  params: ReplayParams,
  png: Uint8Array,
  opts: Parameters<Library['recordGeneration']>[2] = {},
): Promise<RecordedImage> {
  const p = checkParams(params);
  const timings = checkTimings(opts.timings);
  const recorded = await storeResult(ctx, p, png, opts.source, (imageId, sourceImageId) =>
    insertGeneration(ctx, p, {
      status: 'done',
      imageId,
      sourceImageId,
      timings,
      startedAt: null,
      finishedAt: ctx.now(),
    }),
  );
  ctx.emit({ kind: 'generations', change: 'added', ids: [recorded.id] });
  return recorded;
}

/** Opens the library in `home`, finishing what a killed process left (temp files, pending files, running jobs). */
export async function openLibrary(home: string, options: LibraryOptions = {}): Promise<Library> {
  mkdirSync(home, { recursive: true });
  const file = path.join(home, DB_FILE);
  const db = openDatabase(file);
  const listeners = new Set<(change: LibraryChange) => void>();
  if (options.onChange) listeners.add(options.onChange);
  const ctx = createContext(db, home, options.now ?? Date.now, (change) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // One failing listener must not stop the others or the write that caused the change.
      }
    }
  });
  const guard = corruptionGuard(file);
  await guard(async () => {
    cleanTempFiles(home);
    await settlePending(ctx);
    queue.recoverInterrupted(ctx);
    await trash.purgeExpired(ctx);
  });

  return {
    home,
    file,
    recordGeneration: (params, png, opts = {}) => guard(() => recordGeneration(ctx, params, png, opts)),
    enqueue: (params, opts) => guard(() => queue.enqueue(ctx, params, opts)),
    nextJob: () => guard(() => queue.nextJob(ctx)),
    isCancelRequested: (id) => guard(() => queue.isCancelRequested(ctx, id)),
    markDone: (id, png, timings, provider) => guard(() => queue.markDone(ctx, id, png, timings, provider)),
    markFailed: (id, message, timings) => guard(() => queue.markEnded(ctx, id, 'failed', message, timings)),
    markCancelled: (id, timings) => guard(() => queue.markEnded(ctx, id, 'cancelled', null, timings)),
    recoverInterrupted: () => guard(() => queue.recoverInterrupted(ctx)),
    queue: () => guard(() => queue.list(ctx)),
    moveJob: (id, before) => guard(() => queue.move(ctx, id, before)),
    cancel: (id) => guard(() => queue.cancel(ctx, id)),
    retry: (id) => guard(() => queue.retry(ctx, id)),
    list: (request = {}) => guard(() => page(ctx, request)),
    search: (request) => guard(() => page(ctx, request)),
    get: (id) => guard(() => getRecord(ctx, id)),
    update: (ids, changes) => guard(() => organize.update(ctx, ids, changes)),
    delete: (ids) => guard(() => organize.remove(ctx, ids)),
    trash: (ids) => guard(() => trash.trash(ctx, ids)),
    restore: (ids) => guard(() => trash.restore(ctx, ids)),
    emptyTrash: (ids) => guard(() => trash.emptyTrash(ctx, ids)),
    tag: (ids, add, remove) => guard(() => organize.tag(ctx, ids, add, remove)),
    tags: (prefix, limit) => guard(() => organize.tags(ctx, prefix, limit)),
    prompts: (text, limit) => guard(() => recentPrompts(ctx, text, limit)),
    renameTag: (from, to) => guard(() => organize.renameTag(ctx, from, to)),
    deleteTag: (name) => guard(() => organize.deleteTag(ctx, name)),
    boards: () => guard(() => organize.boards(ctx)),
    createBoard: (name) => guard(() => organize.createBoard(ctx, name)),
    renameBoard: (id, name) => guard(() => organize.renameBoard(ctx, id, name)),
    deleteBoard: (id) => guard(() => organize.deleteBoard(ctx, id)),
    addToBoard: (boardId, ids) => guard(() => organize.setBoard(ctx, boardId, ids, true)),
    removeFromBoard: (boardId, ids) => guard(() => organize.setBoard(ctx, boardId, ids, false)),
    importPng: (png) => guard(() => importPng(ctx, png)),
    repair: () => guard(() => repair(ctx, file)),
    settings: () => guard(() => settings.read(ctx)),
    saveSettings: (patch) => guard(() => settings.write(ctx, patch)),
    saveTimeline: (id, data, groups, lineage) => guard(() => timeline.save(ctx, id, data, groups, lineage)),
    timeline: (id) => guard(() => timeline.get(ctx, id)),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => {
      listeners.clear();
      if (db.open) db.close();
    },
  };
}

/**
 * The way out of a damaged database: moves `library.db` (and its -wal/-shm) aside as `library.db.damaged-<time>`,
 * starts a fresh library, and records again every image in the data folder from its embedded `vgt` parameters.
 * Nothing is deleted.
 */
export async function recoverLibrary(home: string, options: LibraryOptions = {}): Promise<RecoverReport> {
  const file = path.join(home, DB_FILE);
  let movedTo: string | null = null;
  if (existsSync(file)) {
    movedTo = `${DB_FILE}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, path.join(home, movedTo + suffix));
    }
  }
  const library = await openLibrary(home, options);
  let imagesRestored = 0;
  let imagesSkipped = 0;
  try {
    for (const relative of listLibraryFiles(home).filter((f) => f.startsWith(`${IMAGES_DIR}/`))) {
      const full = absolute(home, relative);
      try {
        if (statSync(full).size > 256 * 1024 * 1024) throw new StudioError('IMAGE_INVALID');
        const { existed } = await library.importPng(readFileSync(full));
        if (!existed) imagesRestored += 1;
      } catch {
        imagesSkipped += 1;
      }
    }
  } finally {
    library.close();
  }
  return { movedTo, imagesRestored, imagesSkipped };
}

/**
 * The library as a studio service: opened on first use (so `doctor` works even when the database is damaged),
 * the same instance afterwards, `recover` closes it and rebuilds.
 */
export type LibraryService = Readonly<{
  get(): Promise<Library>;
  recover(): Promise<RecoverReport>;
  close(): Promise<void>;
}>;

export function createLibraryService(home: string, options: LibraryOptions = {}): LibraryService {
  let opening: Promise<Library> | null = null;
  const close = async (): Promise<void> => {
    const current = opening;
    opening = null;
    await current?.then((library) => library.close()).catch(() => {});
  };
  return {
    get: () => {
      if (!opening) {
        opening = openLibrary(home, options);
        // A failed open is retried on the next call (after a recover, or once the file is fixed).
        opening.catch(() => {
          opening = null;
        });
      }
      return opening;
    },
    recover: async () => {
      await close();
      return recoverLibrary(home, options);
    },
    close,
  };
}
