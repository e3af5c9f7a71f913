// `vgt queue list|cancel|move|retry --json` over a real library's persistent queue (the CLI never runs these jobs).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../electron/cli/main';
import { openLibrary } from '../../electron/store/library';
import { params, tempHome } from '../store/helpers';

let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ home, cleanup } = tempHome('vgt-queue-cli-'));
});
afterEach(() => cleanup());

async function vgt(...argv: Array<string>): Promise<{ code: number; json: Record<string, unknown> }> {
  let out = '';
  const io: CliIo = { stdout: (t) => (out += t), stderr: () => {}, env: { VGT_STUDIO_HOME: home } };
  const code = await main([...argv, '--json'], io);
  expect(out.trim().split('\n')).toHaveLength(1);
  return { code, json: JSON.parse(out) as Record<string, unknown> };
}

const order = async (): Promise<Array<number>> =>
  ((await vgt('queue', 'list')).json.items as Array<{ id: number; position: number | null }>)
    .filter((i) => i.position !== null)
    .map((i) => i.id);

describe('vgt queue', () => {
  it('lists the queue in order, moves, cancels and retries jobs', async () => {
    const library = await openLibrary(home);
    const ids: Array<number> = [];
    for (const seed of [1, 2, 3]) ids.push((await library.enqueue(params({ seed }))).id);
    library.close();
    const [a, b, c] = ids as [number, number, number];

    expect(await order()).toEqual([a, b, c]);
    expect((await vgt('queue', 'move', String(c), '--before', String(a))).json).toEqual({ moved: c, before: a });
    expect(await order()).toEqual([c, a, b]);
    await vgt('queue', 'move', String(c));
    expect(await order()).toEqual([a, b, c]);

    const cancelled = await vgt('queue', 'cancel', String(b));
    expect(cancelled.json.item).toMatchObject({ id: b, status: 'cancelled', position: null });
    expect(await order()).toEqual([a, c]);
    const retried = await vgt('queue', 'retry', String(b));
    expect(retried.json.item).toMatchObject({ id: b, status: 'queued' });
    expect(await order()).toEqual([a, c, b]);

    const bad = await vgt('queue', 'move', 'x');
    expect(bad.code).toBe(2);
    expect(bad.json).toMatchObject({ error: { code: 'USAGE' } });
    expect((await vgt('queue', 'cancel', '999')).json).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
