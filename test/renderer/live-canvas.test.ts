import { describe, expect, it } from 'vitest';
import { LiveCanvasState } from '../../renderer/src/lib/state/live-canvas.svelte';
import { heatmapPixels, ramp } from '../../renderer/src/lib/colormap';

const VEIL = [10, 20, 30] as const;
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

  it('veils uncommitted tokens and outlines the newest group, not tints it', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(2, 2, 2);
    canvas.commit(0, [0]);
    canvas.commit(1, [3]);
    const px = canvas.overlayPixels(VEIL);
    expect(pixel(px, 0)).toEqual([0, 0, 0, 0]);
    expect(pixel(px, 1)).toEqual([...VEIL, 200]);
    expect(pixel(px, 2)).toEqual([...VEIL, 200]);
    expect(pixel(px, 3)).toEqual([0, 0, 0, 0]);
    expect(canvas.newestOutline()).toBe('M1 1h1M2 1v1M1 2h1M1 1v1');
    canvas.overlay = 'none';
    expect(canvas.overlayPixels(VEIL).every((v) => v === 0)).toBe(true);
  });

  it('outlines a block of newest tokens once, around its border', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(2, 3, 1);
    canvas.commit(0, [0, 1]);
    // Two tokens side by side: top and bottom of each, the outer left and right edges, not the shared one.
    expect(
      canvas
        .newestOutline()
        .match(/M[^M]+/g)
        ?.sort(),
    ).toEqual(['M0 0h1', 'M0 1h1', 'M0 0v1', 'M1 0h1', 'M2 0v1', 'M1 1h1'].sort());
  });

  it('keeps a decoded preview as the picture: later quick previews do not replace it', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(1, 4, 4);
    canvas.commit(0, [0], 'data:quick0', 'approximate');
    expect([canvas.preview, canvas.decodedGroups]).toEqual(['data:quick0', null]);
    canvas.commit(1, [1], 'data:decoded1', 'decoded');
    expect([canvas.preview, canvas.decodedGroups]).toEqual(['data:decoded1', 2]);
    canvas.commit(2, [2], 'data:quick2', 'approximate');
    canvas.commit(3, [3], 'data:quick2', 'approximate'); // repeated: nothing new
    expect(canvas.preview).toBe('data:decoded1');
    // Outside a browser the quick colours cannot be read, so nothing is painted over the decoded picture.
    expect(canvas.patchPixels()).toBeNull();
    canvas.quick = new Uint8ClampedArray([1, 1, 1, 255, 2, 2, 2, 255, 3, 3, 3, 255, 4, 4, 4, 255]);
    const patches = canvas.patchPixels()!;
    // Only the tokens committed after the decoded picture (groups 2 and 3) take their quick colours.
    expect([0, 1, 2, 3].map((i) => pixel(patches, i))).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [3, 3, 3, 255],
      [4, 4, 4, 255],
    ]);
    canvas.finish('data:final');
    expect([canvas.preview, canvas.decodedGroups, canvas.patchPixels()]).toEqual(['data:final', null, null]);
  });

  it('colours committed tokens by their group on the order heatmap', () => {
    const canvas = new LiveCanvasState();
    canvas.reset(1, 3, 3);
    canvas.overlay = 'order';
    canvas.commit(0, [2]);
    canvas.commit(2, [0]);
    const px = canvas.overlayPixels(VEIL);
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
    expect(pixel(canvas.overlayPixels(VEIL), 0)).toEqual([0, 0, 0, 0]);
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
