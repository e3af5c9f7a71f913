import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineJob, type EngineOutcome } from '../../electron/engine/engine';
import type { TimelineData } from '../../electron/engine/fork';
import { planned, type JobFields } from './planned';

/** The random-weight test bundle (its own folder, so these tests do not depend on the golden traces). */
const TINY_BUNDLE = path.resolve('test/fixtures/tiny-bundle');

const engine = new Engine({ threads: 1 });
afterAll(() => engine.dispose());

let jobCount = 0;
const parent = {
  prompt: 'a red circle left of a blue square',
  sampling: { tokensPerStep: 4, steps: 3, cfg: 3 },
  seed: 7,
  orderSeed: 11,
};

function job(overrides: Partial<JobFields> = {}): Promise<EngineJob> {
  return planned({
    jobId: `fork-${++jobCount}`,
    kind: 'generate',
    bundleDir: TINY_BUNDLE,
    modelId: 'tiny',
    prompt: parent.prompt,
    sampling: parent.sampling,
    seeds: [parent.seed],
    orderSeeds: [parent.orderSeed],
    previews: false,
    ...overrides,
  });
}

async function run(j: Promise<EngineJob>): Promise<EngineOutcome & { status: 'done' }> {
  const outcome = await engine.run(await j, () => undefined);
  if (outcome.status !== 'done') throw new Error(`expected done, got ${outcome.status}`);
  return outcome;
}

function timeline(outcome: EngineOutcome & { status: 'done' }): TimelineData {
  const t = outcome.images[0]?.timeline;
  if (!t) throw new Error('no timeline');
  return t;
}

/** The latents of the cells of the first `groups` groups, as raw bytes, in commit order. */
function prefixBytes(t: TimelineData, groups: number): Buffer {
  const cells = t.groups.slice(0, groups).reduce((a, b) => a + b, 0);
  const out = new Float32Array(cells * t.dZ);
  for (let i = 0; i < cells; i++) {
    const cell = t.order[i] ?? 0;
    out.set(t.latents.subarray(cell * t.dZ, (cell + 1) * t.dZ), i * t.dZ);
  }
  return Buffer.from(out.buffer);
}

describe('fork', () => {
  it('keeps the order and committed latents of every group in the timeline', async () => {
    const t = timeline(await run(job()));
    expect(t.groups).toHaveLength(16);
    expect(t.groups.reduce((a, b) => a + b, 0)).toBe(64);
    expect(new Set(t.order).size).toBe(64);
    expect(t.latents).toHaveLength(64 * t.dZ);
  });

  it('with a new seed keeps the first g groups bit for bit and changes the rest', async () => {
    const p = timeline(await run(job()));
    const fork = await run(job({ seeds: [99], fork: { parent, group: 5 } }));
    const f = timeline(fork);
    expect(Array.from(f.order)).toEqual(Array.from(p.order));
    expect(prefixBytes(f, 5).equals(prefixBytes(p, 5))).toBe(true);
    expect(prefixBytes(f, 6).equals(prefixBytes(p, 6))).toBe(false);
  });

  it("with the parent's own seed and settings is the parent, byte for byte", async () => {
    const a = await run(job());
    const b = await run(job({ fork: { parent, group: 9 } }));
    expect(Buffer.from(b.images[0]!.png).equals(Buffer.from(a.images[0]!.png))).toBe(true);
  });

  it('with another prompt or tokens per step replays the first g groups exactly, then differs', async () => {
    const p = timeline(await run(job()));
    const prompt = await run(job({ prompt: 'three green triangles', fork: { parent, group: 6 } }));
    expect(prefixBytes(timeline(prompt), 6).equals(prefixBytes(p, 6))).toBe(true);
    expect(prefixBytes(timeline(prompt), 7).equals(prefixBytes(p, 7))).toBe(false);

    const k = await run(job({ sampling: { ...parent.sampling, tokensPerStep: 8 }, fork: { parent, group: 6 } }));
    const tk = timeline(k);
    expect(tk.groups.slice(0, 6)).toEqual(p.groups.slice(0, 6));
    expect(tk.groups.slice(6)).toEqual([8, 8, 8, 8, 8]);
    expect(prefixBytes(tk, 6).equals(prefixBytes(p, 6))).toBe(true);
  });

  it('refuses a group outside the parent', async () => {
    await expect(run(job({ seeds: [1], fork: { parent, group: 17 } }))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
  });
});
