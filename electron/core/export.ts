// Exporting many images at once: their PNGs (each already carries its `vgt` replay parameters) and a manifest with
// every replay record, as one zip or into a folder. Where it goes is decided by the host, never by a path from the
// renderer: the desktop app asks the user with its own dialog, web mode serves the zip once as a short-lived download.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { constants, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { Zip, ZipPassThrough } from 'fflate';
import { EXPORT_MANIFEST_NAME, type ExportManifest, type GenerationRecord } from '../common/api/library';
import { StudioError } from '../common/errors';
import { resolveInside } from './paths';
import type { Services } from './services';
import { APP_NAME, APP_VERSION } from './version';

/** Classic zip (no Zip64): sizes and offsets are 32-bit, so an export stays well under 4 GiB. */
export const ZIP_MAX_BYTES = 0xffff_ffff - 64 * 1024 * 1024;

export type ExportEntry = Readonly<{ name: string; file: string; bytes: number; record: GenerationRecord }>;

export type CollectedExport = Readonly<{
  entries: ReadonlyArray<ExportEntry>;
  /** Generations without an image file (queued, failed, …). */
  skipped: number;
  bytes: number;
}>;

/** Reads the records and checks every file lies inside the library; unknown ids fail the whole export. */
export async function collectExport(services: Services, ids: ReadonlyArray<number>): Promise<CollectedExport> {
  const library = await services.library.get();
  const entries: Array<ExportEntry> = [];
  let skipped = 0;
  let bytes = 0;
  for (const id of new Set(ids)) {
    const record = await library.get(id);
    if (record.file === null || record.imageHash === null) {
      skipped += 1;
      continue;
    }
    const file = resolveInside(services.home, record.file);
    const size = (await stat(file)).size;
    bytes += size;
    entries.push({ name: `vgt-${record.id}.png`, file, bytes: size, record });
  }
  if (entries.length === 0) {
    throw new StudioError('NOT_FOUND', 'None of these generations has an image to export (they did not finish).');
  }
  if (bytes > ZIP_MAX_BYTES) {
    throw new StudioError('PAYLOAD_TOO_LARGE', 'These images add up to more than 4 GB: export fewer at once.');
  }
  return { entries, skipped, bytes };
}

export function exportManifest(entries: ReadonlyArray<ExportEntry>, now: Date = new Date()): ExportManifest {
  return {
    format: 'vgt-studio-export',
    version: 1,
    app: { name: APP_NAME, version: APP_VERSION },
    exportedAt: now.toISOString(),
    images: entries.map(({ name, record }) => ({
      file: name,
      id: record.id,
      imageHash: record.imageHash ?? '',
      width: record.width,
      height: record.height,
      createdAt: record.createdAt,
      favorite: record.favorite,
      rating: record.rating,
      tags: [...record.tags],
      boards: record.boards.map((b) => b.name),
      params: record.params,
    })),
  };
}

/** `vgt-export-3-images-20260501-123005.zip` */
export function exportFileName(count: number, now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  return `vgt-export-${count}-image${count === 1 ? '' : 's'}-${stamp}.zip`;
}

/**
 * Writes the zip to `target` (created, never overwritten): the PNGs stored as they are (they are compressed already),
 * then the manifest. One image is in memory at a time. Returns the zip's size.
 */
export async function writeZip(entries: ReadonlyArray<ExportEntry>, manifest: ExportManifest, target: string) {
  const out = createWriteStream(target, { flags: 'wx' });
  const finished = once(out, 'close');
  // Set from the stream's and the zip's callbacks; an object so the checks below see their writes.
  const state: { failure: unknown } = { failure: null };
  out.on('error', (error) => (state.failure ??= error));
  const zip = new Zip((error, chunk, final) => {
    if (error) {
      state.failure ??= error;
      out.destroy(error);
      return;
    }
    out.write(chunk);
    if (final) out.end();
  });
  const add = async (name: string, data: Uint8Array, mtime: Date) => {
    const file = new ZipPassThrough(name);
    file.mtime = mtime;
    zip.add(file);
    file.push(data, true);
    if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), finished]);
  };
  try {
    for (const entry of entries) {
      if (state.failure) break;
      await add(entry.name, await readFile(entry.file), new Date(entry.record.createdAt));
    }
    if (!state.failure) {
      await add(EXPORT_MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), new Date());
      zip.end();
    }
  } catch (error) {
    state.failure ??= error;
    out.destroy();
  }
  await finished;
  if (state.failure) {
    await rm(target, { force: true });
    throw state.failure;
  }
  return (await stat(target)).size;
}

