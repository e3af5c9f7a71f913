import { describe, expect, it } from 'vitest';
import type { ReplayParams } from '../../electron/common/api/library';
import { differenceMap, settingsDiff } from '../../electron/common/compare';

const base: ReplayParams = {
  kind: 'generate',
  prompt: 'a red circle',
  negativePrompt: null,
  modelId: 'vgt-shapes',
  bundleHash: 'h',
  provider: 'cpu',
  seed: 1,
  orderSeed: 1,
  order: 'random',
  tokensPerStep: 4,
  steps: 20,
  cfg: 3,
  cfgSchedule: 'linear',
  width: 128,
  height: 128,
  sourceImage: null,
  extra: null,
};

describe('settings diff', () => {
  it('marks exactly the settings that differ, extra keys included', () => {
    const other = { ...base, seed: 2, tokensPerStep: 8, cfg: 5, extra: { fork: { group: 3 } } };
    const lines = settingsDiff(base, other);
    const differing = lines.filter((l) => !l.same).map((l) => l.label);
    expect(differing).toEqual(['Seed', 'Tokens per step', 'Guidance', 'fork']);
    expect(lines.find((l) => l.label === 'Seed')).toMatchObject({ first: '1', second: '2' });
    expect(lines.find((l) => l.label === 'fork')).toMatchObject({ first: '—', second: '{"group":3}' });
    expect(settingsDiff(base, { ...base }).every((l) => l.same)).toBe(true);
  });
});

describe('difference map', () => {
  it('is black where the images agree and measures where they differ', () => {
    const a = new Uint8ClampedArray([10, 20, 30, 255, 100, 100, 100, 255]);
    const b = new Uint8ClampedArray([10, 20, 30, 255, 100, 160, 100, 0]);
    const map = differenceMap(a, b);
    expect([...map.rgba.slice(0, 3)]).toEqual([0, 0, 0]);
    expect(map.rgba[4]).toBe(240);
    expect(map.max).toBe(60);
    expect(map.mean).toBeCloseTo(60 / 6);
    expect(map.changed).toBe(0.5);
    expect(() => differenceMap(a, a.slice(4))).toThrow();
  });
});
