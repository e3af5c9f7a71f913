import { describe, expect, it } from 'vitest';
import { VirtualGridState } from '../../renderer/src/lib/state/virtual-grid.svelte';
import { CompareState } from '../../renderer/src/lib/state/compare.svelte';

describe('virtual grid', () => {
  const make = (count: number) => {
    const g = new VirtualGridState();
    g.count = count;
    g.width = 990;
    g.height = 600;
    g.minCell = 160;
    g.gap = 8;
    return g;
  };

  it('renders only the rows in view, whatever the item count', () => {
    const g = make(100_000);
    expect(g.columns).toBe(5);
    expect(g.cellSize).toBeCloseTo(191.6);
    expect(g.rows).toBe(20_000);
    expect(g.totalHeight).toBeCloseTo(20_000 * 199.6 - 8);
    const first = g.visible.length;
    expect(first).toBeLessThanOrEqual(5 * 9);
    g.scrollTop = 2_000_000;
    expect(g.visible.length).toBeLessThanOrEqual(5 * 9);
    const top = g.visible[0]!;
    expect(top.index % 5).toBe(0);
    expect(top.y).toBeLessThanOrEqual(2_000_000);
    expect(top.y).toBeGreaterThan(2_000_000 - 3 * 199.6);
  });

  it('stops at the last item and handles an empty or narrow grid', () => {
    const g = make(7);
    g.scrollTop = 0;
    expect(g.visible.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    g.count = 0;
    expect(g.visible).toEqual([]);
    expect(g.totalHeight).toBe(0);
    g.count = 3;
    g.width = 50;
    expect(g.columns).toBe(1);
  });

  it('moves a keyboard cursor and scrolls it into view', () => {
    const g = make(100);
    expect(g.navigate('ArrowRight')).toBe(0);
    expect(g.navigate('ArrowDown')).toBe(5);
    expect(g.navigate('ArrowLeft')).toBe(4);
    expect(g.navigate('End')).toBe(99);
    expect(g.navigate('ArrowRight')).toBe(99);
    expect(g.navigate('x')).toBeNull();
    expect(g.scrollFor(99)).toBeCloseTo(19 * 199.6 + 191.6 - 600);
    g.scrollTop = 1000;
    expect(g.scrollFor(0)).toBe(0);
    expect(g.scrollFor(32)).toBe(1000);
  });
});

describe('compare', () => {
  it('clamps the slider and blinks only in blink mode', () => {
    const c = new CompareState();
    c.setPosition(1.7);
    expect(c.position).toBe(1);
    c.nudge(-0.05);
    expect(c.position).toBe(0.95);
    c.setPosition(Number.NaN);
    expect(c.position).toBe(0.5);
    c.blink();
    expect(c.showingSecond).toBe(false);
    c.setMode('blink');
    c.blink();
    expect(c.showingSecond).toBe(true);
    c.setMode('slider');
    expect(c.showingSecond).toBe(false);
  });
});
