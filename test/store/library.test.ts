// The library on real files: recording with embedded replay parameters, import, search (and hostile search
// text), keyset pages and filters, the name rule for tags and boards, delete without orphans, repair, and the
// way out of a damaged database.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NAME_MAX_CHARS } from '../../electron/common/api/library';
import { createStudio } from '../../electron/core/studio';
import { compactInWorker } from '../../electron/store/compact';
import { openDatabase } from '../../electron/store/db';
import { absolute } from '../../electron/store/files';
import { openLibrary, recoverLibrary, readReplayParams, type Library } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let home: string;
let cleanup: () => void;
let library: Library;

beforeEach(async () => {
  ({ home, cleanup } = tempHome());
  library = await openLibrary(home);
});
afterEach(() => {
  library.close();
  cleanup();
});

const exists = (relative: string | null) => relative !== null && existsSync(absolute(home, relative));

async function record(n: number, overrides: Parameters<typeof params>[0] = {}) {
  return library.recordGeneration(params({ seed: n, prompt: `prompt ${n}`, ...overrides }), await png(n));
}

describe('recording', () => {
  it('stores every replay parameter in the row and in the PNG, with a thumbnail', async () => {
    const p = params({ prompt: 'a blue square above a red circle', negativePrompt: 'blurry', extra: { mask: 'x' } });
    const recorded = await library.recordGeneration(p, await png(3), { timings: { totalMs: 812, firstPreviewMs: 40 } });
    const record = await library.get(recorded.id);
    expect(record.params).toEqual(p);
    expect(record.timings).toEqual({ totalMs: 812, firstPreviewMs: 40 });
    expect(record.status).toBe('done');
    expect(record.file).toBe(recorded.file);
    expect(recorded.file).toMatch(/^images\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
    const bytes = readFileSync(recorded.path);
    expect(bytes.equals(recorded.png)).toBe(true);
    expect(readReplayParams(bytes)).toEqual(p);
    const thumb = await sharp(absolute(home, record.thumb!)).metadata();
    expect(thumb.format).toBe('webp');
    expect(Math.max(thumb.width!, thumb.height!)).toBeLessThanOrEqual(256);
  });

  it('gives byte-identical files for identical settings and pixels (content-addressed)', async () => {
    const a = await record(5);
    const b = await record(5);
    expect(b.id).not.toBe(a.id);
    expect(b.file).toBe(a.file);
    expect(b.png.equals(a.png)).toBe(true);
    // deleting one keeps the file the other still shows
    await library.delete([a.id]);
    expect(exists(b.file)).toBe(true);
    await library.delete([b.id]);
    expect(exists(b.file)).toBe(false);
  });

  it('refuses parameters that break the schema, and images that are not PNGs, recording nothing', async () => {
    await expect(library.recordGeneration(params({ seed: -1 }), await png(1))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    await expect(library.recordGeneration(params(), Buffer.from('not a png'))).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
    });
    expect((await library.list()).total).toBe(0);
    expect(existsSync(path.join(home, 'images'))).toBe(false);
  });

  it('links an edit to its source image and keeps the source while the edit exists', async () => {
    const original = await record(1);
    const edit = await library.recordGeneration(
      params({ kind: 'edit', sourceImage: original.hash, prompt: 'make it green' }),
      await png(2),
    );
    expect((await library.get(original.id)).derived).toEqual([edit.id]);
    expect((await library.get(edit.id)).sourceFile).toBe(original.file);
    await library.delete([original.id]);
    expect(exists(original.file)).toBe(true); // still the edit's source
    await library.delete([edit.id]);
    expect(exists(original.file)).toBe(false);
    expect(readdirSync(path.join(home, 'images')).flatMap((d) => readdirSync(path.join(home, 'images', d)))).toEqual(
      [],
    );
  });
});

describe('import', () => {
  it('restores a generation from a PNG that left the studio, once', async () => {
    const recorded = await library.recordGeneration(params({ prompt: 'exported', seed: 42 }), await png(42));
    const original = await library.get(recorded.id);
    const other = tempHome();
    const elsewhere = await openLibrary(other.home);
    try {
      const first = await elsewhere.importPng(readFileSync(recorded.path));
      expect(first.existed).toBe(false);
      const restored = await elsewhere.get(first.id);
      expect(restored.params).toEqual(original.params);
      expect(restored.imageHash).toBe(original.imageHash);
      expect(await elsewhere.importPng(readFileSync(recorded.path))).toEqual({ id: first.id, existed: true });
      expect((await elsewhere.search({ text: 'exported' })).items.map((i) => i.id)).toEqual([first.id]);
    } finally {
      elsewhere.close();
      other.cleanup();
    }
  });

  it('refuses PNGs without parameters, with broken parameters, and non-PNGs', async () => {
    await expect(library.importPng(await png(1))).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(library.importPng(Buffer.from('GIF89a'))).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    const good = (await record(1)).png;
    const broken = Buffer.from(good);
    const at = broken.indexOf('"seed":1');
    broken.write('"seed":X', at); // CRC no longer matches
    await expect(library.importPng(broken)).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
  });
});

