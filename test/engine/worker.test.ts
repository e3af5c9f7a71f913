import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, type EngineJob, type EngineProgress } from '../../electron/engine/engine';
import { EngineThread } from '../../electron/engine/engine-thread';
import { TINY_BUNDLE } from './golden';
import { planned, type JobFields } from './planned';

const worker = new EngineThread({ threads: 1 });
afterAll(() => worker.dispose());

const job = (jobId: string, overrides: Partial<JobFields> = {}): Promise<EngineJob> =>
  planned({
    jobId,
    kind: 'generate',
    bundleDir: TINY_BUNDLE,
    modelId: 'tiny',
    prompt: 'a blue square',
    sampling: { tokensPerStep: 4, steps: 3 },
    seeds: [21],
    orderSeeds: [22],
    previews: true,
    ...overrides,
  });

describe('engine worker thread', () => {
  it('runs a job off the main thread with the same bytes as the in-process engine', async () => {
    const events: Array<EngineProgress['status']> = [];
    const inWorker = await worker.run(await job('w1'), (p) => events.push(p.status));
    const local = new Engine({ threads: 1 });
    try {
      const inProcess = await local.run(await job('l1'), () => undefined);
      if (inWorker.status !== 'done' || inProcess.status !== 'done') throw new Error('expected done');
      expect(Buffer.from(inWorker.images[0]!.png).equals(Buffer.from(inProcess.images[0]!.png))).toBe(true);
    } finally {
      await local.dispose();
    }
    expect(events[0]).toBe('prefill');
    expect(events.filter((s) => s === 'group')).toHaveLength(16);
    expect(events.at(-1)).toBe('decode');
    expect(await worker.status()).toMatchObject({ ep: 'cpu', model: { id: 'vgt-tiny-test' } });
  });

  it('cancels through the thread boundary and returns a checkpoint it can decode', async () => {
    const j = await job('w2', { sampling: { tokensPerStep: 1, steps: 3 } });
    const outcome = await worker.run(j, (p) => p.status === 'group' && p.group === 3 && worker.cancel(j.jobId));
    expect(outcome.status).toBe('cancelled');
    if (outcome.status !== 'cancelled') return;
    expect(outcome.committed).toBeGreaterThanOrEqual(3);
    const previews = await worker.decodeCheckpoint(TINY_BUNDLE, outcome.checkpoint);
    expect(previews[0]!.png.length).toBeGreaterThan(0);
  });

  it('passes typed errors back', async () => {
    // The host's plan refuses a bad request before any job reaches the worker; the worker's own errors cross typed.
    await expect(job('w3', { sampling: { tokensPerStep: 1000 } })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    const moved = { ...(await job('w3')), bundleDir: path.join(TINY_BUNDLE, 'no-such-bundle') };
    await expect(worker.run(moved, () => undefined)).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    await expect(worker.reconstruct(TINY_BUNDLE, 'tiny', new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: 'IMAGE_INVALID',
    });
  });
});