/** A zip where the user chose: written beside it first, then renamed over it (the dialog asked about replacing). */
export async function saveZip(entries: ReadonlyArray<ExportEntry>, manifest: ExportManifest, target: string) {
  const partial = `${target}.${randomBytes(4).toString('hex')}.partial`;
  const bytes = await writeZip(entries, manifest, partial);
  try {
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return bytes;
}

/** `name` in `folder`, or `stem (2).ext`, `stem (3).ext`… when taken: an export never overwrites a file. */
async function createUnique(folder: string, name: string, write: (file: string) => Promise<void>): Promise<string> {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; n < 1000; n++) {
    const candidate = n === 1 ? name : `${stem} (${n})${ext}`;
    try {
      await write(path.join(folder, candidate));
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new StudioError('INTERNAL', `Too many files named like ${name} in ${folder}.`);
}

/** Copies the PNGs into `folder` and writes the manifest beside them (names as written). Returns the bytes written. */
export async function writeFolder(entries: ReadonlyArray<ExportEntry>, folder: string, now: Date = new Date()) {
  await mkdir(folder, { recursive: true });
  const written: Array<ExportEntry> = [];
  let bytes = 0;
  for (const entry of entries) {
    const name = await createUnique(folder, entry.name, (file) => copyFile(entry.file, file, constants.COPYFILE_EXCL));
    written.push({ ...entry, name });
    bytes += entry.bytes;
  }
  const manifest = `${JSON.stringify(exportManifest(written, now), null, 2)}\n`;
  await createUnique(folder, EXPORT_MANIFEST_NAME, (file) => writeFile(file, manifest, { flag: 'wx' }));
  return bytes + Buffer.byteLength(manifest);
}

type Pending = { file: string; fileName: string; bytes: number; expiresAt: number; timer: NodeJS.Timeout };

export type ExportDownload = Readonly<{ file: string; fileName: string; bytes: number }>;

/**
 * Web mode's export downloads: a zip is written to `<home>/tmp` (named after this process, so a crash leaves
 * nothing the library's cleanup would not remove) and served once, by an unguessable id, until it expires.
 */
export class ExportDownloads {
  static readonly TTL_MS = 10 * 60_000;
  static readonly MAX_PENDING = 8;
  readonly #dir: string;
  readonly #ttlMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(home: string, ttlMs: number = ExportDownloads.TTL_MS) {
    this.#dir = path.join(home, 'tmp');
    this.#ttlMs = ttlMs;
  }

  async prepare(
    collected: CollectedExport,
    now: Date = new Date(),
  ): Promise<Readonly<{ id: string; fileName: string; bytes: number; expiresAt: Date }>> {
    await mkdir(this.#dir, { recursive: true });
    const id = randomBytes(16).toString('base64url');
    const file = path.join(this.#dir, `${process.pid}-export-${id}.zip`);
    const bytes = await writeZip(collected.entries, exportManifest(collected.entries, now), file);
    // Unclaimed downloads must not pile up: the oldest goes when there are too many.
    while (this.#pending.size >= ExportDownloads.MAX_PENDING) {
      const [oldest] = this.#pending.keys();
      if (oldest === undefined) break;
      await this.#drop(oldest);
    }
    const expiresAt = now.getTime() + this.#ttlMs;
    const timer = setTimeout(() => void this.#drop(id), this.#ttlMs);
    timer.unref();
    const fileName = exportFileName(collected.entries.length, now);
    this.#pending.set(id, { file, fileName, bytes, expiresAt, timer });
    return { id, fileName, bytes, expiresAt: new Date(expiresAt) };
  }

  /** Looks without claiming (HEAD). */
  peek(id: string): ExportDownload | null {
    const pending = this.#pending.get(id);
    return pending ? { file: pending.file, fileName: pending.fileName, bytes: pending.bytes } : null;
  }

  /** Claims a download: it cannot be fetched again. The caller sends the file, then calls `release`. */
  take(id: string): ExportDownload | null {
    const pending = this.#pending.get(id);
    if (!pending) return null;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return { file: pending.file, fileName: pending.fileName, bytes: pending.bytes };
  }

  async release(download: ExportDownload): Promise<void> {
    await rm(download.file, { force: true });
  }

  get size(): number {
    return this.#pending.size;
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.#pending.keys()].map((id) => this.#drop(id)));
  }

  async #drop(id: string): Promise<void> {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    await rm(pending.file, { force: true });
  }
}
