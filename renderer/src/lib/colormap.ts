// One colour ramp for every heatmap (generation order, per-token error): viridis, readable on light and dark and
// monotonic in lightness, so the order of values survives for colour-blind users and in greyscale.
const STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [110, 206, 88],
  [181, 222, 43],
  [253, 231, 37],
];

const BLACK = [0, 0, 0] as const;

/** The ramp's colour at t in [0, 1] (clamped; NaN reads as 0). */
export function ramp(t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const scaled = x * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(scaled));
  const f = scaled - i;
  const a = STOPS[i] ?? BLACK;
  const b = STOPS[i + 1] ?? BLACK;
  const mix = (c: 0 | 1 | 2) => Math.round(a[c] + (b[c] - a[c]) * f);
  return [mix(0), mix(1), mix(2)];
}

/** CSS gradient stops of the ramp, for legends. */
export const RAMP_CSS = `linear-gradient(to right, ${STOPS.map(([r, g, b]) => `rgb(${r} ${g} ${b})`).join(', ')})`;

/**
 * One RGBA pixel per value (a grid-resolution image the canvas scales up without smoothing). Values are scaled by
 * `max` (the largest finite value when omitted); a negative or non-finite value is a cell with no data: transparent.
 */
export function heatmapPixels(values: ArrayLike<number>, alpha = 255, max?: number): Uint8ClampedArray {
  const all = Array.from(values);
  const top = max ?? all.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), 0);
  const out = new Uint8ClampedArray(all.length * 4);
  for (const [i, v] of all.entries()) {
    if (!(v >= 0) || !Number.isFinite(v)) continue;
    const [r, g, b] = ramp(top > 0 ? v / top : 0);
    out.set([r, g, b, alpha], i * 4);
  }
  return out;
}
