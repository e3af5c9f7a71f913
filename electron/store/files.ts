// The library's files under the data folder. Images are content-addressed (`images/ab/<sha256>.png`), thumbnails
// sit beside them by the same hash (`thumbs/ab/<sha256>.webp`), and every file is written atomically: a temporary
// file in `tmp/` (named after the writing process), fsynced, then renamed into place. Paths kept in the database
// are relative to the data folder, with forward slashes, so core/paths.ts `resolveInside` can serve them.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { encodeThumbnail } from '../platform/image';

export const IMAGES_DIR = 'images';
export const THUMBS_DIR = 'thumbs';
export const TMP_DIR = 'tmp';
export const THUMB_SIZE = 256;

export function imageFile(hash: string): string {
  return `${IMAGES_DIR}/${hash.slice(0, 2)}/${hash}.png`;
}

export function thumbFile(hash: string): string {
  return `${THUMBS_DIR}/${hash.slice(0, 2)}/${hash}.webp`;
}

export function absolute(home: string, relative: string): string {
  return path.join(home, ...relative.split('/'));
}

/** Whether a process with this id still runs (on this machine). EPERM means it runs as someone else. */
export function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; directories cannot be opened for fsync on Windows, where NTFS journals it.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort (see above)
  }
}

/**
 * Writes `bytes` to `relative` under `home` atomically. If the file already exists it is left alone (the name is
 * the content's hash, so it holds the same bytes). Returns whether a new file was created.
 */
export async function writeAtomic(home: string, relative: string, bytes: Uint8Array): Promise<boolean> {
  const target = absolute(home, relative);
  if (existsSync(target)) return false;
  const tmpDir = path.join(home, TMP_DIR);
  await mkdir(tmpDir, { recursive: true });
  const temp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}.part`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(target));
  return true;
}

export async function removeFile(home: string, relative: string): Promise<boolean> {
  try {
    await rm(absolute(home, relative));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** A WebP thumbnail, longest side THUMB_SIZE, never enlarged. */
export function makeThumbnail(png: Uint8Array): Promise<Buffer> {
  return encodeThumbnail(png, THUMB_SIZE);
}

/** Removes temporary files left by processes that are gone. Returns how many. */
export function cleanTempFiles(home: string): number {
  const dir = path.join(home, TMP_DIR);
  let removed = 0;
  let names: Array<string>;
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    rmSync(path.join(dir, name), { force: true, recursive: true });
    removed += 1;
  }
  return removed;
}

/** Every library file (images and thumbnails), as relative paths. */
export function listLibraryFiles(home: string): Array<string> {
  const out: Array<string> = [];
  for (const top of [IMAGES_DIR, THUMBS_DIR]) {
    const root = path.join(home, top);
    if (!existsSync(root)) continue;
    for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      const rel = path.relative(home, path.join(entry.parentPath, entry.name));
      out.push(rel.split(path.sep).join('/'));
    }
  }
  return out;
}
