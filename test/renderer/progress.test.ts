import { describe, expect, it } from 'vitest';
import { ProgressState } from '../../renderer/src/lib/state/progress.svelte';

describe('progress and ETA', () => {
  it('counts groups, elapsed time and an ETA from the recent pace', () => {
    const p = new ProgressState();
    p.start(1000);
    expect(p.running).toBe(true);
    p.update('prefill', 1500, undefined, 10);
    expect(p.etaMs).toBeNull();
    p.update('group', 2500, 1, 10);
    // The first group includes the prefill, so it sets no pace yet.
    expect(p.etaMs).toBeNull();
    p.update('group', 3500, 2);
    p.update('group', 4500, 3);
    expect(p.group).toBe(3);
    expect(p.fraction).toBeCloseTo(0.3);
    expect(p.elapsedMs).toBe(3500);
    expect(p.etaMs).toBe(7000);
    p.tick(5000);
    expect(p.etaMs).toBe(6500);
  });

  it('spreads a burst of groups over the interval and follows a change of pace', () => {
    const p = new ProgressState();
    p.start(0, 20);
    p.update('group', 100, 1);
    p.update('group', 500, 5);
    expect(p.etaMs).toBe(1500);
    for (let g = 6; g <= 13; g++) p.update('group', 500 + (g - 5) * 200, g);
    expect(p.etaMs).toBe(7 * 200);
  });

  it('ends at 100% when done and has no ETA once stopped', () => {
    const p = new ProgressState();
    p.start(0, 4);
    p.update('group', 10, 1);
    p.update('group', 20, 2);
    p.update('cancelled', 25);
    expect(p.running).toBe(false);
    expect(p.etaMs).toBeNull();
    expect(p.fraction).toBe(0.5);
    p.start(100, 4, 2);
    expect(p.group).toBe(2);
    expect(p.etaMs).toBeNull();
    p.update('done', 300);
    expect(p.fraction).toBe(1);
  });
});
