import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  decodeRgb,
  encodePng,
  inspectImage,
  keepUnmasked,
  latentRgbPreview,
  loadModelImage,
  maskDistance,
  maskToCells,
} from '../../electron/platform/image';

const solid = (
  width: number,
  height: number,
  background: string | { r: number; g: number; b: number; alpha: number },
) => sharp({ create: { width, height, channels: 4, background } });

describe('image input', () => {
  it('reads PNG, JPEG and WebP, flattens alpha onto white, and centre-crops to the model size', async () => {
    const transparent = await solid(40, 20, { r: 0, g: 0, b: 0, alpha: 0 }).png().toBuffer();
    const flat = await loadModelImage(transparent, 8);
    expect([...flat.data].every((v) => v === 255)).toBe(true);
    // A wide image: left half red, right half blue; the centre crop keeps a little of both, the middle column split.
    const wide = await sharp({ create: { width: 64, height: 16, channels: 3, background: '#0000ff' } })
      .composite([{ input: await solid(32, 16, '#ff0000').png().toBuffer(), left: 0, top: 0 }])
      .jpeg({ quality: 100 })
      .toBuffer();
    const rgb = await loadModelImage(wide, 8);
    expect(rgb.data[0]).toBeGreaterThan(200); // top-left pixel: red
    expect(rgb.data[3 * 7 + 2]).toBeGreaterThan(200); // top-right pixel: blue
    const webp = await solid(10, 10, '#00ff00').webp({ lossless: true }).toBuffer();
    expect((await inspectImage(webp)).format).toBe('webp');
    expect((await loadModelImage(webp, 4)).data.slice(0, 3)).toEqual(Uint8Array.from([0, 255, 0]));
  });

  it('respects EXIF orientation', async () => {
    // Stored 20×10 with a red left half; orientation 6 (rotate 90° clockwise) shows it 10×20 with red on top.
    const stored = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#0000ff' } })
      .composite([{ input: await solid(10, 10, '#ff0000').png().toBuffer(), left: 0, top: 0 }])
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 100 })
      .toBuffer();
    expect(await inspectImage(stored)).toMatchObject({ width: 10, height: 20 });
    const rgb = await loadModelImage(stored, 10);
    expect(rgb.data[0]).toBeGreaterThan(200); // top row: red
    expect(rgb.data[3 * 90 + 2]).toBeGreaterThan(200); // bottom row: blue
  });

  it('encodes the same pixels to the same bytes', async () => {
    const rgb = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) };
    expect(Buffer.from(await encodePng(rgb)).equals(Buffer.from(await encodePng(rgb)))).toBe(true);
  });

  it('turns a mask into cells by the fraction of white pixels', async () => {
    // 16×16 mask over a 4×4 grid: a 6×6 white square covers cell 0 fully, cells 1 and 4 by half, cell 5 by a quarter.
    const mask = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#000' } })
      .composite([{ input: await solid(6, 6, '#ffffff').png().toBuffer(), left: 0, top: 0 }])
      .png()
      .toBuffer();
    const cells = await maskToCells(mask, { width: 16, height: 16 }, 16, [4, 4], 0.5);
    expect([...cells]).toEqual([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const strict = await maskToCells(mask, { width: 16, height: 16 }, 16, [4, 4], 0.9);
    expect([...strict].indexOf(1)).toBe(0);
    expect([...strict].filter((c) => c === 1)).toHaveLength(1);
  });
});

describe('instant previews', () => {
  it('paints every token with the linear map (unfilled zero latents: the bias), one pixel per token, clamped', () => {
    // dZ = 2, grid 1x3: R = 0.5 z0, G = -z1, B = bias only
    const map = { weights: [0.5, 0, 0, -1, 0, 0], bias: [0, 0.2, -1] };
    const latents = new Float32Array([1, 0.5, 4, -4, 0, 0]);
    const rgb = latentRgbPreview(latents, 2, [1, 3], map);
    expect([rgb.width, rgb.height]).toEqual([3, 1]);
    const at = (x: number) => Array.from(rgb.data.subarray(3 * x, 3 * x + 3));
    const byte = (v: number) => Math.trunc(Math.min(255, Math.max(0, 127.5 * v + 128)));
    expect(at(0)).toEqual([byte(0.5), byte(0.2 - 0.5), byte(-1)]);
    expect(at(1)).toEqual([255, 255, 0]); // 0.5 * 4 = 2 and 0.2 + 4 clamp high; -1 gives 0.5 → 0
    expect(at(2)).toEqual([byte(0), byte(0.2), byte(-1)]); // an unfilled token: the bias
  });
});

describe('keeping unmasked pixels', () => {
  // A 32 px image on a 4×4 grid (8 px tokens) with one masked token at row 1, column 2.
  const size = 32;
  const grid: [number, number] = [4, 4];
  const regenerate = Uint8Array.from({ length: 16 }, (_, i) => (i === 6 ? 1 : 0));

  it('measures each pixel’s distance to the mask: 0 inside, in pixels outside, close to Euclidean', () => {
    const d = maskDistance(size, grid, regenerate);
    const at = (x: number, y: number) => d[y * size + x]!;
    expect(at(16, 8)).toBe(0);
    expect(at(23, 15)).toBe(0);
    expect(at(24, 12)).toBe(1); // the column right of the cell
    expect(at(16, 0)).toBe(8); // straight up, 8 px
    expect(at(31, 31)).toBeCloseTo(Math.hypot(8, 16), -0.5); // the chamfer is within a pixel or so of Euclidean
    expect(at(0, 31)).toBeGreaterThan(at(8, 24));
  });

  it('takes the decode inside the mask, the source from the feather on, and blends monotonically between', async () => {
    const fill = (v: number) => ({ width: size, height: size, data: new Uint8Array(size * size * 3).fill(v) });
    const decoded = fill(200);
    const source = fill(40);
    const d = maskDistance(size, grid, regenerate);
    const out = keepUnmasked(decoded, source, d, 4);
    const px = (x: number, y: number) => out.data[3 * (y * size + x)]!;
    expect(px(20, 12)).toBe(200);
    expect(px(28, 12)).toBe(40); // 5 px right of the cell: past the 4 px feather
    const seam = [24, 25, 26].map((x) => px(x, 12));
    expect(seam.every((v, i) => v < 200 && v > 40 && (i === 0 || v <= seam[i - 1]!))).toBe(true);
    // Round trip through PNG is lossless.
    expect((await decodeRgb(await encodePng(out))).data).toEqual(out.data);
  });
});
