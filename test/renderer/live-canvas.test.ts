import { describe, expect, it } from 'vitest';
import { LiveCanvasState } from '../../renderer/src/lib/state/live-canvas.svelte';
import { heatmapPixels, ramp } from '../../renderer/src/lib/colormap';

const VEIL = [10, 20, 30] as const;
const ACCENT = [200, 100, 0] as const;
const pixel = (data: Uint8ClampedArray, i: number) => Array.from(data.slice(i * 4, i * 4 + 4));

describe('live canvas', () => {
  it('records which group committed each token and keeps the first', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(2, 3, 3);
    canvas.commit(0, [0, 5], 'data:a');
    canvas.commit(1, [5, 2, 99, -1, 1.5]);
    expect(Array.from(canvas.order)).toEqual([0, -1, 1, -1, -1, 0]);
    expect(canvas.committed).toBe(3);
    expect(canvas.groups).toBe(2);
    // A group without a preview keeps the last one on screen.
    expect(canvas.preview).toBe('data:a');
  });

  it('veils uncommitted tokens and tints the newest group', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(2, 2, 2);
    canvas.commit(0, [0]);
    canvas.commit(1, [3]);
    const px = canvas.overlayPixels(VEIL, ACCENT);
    expect(pixel(px, 0)).toEqual([0, 0, 0, 0]);
    expect(pixel(px, 1)).toEqual([...VEIL, 200]);
    expect(pixel(px, 2)).toEqual([...VEIL, 200]);
    expect(pixel(px, 3).slice(0, 3)).toEqual([...ACCENT]);
    canvas.overlay = 'none';
    expect(canvas.overlayPixels(VEIL, ACCENT).every((v) => v === 0)).toBe(true);
  });

  it('colours committed tokens by their group on the order heatmap', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(1, 3, 3);
    canvas.overlay = 'order';
    canvas.commit(0, [2]);
    canvas.commit(2, [0]);
    const px = canvas.overlayPixels(VEIL, ACCENT);
    expect(pixel(px, 2).slice(0, 3)).toEqual(ramp(0));
    expect(pixel(px, 0).slice(0, 3)).toEqual(ramp(1));
    expect(pixel(px, 1)).toEqual([...VEIL, 200]);
  });

  it('clears the newest-group tint when finished', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(1, 1, 1);
    canvas.commit(0, [0], 'data:p');
    canvas.finish('data:final');
    expect(canvas.preview).toBe('data:final');
    expect(pixel(canvas.overlayPixels(VEIL, ACCENT), 0)).toEqual([0, 0, 0, 0]);
  });

  it('refuses an empty grid', () => {
    expect(() => new LiveCanvasState().reset(0, 4, 1)).toThrow(RangeError);
  });
});

describe('colour ramp', () => {
  it('runs from dark purple to yellow, clamped, and skips cells without data', () => {
    expect(ramp(0)).toEqual([68, 1, 84]);
    expect(ramp(1)).toEqual([253, 231, 37]);
    expect(ramp(7)).toEqual(ramp(1));
    expect(ramp(Number.NaN)).toEqual(ramp(0));
    const lum = (t: number) => ramp(t).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    for (let t = 0.1; t <= 1; t += 0.1) expect(lum(t)).toBeGreaterThan(lum(t - 0.1));
    const px = heatmapPixels([0, 2, -1, 4], 255);
    expect(pixel(px, 3).slice(0, 3)).toEqual(ramp(1));
    expect(pixel(px, 1).slice(0, 3)).toEqual(ramp(0.5));
    expect(pixel(px, 2)).toEqual([0, 0, 0, 0]);
  });
});
