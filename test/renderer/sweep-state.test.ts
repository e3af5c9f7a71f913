// The Sweep view's state without a browser: the form becomes a sweep request (or says what to fix), and progress
// events, even those that arrive before `sweep.start` answers, fill the grid in.
import { describe, expect, it } from 'vitest';
import type { StudioApi, StudioEvent, SweepCell } from '../../electron/common/contract';
import { parseValues, SweepState } from '../../renderer/src/lib/state/sweep.svelte';

const sampling = { tokensPerStep: 4, steps: 20, cfg: 3, cfgSchedule: 'linear', order: 'random' } as const;
const cell = (col: number, pass: boolean | null): SweepCell => ({
  col,
  row: 0,
  x: [1, 4][col] ?? 0,
  y: null,
  id: col + 1,
  file: `/lib/${col}.png`,
  seed: 5,
  orderSeed: 5,
  sampling,
  msPerImage: 100 * (col + 1),
  pass,
});

/** An API whose `sweep.start` emits `started` and a first cell before it answers, as a fast host can. */
function fakeApi(): { api: StudioApi; calls: Array<[string, unknown]>; emit: (event: StudioEvent) => void } {
  const listeners = new Set<(event: StudioEvent) => void>();
  const calls: Array<[string, unknown]> = [];
  const emit = (event: StudioEvent) => listeners.forEach((l) => l(event));
  const api = {
    async call(name: string, request: unknown) {
      calls.push([name, request]);
      if (name === 'sweep.start') {
        const x = { axis: 'tokensPerStep' as const, values: [1, 4] };
        emit({
          type: 'sweep.progress',
          data: { sweepId: 's1', status: 'started', prompt: 'p', model: 'm', x, y: null, scored: true, total: 2 },
        });
        emit({
          type: 'sweep.progress',
          data: { sweepId: 's1', status: 'cell', cell: cell(0, true), done: 1, total: 2 },
        });
        return { sweepId: 's1', total: 2 };
      }
      if (name === 'library.get') return { file: 'images/a.png' };
      throw new Error(`unexpected ${name}`);
    },
    subscribe(listener: (event: StudioEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as StudioApi;
  return { api, calls, emit };
}

describe('sweep form', () => {
  it('reads value lists', () => {
    expect(parseValues('1, 2,4  8')).toEqual([1, 2, 4, 8]);
    expect(parseValues('1.5,3')).toEqual([1.5, 3]);
    expect(parseValues(' ')).toMatch(/at least one value/);
    expect(parseValues('1, x')).toMatch(/“x” is not a number/);
  });

  it('makes the request from the form, with number fields as the inputs bind them', () => {
    const state = new SweepState(fakeApi().api);
    state.prompt = 'a red circle';
    state.xAxis = 'cfg';
    state.xValues = '1, 2.5';
    state.yAxis = '';
    state.steps = 10; // a number input binds a number
    state.seed = null; // …or null when emptied
    expect(state.request()).toEqual({ prompt: 'a red circle', x: { axis: 'cfg', values: [1, 2.5] }, steps: 10 });
    state.yAxis = 'cfg';
    expect(state.request()).toMatch(/two different settings/);
    state.yAxis = 'seed';
    state.yValues = 'a';
    expect(state.request()).toMatch(/^Seed: /);
  });

  it('fills the grid from progress events, including those before the start call answers', async () => {
    const { api, calls, emit } = fakeApi();
    const state = new SweepState(api);
    state.yAxis = '';
    state.xValues = '1, 4';
    await state.start();
    expect(calls[0]?.[0]).toBe('sweep.start');
    expect(state.sweepId).toBe('s1');
    expect(state.running).toBe(true);
    expect(state.plan).toMatchObject({ total: 2, scored: true, model: 'm' });
    expect(state.cellAt(0, 0)?.msPerImage).toBe(100);
    emit({
      type: 'sweep.progress',
      data: { sweepId: 'other', status: 'cell', cell: cell(1, true), done: 1, total: 1 },
    });
    expect(state.cellAt(1, 0)).toBeUndefined();
    emit({ type: 'sweep.progress', data: { sweepId: 's1', status: 'cell', cell: cell(1, false), done: 2, total: 2 } });
    expect(state.columnSummary(1)).toEqual({ ms: 200, passed: 0, scored: 1 });
    emit({
      type: 'sweep.progress',
      data: { sweepId: 's1', status: 'cancelled', cells: [cell(0, true), cell(1, false)] },
    });
    expect(state.running).toBe(false);
    expect(state.outcome).toBe('cancelled');
    // Each cell shows its library file once known.
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(state.cellAt(0, 0)?.src).toBe('./files/images/a.png');
    state.dispose();
  });
});
