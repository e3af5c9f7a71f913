// Crashes and concurrency against real processes: a writer SIGKILLed in the middle of a queue of generations
// leaves a library that reopens consistent (integrity ok, no row without its file, no file without its row,
// no temporary files), and a gallery reading while another process writes never sees a torn row.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, openDatabase } from '../../electron/store/db';
import { absolute, listLibraryFiles } from '../../electron/store/files';
import { openLibrary } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer-child.ts');

let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ home, cleanup } = tempHome('vgt-crash-'));
});
afterEach(() => cleanup());

type Writer = Readonly<{
  child: ChildProcess;
  lines: Array<string>;
  waitFor: (test: (lines: ReadonlyArray<string>) => boolean) => Promise<void>;
  exited: Promise<number | null>;
}>;

function startWriter(mode: 'queue' | 'record', count: number): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, mode, String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<string> = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (test) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (test(lines)) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        void exited.then(() => (test(lines) ? resolve() : reject(new Error(`writer exited: ${lines.join(' | ')}`))));
        check();
      }),
  };
}

const doneIds = (lines: ReadonlyArray<string>) =>
  lines.filter((l) => l.startsWith('done ')).map((l) => Number(l.slice(5)));

/** Reopens the library (which recovers) and checks every invariant with a second connection. */
async function expectConsistent(committed: ReadonlyArray<number>): Promise<void> {
  const library = await openLibrary(home);
  const db = openDatabase(path.join(home, DB_FILE));
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const images = db.prepare('SELECT file, thumb FROM images').all() as Array<{ file: string; thumb: string }>;
    const referenced = new Set(images.flatMap((i) => [i.file, i.thumb]));
    for (const file of referenced) expect(existsSync(absolute(home, file)), `row without file: ${file}`).toBe(true);
    for (const file of listLibraryFiles(home)) expect(referenced.has(file), `file without row: ${file}`).toBe(true);
    const tmp = path.join(home, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM pending_files').pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM generations WHERE status = 'running'").pluck().get()).toBe(0);
    const status = db.prepare('SELECT status FROM generations WHERE id = ?').pluck();
    for (const id of committed) expect(status.get(id), `generation ${id} was reported done`).toBe('done');
    const done = db.prepare("SELECT count(*) FROM generations WHERE status = 'done'").pluck().get() as number;
    expect((await library.list()).total).toBe(done);
  } finally {
    db.close();
    library.close();
  }
}

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

describe('crash safety', () => {
  it('finishes what a dead process left half done: its staged files go, recorded files stay', async () => {
    const library = await openLibrary(home);
    const kept = await library.recordGeneration(params({ seed: 1 }), await png(1));
    library.close();
    const db = openDatabase(path.join(home, DB_FILE));
    const dead = deadPid();
    const register = db.prepare('INSERT INTO pending_files (path, pid, purpose, created_at) VALUES (?, ?, ?, 0)');
    // killed after writing a file, before the row: the file has no row
    const staged = `images/ff/${'f'.repeat(64)}.png`;
    mkdirSync(path.dirname(absolute(home, staged)), { recursive: true });
    writeFileSync(absolute(home, staged), 'staged');
    register.run(staged, dead, 'write');
    // killed after the commit that recorded a file, before dropping its registration: the file has a row
    register.run(kept.file, dead, 'write');
    // killed after deleting a row, before the unlink
    const unlinked = `thumbs/ee/${'e'.repeat(64)}.webp`;
    mkdirSync(path.dirname(absolute(home, unlinked)), { recursive: true });
    writeFileSync(absolute(home, unlinked), 'orphan');
    register.run(unlinked, dead, 'remove');
    writeFileSync(path.join(home, 'tmp', `${dead}-abc.part`), 'half');
    db.close();
    await expectConsistent([kept.id]);
    expect(existsSync(absolute(home, staged))).toBe(false);
    expect(existsSync(absolute(home, unlinked))).toBe(false);
    expect(existsSync(kept.path)).toBe(true);
  });

  it('kill -9 in the middle of a queue of generations, twice over: the library reopens consistent', async () => {
    const committed: Array<number> = [];
    for (let round = 0; round < 2; round += 1) {
      // Far more jobs than it can finish before the kill, so it is always killed mid-queue (a short queue could end
      // first on a loaded machine, and the child then exits 0).
      const writer = startWriter('queue', 60);
      await writer.waitFor((lines) => doneIds(lines).length >= 2);
      // Somewhere inside the next job: staging files, the commit, or between them.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
      writer.child.kill('SIGKILL');
      expect(await writer.exited).toBeNull();
      committed.push(...doneIds(writer.lines));
      await expectConsistent(committed);
    }
    // What was interrupted can run again to the end.
    const library = await openLibrary(home);
    const interrupted = (await library.queue()).filter((i) => i.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    for (const item of interrupted) await library.retry(item.id);
    library.close();
    const finisher = startWriter('queue', 0);
    expect(await finisher.exited).toBe(0);
    await expectConsistent([...committed, ...doneIds(finisher.lines)]);
    const after = await openLibrary(home);
    expect((await after.queue()).length).toBe(0);
    after.close();
  }, 60_000);

  it('a gallery reading while another process writes never sees a torn row', async () => {
    const library = await openLibrary(home);
    const writer = startWriter('record', 20);
    let finished = false;
    void writer.exited.then(() => (finished = true));
    let reads = 0;
    let partial = 0;
    try {
      while (!finished || reads < 3) {
        const page = await library.list({ limit: 200 });
        // One snapshot: the total and the items agree, ids are unique and newest first.
        expect(page.total).toBe(page.items.length);
        const ids = page.items.map((i) => i.id);
        expect(ids).toEqual([...ids].sort((a, b) => b - a));
        for (const item of page.items) {
          expect(item.prompt).toBe(`prompt ${item.seed}`);
          expect(existsSync(absolute(home, item.file!)), item.file!).toBe(true);
          expect(existsSync(absolute(home, item.thumb!)), item.thumb!).toBe(true);
        }
        if (page.items[0]) {
          const record = await library.get(page.items[0].id);
          expect(record.params.seed).toBe(page.items[0].seed);
          expect(record.file).toContain(record.imageHash);
        }
        if (page.items.length > 0 && page.items.length < 20) partial += 1;
        reads += 1;
        // The library answers synchronously underneath: let the writer's pipe and exit events in.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await writer.exited).toBe(0);
      expect(reads).toBeGreaterThan(3);
      expect((await library.list({ limit: 200 })).total).toBe(20);
      // The reads really overlapped the writes.
      expect(partial).toBeGreaterThan(0);
    } finally {
      library.close();
    }
  }, 60_000);
});