describe('search', () => {
  beforeEach(async () => {
    await record(1, { prompt: 'a purple triangle on a black background' });
    await record(2, { prompt: 'two green squares' });
    await record(3, { prompt: 'a café with NEAR(signs) and "quotes"' });
  });

  const ids = async (text: string, syntax?: 'plain' | 'fts') =>
    (await library.search({ text, syntax })).items.map((i) => i.prompt);

  it('finds words in prompts, tags and boards; all words must match; a trailing * is a prefix', async () => {
    expect(await ids('purple')).toEqual(['a purple triangle on a black background']);
    expect(await ids('PURPLE black')).toHaveLength(1);
    expect(await ids('purple green')).toEqual([]);
    expect(await ids('squ*')).toEqual(['two green squares']);
    expect(await ids('cafe')).toHaveLength(1); // diacritics folded
    const [green] = (await library.search({ text: 'green' })).items;
    await library.tag([green!.id], ['Keeper']);
    const board = await library.createBoard('Summer 2026');
    await library.addToBoard(board.id, [green!.id]);
    expect(await ids('keeper')).toEqual(['two green squares']);
    expect(await ids('summer')).toEqual(['two green squares']);
  });

  it('takes hostile text literally in plain mode: never an FTS5 syntax error', async () => {
    for (const text of [
      '"',
      '"unbalanced',
      'NEAR(',
      'NEAR(signs',
      'AND',
      'OR purple',
      '-purple',
      'a:b',
      '(',
      ')',
      'purple*',
      '**',
      '^x',
      'x"y',
      "'; DROP TABLE generations; --",
      '\u0000x',
    ]) {
      const result = await library.search({ text }).catch((error: { code: string }) => error.code);
      expect(result === 'SEARCH_SYNTAX' || typeof result === 'object', text).toBe(true);
    }
    expect(await ids('NEAR(signs)')).toEqual(['a café with NEAR(signs) and "quotes"']);
    expect(await ids('"quotes"')).toHaveLength(1);
    await expect(library.search({ text: '*' })).rejects.toMatchObject({ code: 'SEARCH_SYNTAX' });
    await expect(library.search({ text: '" ( )' })).rejects.toMatchObject({ code: 'SEARCH_SYNTAX' });
    expect((await library.list()).total).toBe(3);
  });

  it('answers malformed FTS5 syntax with SEARCH_SYNTAX and runs well-formed queries', async () => {
    for (const text of ['NEAR(', '"unbalanced', 'purple AND', 'nosuchcolumn:x', '(purple']) {
      await expect(library.search({ text, syntax: 'fts' }), text).rejects.toMatchObject({ code: 'SEARCH_SYNTAX' });
    }
    expect(await ids('purple OR green', 'fts')).toHaveLength(2);
    expect(await ids('prompt:triangle NOT green', 'fts')).toHaveLength(1);
  });
});

