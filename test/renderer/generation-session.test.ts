import { describe, expect, it } from 'vitest';
import type { StudioApi, StudioEvent } from '../../electron/common/contract';
import type { GenerationProgress } from '../../electron/common/api/generation';
import { GenerationSession } from '../../renderer/src/lib/state/generation.svelte';
import { GenerationDefaultsState } from '../../renderer/src/lib/state/generation-defaults.svelte';

type Call = { name: string; request: unknown };

/** A host that answers calls from a table and lets the test emit events, also from inside a call. */
function fakeApi(answers: Record<string, (request: unknown) => unknown>) {
  const listeners = new Set<(event: StudioEvent) => void>();
  const calls: Array<Call> = [];
  const emit = (data: GenerationProgress) => {
    for (const l of listeners) l({ type: 'generation.progress', data } as StudioEvent);
  };
  const api = {
    async call(name: string, request: unknown) {
      calls.push({ name, request });
      const answer = answers[name];
      if (!answer) throw Object.assign(new Error(`no ${name}`), { code: 'UNKNOWN_CALL' });
      return answer(request);
    },
    subscribe(listener: (event: StudioEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as StudioApi;
  return { api, calls, emit };
}

const sampling = { tokensPerStep: 2, steps: 4, cfg: 3, cfgSchedule: 'linear', order: 'random' } as const;
const prefill = (jobId: string, fixed: Array<number> = []): GenerationProgress => ({
  jobId,
  status: 'prefill',
  kind: 'generate',
  model: 'm',
  ep: 'cpu',
  grid: [2, 2],
  width: 8,
  height: 8,
  count: 1,
  groups: 2,
  sampling,
  fixed,
  warnings: [],
});
const group = (jobId: string, g: number, positions: Array<number>, preview = true): GenerationProgress => ({
  jobId,
  status: 'group',
  group: g,
  groups: 2,
  positions,
  committed: g * 2,
  total: 4,
  elapsedMs: g * 10,
  previews: preview ? [{ png: `P${g}`, width: 8, height: 8 }] : undefined,
});

describe('generation session', () => {
  it('shows a finished image from the relative file the done event names, without asking the library', async () => {
    const { api, emit, calls } = fakeApi({
      'generation.generate': () => ({ jobId: 'j9', position: 0 }),
      'library.get': () => ({ file: 'images/wrong.png' }),
    });
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'a red circle' });
    emit({
      jobId: 'j9',
      status: 'done',
      images: [
        { id: 3, file: '/data/images/b.png', libraryFile: 'images/b.png', seed: 1, orderSeed: 1, width: 8, height: 8 },
      ],
      model: 'm',
      ep: 'cpu',
      seconds: 1,
      firstPreviewMs: null,
      warnings: [],
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(session.results[0]!.src).toBe('./files/images/b.png');
    expect(calls.map((c) => c.name)).not.toContain('library.get');
  });

  it('follows a job from submit to done, including events that beat the submit answer', async () => {
    let t = 0;
    const { api, emit } = fakeApi({
      'generation.generate': () => {
        emit({ jobId: 'j1', status: 'queued', position: 0 });
        return { jobId: 'j1', position: 0 };
      },
      'library.get': () => ({ file: 'images/a.png' }),
    });
    const timings: Array<number> = [];
    const session = new GenerationSession(api, { clock: () => (t += 100), onDone: (d) => timings.push(d.seconds) });
    await session.generate({ prompt: 'a red circle', tokensPerStep: 2 });
    expect(session.jobId).toBe('j1');
    expect(session.progress.phase).toBe('queued');
    emit(prefill('j1'));
    emit(group('other-job', 1, [0, 1]));
    emit(group('j1', 1, [0, 3]));
    expect(session.previewCount).toBe(1);
    expect(session.canvas.preview).toBe('data:image/png;base64,P1');
    expect(Array.from(session.canvas.order)).toEqual([0, -1, -1, 0]);
    emit(group('j1', 2, [1, 2], false));
    expect(session.progress.group).toBe(2);
    emit({ jobId: 'j1', status: 'decode' });
    emit({
      jobId: 'j1',
      status: 'done',
      images: [{ id: 7, file: '/data/images/a.png', seed: 1, orderSeed: 2, width: 8, height: 8 }],
      model: 'm',
      ep: 'cpu',
      seconds: 1.5,
      firstPreviewMs: 10,
      warnings: [],
    });
    expect(session.busy).toBe(false);
    expect(session.results).toHaveLength(1);
    expect(session.results[0]!.request.prompt).toBe('a red circle');
    expect(session.results[0]!.sampling).toEqual(sampling);
    expect(timings).toEqual([1.5]);
    await new Promise((r) => setTimeout(r, 0));
    expect(session.results[0]!.src).toBe('./files/images/a.png');
  });

  it('shows a quick preview while generating but never takes it for the result', async () => {
    const { api, emit } = fakeApi({
      'generation.generate': () => ({ jobId: 'q1', position: 0 }),
      'library.get': () => ({ file: 'images/q.png' }),
    });
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'a red circle' });
    emit(prefill('q1'));
    emit({ ...group('q1', 1, [0, 3]), previewKind: 'approximate' } as GenerationProgress);
    expect(session.canvas.preview).toBe('data:image/png;base64,P1');
    expect(session.live.previewKind).toBe('approximate');
    emit(group('q1', 2, [1, 2], false));
    emit({
      jobId: 'q1',
      status: 'done',
      images: [{ id: 9, file: '/data/images/q.png', seed: 1, orderSeed: 2, width: 8, height: 8 }],
      model: 'm',
      ep: 'cpu',
      seconds: 1,
      firstPreviewMs: 5,
      warnings: [],
    });
    // Until the saved file arrives the result has no picture rather than the mosaic.
    expect(session.results[0]!.src).toBeNull();
    await new Promise((r) => setTimeout(r, 0));
    expect(session.results[0]!.src).toBe('./files/images/q.png');
    expect(session.canvas.preview).toBe('./files/images/q.png');
  });

  it('never takes a partial decoded preview for the result', async () => {
    let libraryFile: (file: { file: string }) => void = () => undefined;
    const { api, emit } = fakeApi({
      'generation.generate': () => ({ jobId: 'd1', position: 0 }),
      'library.get': () => new Promise((resolve) => (libraryFile = resolve)),
    });
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'a red circle' });
    emit(prefill('d1'));
    emit(group('d1', 1, [0, 3]));
    emit(group('d1', 2, [1, 2], false));
    expect(session.canvas.preview).toBe('data:image/png;base64,P1');
    emit({
      jobId: 'd1',
      status: 'done',
      images: [{ id: 4, file: '/data/images/d.png', seed: 1, orderSeed: 2, width: 8, height: 8 }],
      model: 'm',
      ep: 'cpu',
      seconds: 1,
      firstPreviewMs: 5,
      warnings: [],
    });
    // Half the tokens are missing from the newest preview: the result waits for the saved file.
    expect(session.results[0]!.src).toBeNull();
    libraryFile({ file: 'images/d.png' });
    await new Promise((r) => setTimeout(r, 0));
    expect(session.results[0]!.src).toBe('./files/images/d.png');
    expect(session.canvas.preview).toBe('./files/images/d.png');
  });

  it('shows an image saved outside the library as its last group decoded, never a partial one', async () => {
    const { api, calls, emit } = fakeApi({ 'generation.generate': () => ({ jobId: 'n1', position: 0 }) });
    const session = new GenerationSession(api, { clock: () => 0 });
    const done = (jobId: string): GenerationProgress => ({
      jobId,
      status: 'done',
      images: [{ id: null, file: '/home/scratch/n-1.png', seed: 1, orderSeed: 2, width: 8, height: 8 }],
      model: 'm',
      ep: 'cpu',
      seconds: 1,
      firstPreviewMs: 5,
      warnings: [],
    });
    await session.generate({ prompt: 'p', history: false });
    emit(prefill('n1'));
    emit(group('n1', 1, [0, 3]));
    emit(group('n1', 2, [1, 2], false));
    emit(done('n1'));
    expect(session.results[0]!.src).toBeNull();

    await session.generate({ prompt: 'p', history: false });
    emit(prefill('n1'));
    emit(group('n1', 1, [0, 3]));
    emit(group('n1', 2, [1, 2]));
    emit(done('n1'));
    expect(session.results[0]!.src).toBe('data:image/png;base64,P2');
    await new Promise((r) => setTimeout(r, 0));
    expect(session.results[0]!.src).toBe('data:image/png;base64,P2');
    expect(calls.map((c) => c.name)).not.toContain('library.get');
  });

  it('waits, with nothing of the last job, until the job starts', async () => {
    const { api, emit } = fakeApi({
      'generation.generate': () => ({ jobId: 'w1', position: 1 }),
      'generation.cancel': () => ({ cancelled: true, state: 'cancelled' }),
      'generation.resume': () => ({ jobId: 'w1', position: 1 }),
    });
    const session = new GenerationSession(api, { clock: () => 0 });
    expect(session.waiting).toBe(false);
    await session.generate({ prompt: 'p' });
    emit({ jobId: 'w1', status: 'queued', position: 1 });
    expect(session.waiting).toBe(true);
    emit(prefill('w1'));
    expect(session.waiting).toBe(false);
    emit(group('w1', 1, [0, 3]));
    await session.cancel();
    emit({ jobId: 'w1', status: 'cancelled', committed: 2, total: 4, resumable: true });
    expect(session.waiting).toBe(false);
    // A resumed job's canvases hold its own committed tokens: nothing to hide while it waits again.
    await session.resume();
    expect(session.progress.phase).toBe('queued');
    expect(session.waiting).toBe(false);
  });

  it('keeps a cancelled job resumable and resumes without losing committed tokens', async () => {
    const { api, calls, emit } = fakeApi({
      'generation.generate': () => ({ jobId: 'j2', position: 0 }),
      'generation.cancel': () => ({ cancelled: true, state: 'cancelled' }),
      'generation.resume': () => ({ jobId: 'j2', position: 0 }),
      'generation.decodePartial': () => ({ images: [{ png: 'D', width: 8, height: 8 }], committed: 2, total: 4 }),
    });
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'p' });
    emit(prefill('j2'));
    emit(group('j2', 1, [0, 1]));
    await session.cancel();
    emit({ jobId: 'j2', status: 'cancelled', committed: 2, total: 4, resumable: true });
    expect(session.stopped).toEqual({ committed: 2, total: 4, resumable: true, reason: 'cancelled' });
    await session.decodeAsIs();
    expect(session.canvas.preview).toBe('data:image/png;base64,D');
    await session.resume();
    expect(session.stopped).toBeNull();
    expect(session.progress.running).toBe(true);
    emit(prefill('j2', [0, 1]));
    expect(Array.from(session.canvas.order)).toEqual([0, 0, -1, -1]);
    emit(group('j2', 2, [2, 3]));
    expect(session.canvas.committed).toBe(4);
    expect(calls.map((c) => c.name)).toEqual([
      'generation.generate',
      'generation.cancel',
      'generation.decodePartial',
      'generation.resume',
    ]);
  });

  it('shows a failed submit in place and stays usable', async () => {
    const { api } = fakeApi({});
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.generate({ prompt: 'p' });
    expect(session.error).toBe('no generation.generate');
    expect(session.busy).toBe(false);
  });

  it('marks the kept tokens of an edit as fixed', async () => {
    const { api, emit } = fakeApi({ 'generation.edit': () => ({ jobId: 'e', position: 0 }) });
    const session = new GenerationSession(api, { clock: () => 0 });
    await session.edit({
      prompt: 'p',
      image: { kind: 'data', base64: 'AA==' },
      mask: { kind: 'data', base64: 'AA==' },
    });
    emit(prefill('e', [0, 2]));
    expect(session.canvas.committed).toBe(2);
    expect(Array.from(session.canvas.order)).toEqual([-2, -1, -2, -1]);
  });
});

describe('generation defaults', () => {
  it('keeps valid defaults and timings, and ignores damaged storage', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
    };
    const s = new GenerationDefaultsState(storage);
    s.setDefaults({ tokensPerStep: 4, cfg: 3.5 });
    expect(() => s.setDefaults({ count: 99 })).toThrow();
    s.recordTiming('m', 4, 1200);
    const again = new GenerationDefaultsState(storage);
    expect(again.defaults).toEqual({ count: 1, tokensPerStep: 4, cfg: 3.5 });
    expect(again.timingFor('m', 4)).toBe(1200);
    expect(again.timingFor('m', 8)).toBeNull();
    store.set('vgt.settings', '{not json');
    expect(new GenerationDefaultsState(storage).defaults).toEqual({ count: 1 });
    store.set('vgt.settings', JSON.stringify({ defaults: { count: 'x' }, timings: { m: { 4: 5 } } }));
    const damaged = new GenerationDefaultsState(storage);
    expect(damaged.defaults).toEqual({ count: 1 });
    expect(damaged.timingFor('m', 4)).toBe(5);
  });
});
