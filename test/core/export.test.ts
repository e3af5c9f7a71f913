// library.export and library.reveal through the studio's dispatch: what each host mode may do, the zip and folder
// contents (PNGs that still carry their replay parameters, plus a manifest), one-time downloads, and confinement.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportManifestSchema, EXPORT_MANIFEST_NAME } from '../../electron/common/api/library';
import type { CallResult } from '../../electron/common/contract';
import { collectExport, ExportDownloads } from '../../electron/core/export';
import type { DesktopCapabilities } from '../../electron/core/services';
import { createStudio, type Studio } from '../../electron/core/studio';
import { embedReplayParams, readReplayParams } from '../../electron/store/library';
import { params, png, tempHome } from '../store/helpers';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

type Desktop = DesktopCapabilities & { revealed: Array<string>; asked: Array<string> };

/** A desktop shell whose dialogs answer `answer` (null: the user cancelled). */
function fakeDesktop(answer: () => string | null): Desktop {
  const revealed: Array<string> = [];
  const asked: Array<string> = [];
  return {
    revealed,
    asked,
    revealFile: (file) => void revealed.push(file),
    copyImage: () => undefined,
    startDrag: () => undefined,
    chooseFolder: async (title) => (asked.push(title), answer()),
    chooseSaveFile: async (title, defaultName) => (asked.push(`${title} | ${defaultName}`), answer()),
  };
}

function open(
  mode: 'app' | 'web' | 'cli',
  desktop?: DesktopCapabilities,
): { studio: Studio; home: string; base: string } {
  const { home: base, cleanup } = tempHome('vgt-export-');
  const home = path.join(base, 'home');
  const studio = createStudio({ home, mode, builtinBundles: [], desktop });
  cleanups.push(cleanup, () => studio.dispose());
  return { studio, home, base };
}