describe('gallery pages', () => {
  it('walks every item once with keyset cursors, in each sort, and totals the matches', async () => {
    const made: Array<number> = [];
    for (let n = 1; n <= 23; n += 1) made.push((await record(n)).id);
    await library.update(made.slice(0, 10), { rating: 3 });
    await library.update([made[4]!], { rating: 5 });
    for (const sort of ['newest', 'oldest', 'rating'] as const) {
      const seen: Array<number> = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await library.list({ sort, cursor, limit: 5 });
        expect(page.total).toBe(23);
        expect(page.totalExact).toBe(true);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(5);
      expect([...seen].sort((a, b) => a - b)).toEqual(made);
      if (sort === 'newest') expect(seen).toEqual([...made].reverse());
      if (sort === 'oldest') expect(seen).toEqual(made);
      if (sort === 'rating') expect(seen.slice(0, 2)).toEqual([made[4], made[9]]);
    }
    await expect(library.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    const newest = (await library.list({ limit: 5 })).nextCursor!;
    await expect(library.list({ sort: 'oldest', cursor: newest })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('filters by favorite, rating, tag, board, model, tokens per step, kind, date and status', async () => {
    const a = await record(1, { modelId: 'm1', tokensPerStep: 1 });
    const b = await record(2, { modelId: 'm2', tokensPerStep: 16 });
    const c = await record(3, { modelId: 'm2', tokensPerStep: 4 });
    const queued = await library.enqueue(params({ prompt: 'waiting' }));
    await library.update([a.id], { favorite: true, rating: 4 });
    await library.tag([b.id, c.id], ['Blue']);
    const board = await library.createBoard('picks');
    await library.addToBoard(board.id, [c.id]);
    const only = async (filters: object) => (await library.list({ filters })).items.map((i) => i.id).sort();
    expect(await only({ favorite: true })).toEqual([a.id]);
    expect(await only({ minRating: 4 })).toEqual([a.id]);
    expect(await only({ tags: ['blue'] })).toEqual([b.id, c.id]);
    expect(await only({ tags: ['blue'], boardId: board.id })).toEqual([c.id]);
    expect(await only({ modelId: 'm2', tokensPerStep: [16] })).toEqual([b.id]);
    expect(await only({ kind: ['edit'] })).toEqual([]);
    expect(await only({ createdFrom: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(await only({ createdTo: new Date(Date.now() + 60_000).toISOString() })).toHaveLength(3);
    expect(await only({ status: ['queued'] })).toEqual([queued.id]);
    const page = await library.list({ filters: { status: ['done', 'queued'] } });
    expect(page.total).toBe(4);
    expect(page.items.find((i) => i.id === queued.id)).toMatchObject({ file: null, thumb: null });
  });
});

describe('tags and boards: one name rule', () => {
  it('keeps any Unicode, folds case and whitespace, normalizes to NFC', async () => {
    const { id } = await record(1);
    await library.tag([id], ['猫', '🐈 cat', 'e\u0301te\u0301', '  Two   Words ', 'עברית', 'CAT']);
    await library.tag([id], ['cat', 'été']);
    const { tags } = await library.get(id);
    expect(tags.sort()).toEqual(['CAT', 'Two Words', 'été', 'עברית', '猫', '🐈 cat'].sort());
    expect((await library.tags('tw')).map((t) => t.name)).toEqual(['Two Words']);
    const long = 'ü'.repeat(NAME_MAX_CHARS);
    await library.tag([id], [long]);
    expect((await library.get(id)).tags).toContain(long);
  });

  it('refuses empty, over-long (10 kB) and control-character names, changing nothing', async () => {
    const { id } = await record(1);
    for (const bad of [
      '',
      '   ',
      'x'.repeat(10 * 1024),
      'ü'.repeat(NAME_MAX_CHARS + 1),
      'bell\u0007',
      'nul\u0000',
      'esc\u001b[31m',
    ]) {
      await expect(library.tag([id], [bad])).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
      await expect(library.createBoard(bad)).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    }
    expect((await library.get(id)).tags).toEqual([]);
    expect(await library.boards()).toEqual([]);
  });

  it('renames (merging into an existing tag), deletes, and drops unused tags', async () => {
    const { id: one } = await record(1);
    const { id: two } = await record(2);
    await library.tag([one], ['red']);
    await library.tag([two], ['crimson']);
    await library.renameTag('crimson', 'Red');
    expect(await library.tags()).toEqual([{ name: 'red', count: 2 }]);
    await library.tag([one, two], [], ['RED']);
    expect(await library.tags()).toEqual([]);
    const board = await library.createBoard('Best of');
    expect(await library.createBoard('best  OF')).toEqual(board);
    await library.addToBoard(board.id, [one, two]);
    expect((await library.boards())[0]).toMatchObject({ name: 'Best of', count: 2 });
    await library.renameBoard(board.id, 'Best');
    await library.deleteBoard(board.id);
    expect((await library.list()).total).toBe(2);
  });

  it('goes through the contract with the same rule (dispatch validates before the library)', async () => {
    const studio = createStudio({ home, mode: 'cli' });
    try {
      const { id } = await record(1);
      const tooLong = await studio.handle('library.tag', { ids: [id], add: ['x'.repeat(10 * 1024)] });
      expect(tooLong).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
      const empty = await studio.handle('library.boards.create', { name: ' ' });
      expect(empty).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
      expect(await studio.handle('library.tag', { ids: [id], add: ['  Fine  tag '] })).toEqual({
        ok: true,
        value: { ok: true },
      });
      expect(await studio.handle('library.get', { id })).toMatchObject({ ok: true, value: { tags: ['Fine tag'] } });
    } finally {
      await studio.dispose();
    }
  });
});

describe('delete and repair', () => {
  it('removes rows and files, never leaving an orphan', async () => {
    const a = await record(1);
    const b = await record(2);
    await library.tag([a.id], ['gone']);
    const result = await library.delete([a.id, 999]);
    expect(result).toEqual({ deleted: 1, filesRemoved: 2 });
    await expect(library.get(a.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(exists(a.file)).toBe(false);
    expect(exists(b.file)).toBe(true);
    expect(await library.tags()).toEqual([]);
    expect(await library.search({ text: 'prompt' }).then((p) => p.items.map((i) => i.id))).toEqual([b.id]);
  });

  it('reconciles: stray and temporary files go, a missing image keeps its row as failed, thumbnails come back', async () => {
    const a = await record(1);
    const b = await record(2);
    const stray = absolute(home, 'images/00/' + '0'.repeat(64) + '.png');
    writeFileSync(path.join(path.dirname(a.path), '..', 'stray.png'), 'x');
    mkdirSync(path.dirname(stray), { recursive: true });
    writeFileSync(stray, 'x');
    writeFileSync(path.join(home, 'tmp', '999999999-abc.part'), 'half');
    rmSync(a.path);
    const thumbB = absolute(home, (await library.get(b.id)).thumb!);
    rmSync(thumbB);
    const report = await library.repair();
    expect(report).toMatchObject({
      integrity: 'ok',
      orphanFilesRemoved: 3,
      tempFilesRemoved: 1,
      missingImages: 1,
      thumbnailsRebuilt: 1,
    });
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(thumbB)).toBe(true);
    expect(await library.get(a.id)).toMatchObject({ status: 'failed', file: null, params: { seed: 1 } });
    expect((await library.list()).items.map((i) => i.id)).toEqual([b.id]);
  });

  it('compacts in a worker thread: the search index is rebuilt from its source, a damaged file comes back typed', async () => {
    const a = await record(1, { prompt: 'a violet kite' });
    await record(2, { prompt: 'a grey stone' });
    const file = path.join(home, 'library.db');
    // Empty the full-text index behind the library's back; compaction must rebuild it from search_source.
    const db = openDatabase(file);
    db.exec("INSERT INTO search_index (search_index) VALUES ('delete-all')");
    db.close();
    expect((await library.search({ text: 'violet' })).items).toEqual([]);
    expect(await compactInWorker(file)).toEqual({ integrity: 'ok' });
    expect((await library.search({ text: 'violet' })).items.map((i) => i.id)).toEqual([a.id]);

    const junk = path.join(home, 'not-a-database.db');
    writeFileSync(junk, Buffer.alloc(8192, 0x5a));
    await expect(compactInWorker(junk)).rejects.toMatchObject({ code: 'DATABASE_CORRUPT' });
  });
});

describe('a damaged database', () => {
  it('is refused with DATABASE_CORRUPT, and recover moves it aside and rebuilds from the images', async () => {
    const a = await record(1, { prompt: 'survivor one' });
    const b = await record(2, { prompt: 'survivor two' });
    await library.tag([a.id], ['lost with the database']);
    library.close();
    const file = path.join(home, 'library.db');
    // Overwrite everything after the header page with garbage.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, 4096);
    closeSync(fd);
    rmSync(`${file}-wal`, { force: true });
    await expect(openLibrary(home)).rejects.toMatchObject({
      code: 'DATABASE_CORRUPT',
      message: expect.stringMatching(/recover/),
    });
    const report = await recoverLibrary(home);
    expect(report).toMatchObject({ imagesRestored: 2, imagesSkipped: 0 });
    expect(existsSync(path.join(home, report.movedTo!))).toBe(true);
    library = await openLibrary(home);
    const found = (await library.search({ text: 'survivor' })).items;
    expect(found.map((i) => i.prompt).sort()).toEqual(['survivor one', 'survivor two']);
    expect(found.map((i) => i.file).sort()).toEqual([a.file, b.file].sort());
  });

  it('the studio stays up (doctor answers) while the library is damaged, and library.recover is the way out', async () => {
    await record(1);
    library.close();
    writeFileSync(path.join(home, 'library.db'), 'not a database at all '.repeat(300));
    rmSync(path.join(home, 'library.db-wal'), { force: true });
    const studio = createStudio({ home, mode: 'web' });
    try {
      expect((await studio.handle('doctor', {})).ok).toBe(true);
      expect(await studio.handle('library.list', {})).toMatchObject({ ok: false, error: { code: 'DATABASE_CORRUPT' } });
      expect(await studio.handle('library.recover', { confirm: true })).toMatchObject({
        ok: true,
        value: { imagesRestored: 1 },
      });
      expect(await studio.handle('library.list', {})).toMatchObject({ ok: true, value: { total: 1 } });
    } finally {
      await studio.dispose();
    }
    library = await openLibrary(home);
  });
});
