import { describe, expect, it } from 'vitest';
import {
  cellsAfter,
  decodeTimeline,
  encodeTimeline,
  fromHalf,
  latentsAfter,
  toHalf,
} from '../../electron/core/timeline';

describe('half floats', () => {
  it('round to nearest even and keep the specials', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(70000)).toBe(0x7c00);
    expect(toHalf(2 ** -24)).toBe(1);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to the even mantissa
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    for (const v of [0.1, -3.25, 1e-5, 1234.5]) {
      expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    }
  });
});

describe('timeline codec', () => {
  it('gives back the order, groups and latents after any group', () => {
    const dZ = 3;
    const order = Int32Array.from([2, 0, 3, 1]);
    const latents = Float32Array.from({ length: 12 }, (_, i) => i / 4 - 1);
    const blob = encodeTimeline({ order, groups: [1, 2, 1], latents, dZ });
    const t = decodeTimeline(blob);
    expect(t).toMatchObject({ dZ: 3, cells: 4, groups: [1, 2, 1] });
    expect(Array.from(t.order)).toEqual([2, 0, 3, 1]);
    expect(cellsAfter(t, 2)).toBe(3);
    const after1 = latentsAfter(t, 1);
    expect(Array.from(after1)).toEqual([0, 0, 0, 0, 0, 0, 0.5, 0.75, 1, 0, 0, 0]);
    expect(Array.from(latentsAfter(t, 3))).toEqual(Array.from(latents));
    expect(() => decodeTimeline(Uint8Array.of(1, 2, 3))).toThrow(/damaged|format/);
  });
});
