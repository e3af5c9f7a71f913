// Image files and their rows. A file is registered in `pending_files` before it is written and the registration
// is dropped in the transaction that records its row; removal is the mirror image (row gone and removal
// registered in one transaction, then the unlink). Whatever a killed process leaves behind is therefore named
// in `pending_files`, and `settlePending` finishes the job: a file no row refers to is removed.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StudioError } from '../common/errors';
import type { StoreContext } from './context';
import { imageFile, isAlive, makeThumbnail, removeFile, thumbFile, writeAtomic } from './files';
import { pngSize } from './png';

export function imageHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An image whose files are on disk and registered as pending; `insertImage` records it. */
export type StagedImage = Readonly<{
  hash: string;
  file: string;
  thumb: string;
  width: number;
  height: number;
  bytes: number;
}>;

const WAIT_MS = 20;
const WAIT_LIMIT_MS = 10_000;

/** Registers files this process is about to write, waiting while another live process is removing them. */
async function registerWrites(ctx: StoreContext, paths: ReadonlyArray<string>): Promise<void> {
  const blockers = ctx.prepare("SELECT pid FROM pending_files WHERE path = ? AND purpose = 'remove' AND pid <> ?");
  const register = ctx.prepare(
    "INSERT OR IGNORE INTO pending_files (path, pid, purpose, created_at) VALUES (?, ?, 'write', ?)",
  );
  const started = ctx.now();
  for (;;) {
    const registered = ctx.db
      .transaction(() => {
        for (const path of paths) {
          const pids = blockers.pluck().all(path, process.pid) as Array<number>;
          if (pids.some(isAlive)) return false;
        }
        for (const path of paths) register.run(path, process.pid, ctx.now());
        return true;
      })
      .immediate();
    if (registered) return;
    if (ctx.now() - started > WAIT_LIMIT_MS) {
      throw new StudioError('BUSY', 'Another VGT Studio process is removing this image; try again.');
    }
    await sleep(WAIT_MS);
  }
}

/** Writes the image and its thumbnail (atomically, registered as pending). Call `insertImage` in a transaction next. */
export async function stageImage(ctx: StoreContext, png: Uint8Array): Promise<StagedImage> {
  const { width, height } = pngSize(png);
  const hash = imageHash(png);
  const file = imageFile(hash);
  const thumb = thumbFile(hash);
  await registerWrites(ctx, [file, thumb]);
  try {
    await writeAtomic(ctx.home, file, png);
    await writeAtomic(ctx.home, thumb, await makeThumbnail(png));
  } catch (error) {
    // A thumbnail sharp cannot make means an image it cannot read: the caller gets IMAGE_INVALID.
    await settleOwnPending(ctx, [file, thumb]);
    throw error instanceof StudioError ? error : new StudioError('IMAGE_INVALID', (error as Error).message);
  }
  return { hash, file, thumb, width, height, bytes: png.byteLength };
}

/** Inside a transaction: the image's row id (recording it if new) and its pending registrations dropped. */
export function insertImage(ctx: StoreContext, staged: StagedImage): number {
  ctx
    .prepare(
      `INSERT INTO images (hash, file, thumb, width, height, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hash) DO NOTHING`,
    )
    .run(staged.hash, staged.file, staged.thumb, staged.width, staged.height, staged.bytes, ctx.now());
  dropPending(ctx, [staged.file, staged.thumb], 'write');
  return ctx.prepare('SELECT id FROM images WHERE hash = ?').pluck().get(staged.hash) as number;
}

function dropPending(ctx: StoreContext, paths: ReadonlyArray<string>, purpose: 'write' | 'remove'): void {
  const drop = ctx.prepare('DELETE FROM pending_files WHERE path = ? AND pid = ? AND purpose = ?');
  for (const path of paths) drop.run(path, process.pid, purpose);
}

/**
 * Inside a transaction: registers for removal each path that no image row refers to and no other live process is
 * writing, and returns them; `removeFiles` unlinks them after the commit.
 */
function claimForRemoval(ctx: StoreContext, paths: Iterable<string>): Array<string> {
  const referenced = ctx.prepare('SELECT 1 FROM images WHERE file = @path OR thumb = @path').pluck();
  const writers = ctx
    .prepare("SELECT pid FROM pending_files WHERE path = ? AND purpose = 'write' AND pid <> ?")
    .pluck();
  const register = ctx.prepare(
    "INSERT OR IGNORE INTO pending_files (path, pid, purpose, created_at) VALUES (?, ?, 'remove', ?)",
  );
  const claimed: Array<string> = [];
  for (const path of new Set(paths)) {
    if (referenced.get({ path })) continue;
    if ((writers.all(path, process.pid) as Array<number>).some(isAlive)) continue;
    register.run(path, process.pid, ctx.now());
    claimed.push(path);
  }
  return claimed;
}

/** After a failed stage: drops this process's registrations and removes the files no row refers to. */
async function settleOwnPending(ctx: StoreContext, paths: ReadonlyArray<string>): Promise<void> {
  const claimed = ctx.db.transaction(() => {
    dropPending(ctx, paths, 'write');
    return claimForRemoval(ctx, paths);
  })();
  await removeFiles(ctx, claimed);
}

/** After a failure before the commit: staged files that no row refers to are removed again. */
export async function abandonStaged(ctx: StoreContext, staged: ReadonlyArray<StagedImage | undefined>): Promise<void> {
  await settleOwnPending(
    ctx,
    staged.flatMap((s) => (s ? [s.file, s.thumb] : [])),
  );
}

/**
 * Inside a transaction: deletes the rows of images that no generation refers to any more (among `imageIds`) and
 * claims their files for removal. Pass the result to `removeFiles` after the commit.
 */
export function dropUnreferencedImages(ctx: StoreContext, imageIds: Iterable<number>): Array<string> {
  const inUse = ctx
    .prepare(
      'SELECT 1 FROM generations WHERE image_id = @id UNION ALL SELECT 1 FROM generations WHERE source_image_id = @id',
    )
    .pluck();
  const row = ctx.prepare('DELETE FROM images WHERE id = ? RETURNING file, thumb');
  const paths: Array<string> = [];
  for (const id of new Set(imageIds)) {
    if (inUse.get({ id })) continue;
    const image = row.get(id) as { file: string; thumb: string | null } | undefined;
    if (!image) continue;
    paths.push(image.file);
    if (image.thumb !== null) paths.push(image.thumb);
  }
  return claimForRemoval(ctx, paths);
}

/** After the commit that claimed them: unlinks the files and drops their registrations. */
export async function removeFiles(ctx: StoreContext, files: ReadonlyArray<string>): Promise<number> {
  let removed = 0;
  for (const file of files) if (await removeFile(ctx.home, file)) removed += 1;
  if (files.length > 0) ctx.db.transaction(() => dropPending(ctx, files, 'remove'))();
  return removed;
}

/**
 * Finishes what dead processes left in `pending_files`: each file they registered is removed unless a row
 * refers to it. Returns how many files were removed.
 */
export async function settlePending(ctx: StoreContext): Promise<number> {
  const claimed = ctx.db
    .transaction(() => {
      const rows = ctx.prepare('SELECT path, pid FROM pending_files').all() as Array<{ path: string; pid: number }>;
      const dead = rows.filter((r) => r.pid !== process.pid && !isAlive(r.pid));
      const forget = ctx.prepare('DELETE FROM pending_files WHERE path = ? AND pid = ?');
      for (const { path, pid } of dead) forget.run(path, pid);
      return claimForRemoval(
        ctx,
        dead.map((r) => r.path),
      );
    })
    .immediate();
  return removeFiles(ctx, claimed);
}
