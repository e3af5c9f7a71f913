import { describe, expect, it } from 'vitest';
import { DecodeCost, PreviewPacer } from '../../electron/engine/preview-pacer';

const cost = (ms: number | null, images = 1): DecodeCost => {
  const c = new DecodeCost();
  if (ms !== null) c.record(ms, images);
  return c;
};

describe('preview pacer', () => {
  it('decodes once the sampling time since the last preview pays for it within the budget', () => {
    // 20 ms per decode, 4 ms per group, 20 %: 20 < 0.2 × 4 × n needs n ≥ 26 groups.
    const pacer = new PreviewPacer({ budget: 0.2, minGroups: 3 }, cost(20), 1);
    const due: Array<number> = [];
    for (let g = 1; g <= 64; g++) {
      pacer.group(4);
      if (pacer.due()) {
        due.push(g);
        pacer.decoded();
      }
    }
    expect(due).toEqual([26, 52]);
  });

  it('never closer than the minimum spacing, however cheap the decode', () => {
    const pacer = new PreviewPacer({ budget: 0.2, minGroups: 3 }, cost(0.001), 1);
    const due: Array<number> = [];
    for (let g = 1; g <= 10; g++) {
      pacer.group(50);
      if (pacer.due()) {
        due.push(g);
        pacer.decoded();
      }
    }
    expect(due).toEqual([3, 6, 9]);
  });

  it('scales the cost with the batch, decodes nothing at budget 0, and probes when the cost is unknown', () => {
    const single = new PreviewPacer({ budget: 0.2, minGroups: 1 }, cost(10), 1);
    const batch = new PreviewPacer({ budget: 0.2, minGroups: 1 }, cost(10), 4);
    for (const p of [single, batch]) for (let g = 0; g < 10; g++) p.group(10);
    expect([single.due(), batch.due()]).toEqual([true, false]);
    expect(batch.expectedMs).toBe(40);
    const off = new PreviewPacer({ budget: 0, minGroups: 1 }, cost(null), 1);
    off.group(1000);
    expect(off.due()).toBe(false);
    const unknown = new PreviewPacer({ budget: 0.2, minGroups: 2 }, cost(null), 1);
    unknown.group(1);
    expect(unknown.due()).toBe(false);
    unknown.group(1);
    expect(unknown.due()).toBe(true);
  });

  it('keeps a running estimate of the decode per image', () => {
    const c = cost(40, 2); // 20 per image
    c.record(10, 1);
    expect(c.msPerImage).toBe(15);
    c.record(Number.NaN, 1);
    c.record(5, 0);
    expect(c.msPerImage).toBe(15);
  });
});
