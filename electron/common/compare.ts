// Comparing two library images: their replay settings line by line, and a per-pixel difference map.
import type { ReplayParams } from './api/library';

export type SettingLine = Readonly<{ label: string; first: string; second: string; same: boolean }>;

const text = (value: unknown): string =>
  value === null || value === undefined ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** The settings a user compares, in the Gallery detail's order; `extra` (forks, edits) last, key by key. */
const LINES: ReadonlyArray<readonly [string, (p: ReplayParams) => unknown]> = [
  ['Kind', (p) => p.kind],
  ['Prompt', (p) => p.prompt],
  ['Seed', (p) => p.seed],
  ['Order', (p) => p.order],
  ['Order seed', (p) => p.orderSeed],
  ['Tokens per step', (p) => p.tokensPerStep],
  ['Steps', (p) => p.steps],
  ['Guidance', (p) => p.cfg],
  ['Guidance schedule', (p) => p.cfgSchedule],
  ['Model', (p) => p.modelId],
  ['Bundle hash', (p) => p.bundleHash],
  ['Provider', (p) => p.provider],
  ['Size', (p) => `${p.width}×${p.height}`],
  ['Source image', (p) => p.sourceImage],
];

/** One line per setting, both values and whether they agree; `extra` keys of either side follow. */
export function settingsDiff(a: ReplayParams, b: ReplayParams): Array<SettingLine> {
  const lines = LINES.map(([label, get]) => {
    const [first, second] = [text(get(a)), text(get(b))];
    return { label, first, second, same: first === second };
  });
  const keys = [...new Set([...Object.keys(a.extra ?? {}), ...Object.keys(b.extra ?? {})])].sort();
  for (const key of keys) {
    const [first, second] = [text(a.extra?.[key]), text(b.extra?.[key])];
    lines.push({ label: key, first, second, same: first === second });
  }
  return lines;
}

export type DifferenceMap = Readonly<{
  /** RGBA, the same size as the inputs: black where equal, brighter (warm) with the per-pixel difference. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
  /** Mean and largest absolute difference over the RGB channels, 0..255. */
  mean: number;
  max: number;
  /** Share of pixels whose largest channel difference is above 8 (visible, not dither). */
  changed: number;
}>;

/** |a − b| per pixel of two RGBA buffers of one size, amplified ×4 for the eye, opaque. */
export function differenceMap(a: Uint8ClampedArray, b: Uint8ClampedArray): DifferenceMap {
  if (a.length !== b.length || a.length % 4 !== 0) throw new Error('The images must have the same size.');
  const rgba = new Uint8ClampedArray(a.length);
  let sum = 0;
  let max = 0;
  let changed = 0;
  for (let i = 0; i < a.length; i += 4) {
    let most = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs((a[i + c] ?? 0) - (b[i + c] ?? 0));
      sum += d;
      if (d > most) most = d;
    }
    if (most > max) max = most;
    if (most > 8) changed++;
    const v = Math.min(255, most * 4);
    rgba[i] = v;
    rgba[i + 1] = v * 0.6;
    rgba[i + 2] = v * 0.15;
    rgba[i + 3] = 255;
  }
  const pixels = a.length / 4;
  return { rgba, mean: pixels > 0 ? sum / (3 * pixels) : 0, max, changed: pixels > 0 ? changed / pixels : 0 };
}
