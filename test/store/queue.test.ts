// The persistent queue on a real file: order, claim, finish, cancel (waiting and running), reorder, retry, and
// what a restart finds: jobs whose process died are interrupted, jobs of a live process are left alone.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, openDatabase } from '../../electron/store/db';
import { openLibrary, type Library, type LibraryChange } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let home: string;
let cleanup: () => void;
let library: Library;
let changes: Array<LibraryChange>;

beforeEach(async () => {
  ({ home, cleanup } = tempHome('vgt-queue-'));
  changes = [];
  library = await openLibrary(home, { onChange: (change) => changes.push(change) });
});
afterEach(() => {
  library.close();
  cleanup();
});

const job = (n: number) => params({ prompt: `job ${n}`, seed: n });
const order = async () => (await library.queue()).filter((i) => i.status === 'queued').map((i) => i.params.seed);

/** A pid that certainly belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function setOwner(id: number, pid: number): void {
  const db = openDatabase(path.join(home, DB_FILE));
  db.prepare('UPDATE queue SET owner_pid = ? WHERE generation_id = ?').run(pid, id);
  db.close();
}

describe('queue', () => {
  it('runs jobs in order, front-of-queue first, and records the result', async () => {
    const added = [];
    for (const n of [1, 2, 3]) added.push(await library.enqueue(job(n)));
    added.push(await library.enqueue(job(0), { front: true }));
    expect(await order()).toEqual([0, 1, 2, 3]);
    expect((await library.queue()).map((i) => i.position)).toEqual([0, 1, 2, 3]);
    // What enqueue answers (without reading the row back) is each job's place when it was added.
    expect(added.map((a) => a.position)).toEqual([0, 1, 2, 0]);
    expect((await library.queue()).map((i) => i.id)).toEqual([added[3]!.id, added[0]!.id, added[1]!.id, added[2]!.id]);
    const next = await library.nextJob();
    expect(next?.params.seed).toBe(0);
    expect((await library.queue())[0]).toMatchObject({ status: 'running', position: null });
    const done = await library.markDone(next!.id, await png(0), { totalMs: 5 });
    expect(await library.get(done.id)).toMatchObject({ status: 'done', file: done.file, timings: { totalMs: 5 } });
    expect(await order()).toEqual([1, 2, 3]);
    expect(changes).toContainEqual({ kind: 'queue', id: next!.id, status: 'done', cancelRequested: false });
    expect(changes).toContainEqual({ kind: 'generations', change: 'added', ids: [next!.id] });
  });

  it('reorders, cancels one by one, fails, and retries at the end', async () => {
    const items = [];
    for (const n of [1, 2, 3, 4]) items.push(await library.enqueue(job(n)));
    const [a, b, c, d] = items.map((i) => i.id) as [number, number, number, number];
    await library.moveJob(d, a);
    expect(await order()).toEqual([4, 1, 2, 3]);
    await library.moveJob(d, null);
    expect(await order()).toEqual([1, 2, 3, 4]);
    expect(await library.cancel(b)).toMatchObject({ status: 'cancelled', position: null });
    expect(await order()).toEqual([1, 3, 4]);
    const running = await library.nextJob();
    expect(running?.id).toBe(a);
    expect(await library.cancel(a)).toMatchObject({ status: 'running', cancelRequested: true });
    expect(await library.isCancelRequested(a)).toBe(true);
    await library.markCancelled(a, { totalMs: 3 });
    expect((await library.get(a)).status).toBe('cancelled');
    const third = await library.nextJob();
    await library.markFailed(third!.id, 'out of memory');
    expect(await library.get(c)).toMatchObject({ status: 'failed', error: 'out of memory' });
    await library.retry(c);
    await library.retry(b);
    expect(await order()).toEqual([4, 3, 2]);
    await expect(library.retry(d)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(library.moveJob(a, null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(library.markDone(d, await png(1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const runningNow = await library.nextJob();
    await expect(library.delete([runningNow!.id])).rejects.toMatchObject({ code: 'BUSY' });
  });

  it('survives a restart: waiting jobs stay in order, a dead process’s running job is interrupted and retryable', async () => {
    for (const n of [1, 2, 3]) await library.enqueue(job(n));
    const claimed = await library.nextJob();
    setOwner(claimed!.id, deadPid());
    library.close();
    library = await openLibrary(home);
    const queue = await library.queue();
    expect(queue.map((i) => [i.params.seed, i.status])).toEqual([
      [2, 'queued'],
      [3, 'queued'],
      [1, 'interrupted'],
    ]);
    expect(queue[2]!.error).toMatch(/stopped while this was running/);
    await library.retry(claimed!.id);
    expect(await order()).toEqual([2, 3, 1]);
  });

  it('leaves alone a job another live process is running', async () => {
    await library.enqueue(job(1));
    const claimed = await library.nextJob();
    setOwner(claimed!.id, process.ppid);
    expect(await library.recoverInterrupted()).toEqual([]);
    expect((await library.get(claimed!.id)).status).toBe('running');
  });

  it('keeps an edit’s source image with the job', async () => {
    const source = await png(9);
    const hash = createHash('sha256').update(source).digest('hex');
    await expect(library.enqueue(params({ kind: 'edit', sourceImage: hash }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      library.enqueue(params({ kind: 'edit', sourceImage: hash }), { source: await png(8) }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    const queued = await library.enqueue(params({ kind: 'edit', sourceImage: hash }), { source });
    library.close();
    library = await openLibrary(home);
    const next = await library.nextJob();
    expect(next).toMatchObject({ id: queued.id, params: { sourceImage: hash } });
    expect(readFileSync(next!.sourcePath!).equals(source)).toBe(true);
  });
});