function value<T>(result: CallResult<unknown>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

/** Imports `n` studio PNGs (prompts `export test <i>`) and answers their ids. */
async function seed(studio: Studio, n: number): Promise<Array<number>> {
  const ids: Array<number> = [];
  for (let i = 0; i < n; i++) {
    const bytes = embedReplayParams(await png(1000 + i), params({ prompt: `export test ${i}`, seed: i + 1 }));
    ids.push(value<{ id: number }>(await studio.handle('library.import', { png: bytes.toString('base64') })).id);
  }
  return ids;
}

/** The zip's files, checked: N PNGs whose embedded parameters match the manifest, and the manifest itself. */
function readExport(zip: Uint8Array) {
  const files = unzipSync(zip);
  const manifest = ExportManifestSchema.parse(JSON.parse(Buffer.from(files[EXPORT_MANIFEST_NAME]!).toString('utf8')));
  const pngs = Object.keys(files).filter((name) => name.endsWith('.png'));
  for (const entry of manifest.images) {
    expect(readReplayParams(files[entry.file]!)).toEqual(entry.params);
  }
  return { manifest, pngs, files };
}

const code = (result: CallResult<unknown>) => (result.ok ? 'ok' : result.error.code);

describe('library.export to a download (web mode)', () => {
  it('zips the PNGs with their parameters and a manifest, served once', async () => {
    const { studio, home } = open('web');
    const ids = await seed(studio, 3);
    const ready = value<{ status: string; downloadId: string; count: number; skipped: number; bytes: number }>(
      await studio.handle('library.export', { ids, to: 'download' }),
    );
    expect(ready).toMatchObject({ status: 'ready', count: 3, skipped: 0 });
    const download = studio.services.exports.take(ready.downloadId);
    expect(download).not.toBeNull();
    expect(download!.file.startsWith(path.join(home, 'tmp'))).toBe(true);
    const zip = readFileSync(download!.file);
    expect(zip.length).toBe(ready.bytes);
    const { manifest, pngs } = readExport(zip);
    expect(pngs.sort()).toEqual(ids.map((id) => `vgt-${id}.png`).sort());
    expect(manifest.images.map((i) => i.params.prompt).sort()).toEqual([
      'export test 0',
      'export test 1',
      'export test 2',
    ]);
    // Served once: the id is spent, and the file goes after it was sent.
    expect(studio.services.exports.take(ready.downloadId)).toBeNull();
    await studio.services.exports.release(download!);
    expect(existsSync(download!.file)).toBe(false);
  });

  it('refuses ids that are not in the library, and hosts that cannot serve downloads', async () => {
    const web = open('web');
    const [id] = await seed(web.studio, 1);
    expect(code(await web.studio.handle('library.export', { ids: [id, 999], to: 'download' }))).toBe('NOT_FOUND');
    expect(code(await web.studio.handle('library.export', { ids: [id], to: 'zip' }))).toBe('UNSUPPORTED');
    expect(code(await web.studio.handle('library.export', { ids: [id], to: 'folder' }))).toBe('UNSUPPORTED');
    expect(code(await web.studio.handle('library.export', { ids: [], to: 'download' }))).toBe('INVALID_PAYLOAD');
    expect(code(await web.studio.handle('library.export', { ids: [id], to: '/tmp/x' }))).toBe('INVALID_PAYLOAD');
    const cli = open('cli');
    expect(code(await cli.studio.handle('library.export', { ids: [1], to: 'download' }))).toBe('UNSUPPORTED');
  });

  it('skips generations without an image and refuses when none has one', async () => {
    const { studio } = open('cli');
    const [done] = await seed(studio, 1);
    const library = await studio.services.library.get();
    const queued = await library.enqueue(params({ prompt: 'still waiting' }));
    const collected = await collectExport(studio.services, [done!, queued.id, done!]);
    expect(collected.entries.map((e) => e.record.id)).toEqual([done]);
    expect(collected.skipped).toBe(1);
    await expect(collectExport(studio.services, [queued.id])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('drops unclaimed downloads when they expire', async () => {
    const { studio, home } = open('cli');
    const ids = await seed(studio, 1);
    const downloads = new ExportDownloads(home, 50);
    cleanups.push(() => downloads.dispose());
    const ready = await downloads.prepare(await collectExport(studio.services, ids));
    const file = downloads.peek(ready.id)!.file;
    expect(existsSync(file)).toBe(true);
    await expect.poll(() => existsSync(file)).toBe(false);
    expect(downloads.take(ready.id)).toBeNull();
  });
});

describe('library.export and library.reveal in the desktop app', () => {
  it('saves a zip where the user chose, and writes nothing when the dialog is cancelled', async () => {
    let answer: string | null = null;
    const desktop = fakeDesktop(() => answer);
    const { studio, base } = open('app', desktop);
    const ids = await seed(studio, 2);
    expect(value(await studio.handle('library.export', { ids, to: 'zip' }))).toEqual({ status: 'cancelled' });
    expect(desktop.asked[0]).toMatch(/^Export 2 images \| vgt-export-2-images-\d{8}-\d{6}\.zip$/);
    answer = path.join(base, 'out', 'mine.zip');
    mkdirSync(path.dirname(answer));
    writeFileSync(answer, 'the dialog asked before replacing this');
    const saved = value<{ status: string; path: string; count: number }>(
      await studio.handle('library.export', { ids, to: 'zip' }),
    );
    expect(saved).toMatchObject({ status: 'saved', path: answer, count: 2 });
    expect(readExport(readFileSync(answer)).pngs).toHaveLength(2);
    // No partial file is left beside it.
    expect(readdirSync(path.dirname(answer))).toEqual(['mine.zip']);
  });

  it('copies into a folder without overwriting what is there', async () => {
    const { studio, base } = open(
      'app',
      fakeDesktop(() => path.join(base, 'picked')),
    );
    const ids = await seed(studio, 2);
    const first = value<{ path: string; count: number }>(await studio.handle('library.export', { ids, to: 'folder' }));
    expect(first).toMatchObject({ status: 'saved', count: 2 });
    value(await studio.handle('library.export', { ids, to: 'folder' }));
    const names = readdirSync(first.path).sort();
    expect(names).toEqual(
      [
        ...ids.flatMap((id) => [`vgt-${id}.png`, `vgt-${id} (2).png`]),
        EXPORT_MANIFEST_NAME,
        'vgt-export (2).json',
      ].sort(),
    );
    const manifest = ExportManifestSchema.parse(
      JSON.parse(readFileSync(path.join(first.path, 'vgt-export (2).json'), 'utf8')),
    );
    expect(manifest.images.map((i) => i.file).sort()).toEqual(ids.map((id) => `vgt-${id} (2).png`).sort());
    for (const entry of manifest.images) {
      expect(readReplayParams(readFileSync(path.join(first.path, entry.file)))).toEqual(entry.params);
    }
  });

  it('reveals the image file inside the library, and nothing outside it', async () => {
    const desktop = fakeDesktop(() => null);
    const { studio, home, base } = open('app', desktop);
    const [id] = await seed(studio, 1);
    expect(value(await studio.handle('library.reveal', { id }))).toEqual({ ok: true });
    const record = value<{ file: string }>(await studio.handle('library.get', { id }));
    expect(desktop.revealed).toEqual([path.join(home, ...record.file.split('/'))]);
    expect(code(await studio.handle('library.reveal', { id: 424242 }))).toBe('NOT_FOUND');
    expect(code(await studio.handle('library.reveal', { id: '1' }))).toBe('INVALID_PAYLOAD');
    // A library file swapped for a link that leads out of the data folder is refused, not revealed.
    const file = path.join(home, ...record.file.split('/'));
    writeFileSync(path.join(base, 'elsewhere.png'), 'x');
    rmSync(file);
    symlinkSync(path.join(base, 'elsewhere.png'), file);
    expect(code(await studio.handle('library.reveal', { id }))).toBe('PATH_OUTSIDE_LIBRARY');
    expect(code(await studio.handle('library.export', { ids: [id], to: 'zip' }))).toBe('PATH_OUTSIDE_LIBRARY');
    expect(desktop.revealed).toHaveLength(1);
  });

  it('says revealing needs the app in web mode and the CLI', async () => {
    for (const mode of ['web', 'cli'] as const) {
      const { studio } = open(mode);
      const [id] = await seed(studio, 1);
      const result = await studio.handle('library.reveal', { id });
      expect(result).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    }
  });
});

describe('doctor capabilities', () => {
  it('tells the renderer what this host can do', async () => {
    const cases = [
      ['app', fakeDesktop(() => null), { revealFile: true, chooseLocation: true, downloads: false }],
      ['web', undefined, { revealFile: false, chooseLocation: false, downloads: true }],
      ['cli', undefined, { revealFile: false, chooseLocation: false, downloads: false }],
    ] as const;
    for (const [mode, desktop, capabilities] of cases) {
      const { studio } = open(mode, desktop);
      expect(value<{ capabilities: unknown }>(await studio.handle('doctor', {})).capabilities).toEqual(capabilities);
    }
  });
});
