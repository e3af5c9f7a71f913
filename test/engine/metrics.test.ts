import { describe, expect, it } from 'vitest';
import type { Rgb } from '../../electron/platform/image';
import { PSNR_IDENTICAL, latentPca, psnr, ssim, symmetricEigen, tokenErrors } from '../../electron/engine/metrics';

function image(width: number, height: number, value: (x: number, y: number, c: number) => number): Rgb {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[3 * (y * width + x) + c] = value(x, y, c);
  return { width, height, data };
}

/** SSIM straight from its definition (2-D Gaussian window, no separable shortcut): the independent reference. */
function ssimDirect(a: Rgb, b: Rgb): number {
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 ** 2)));
  const norm = g.reduce((s, v) => s + v, 0) ** 2;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let count = 0;
    for (let y0 = 0; y0 + 11 <= a.height; y0++) {
      for (let x0 = 0; x0 + 11 <= a.width; x0++) {
        let mx = 0,
          my = 0,
          xx = 0,
          yy = 0,
          xy = 0;
        for (let dy = 0; dy < 11; dy++) {
          for (let dx = 0; dx < 11; dx++) {
            const w = (g[dy]! * g[dx]!) / norm;
            const i = 3 * ((y0 + dy) * a.width + x0 + dx) + c;
            const p = a.data[i]!;
            const q = b.data[i]!;
            mx += w * p;
            my += w * q;
            xx += w * p * p;
            yy += w * q * q;
            xy += w * p * q;
          }
        }
        const vx = xx - mx * mx,
          vy = yy - my * my,
          cov = xy - mx * my;
        sum += ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
        count++;
      }
    }
    total += sum / count;
  }
  return total / 3;
}

describe('quality metrics', () => {
  const a = image(24, 20, (x, y, c) => (x * 7 + y * 13 + c * 50) % 256);
  const b = image(24, 20, (x, y, c) => (x * 7 + y * 13 + c * 50 + ((x * y) % 9) * 3) % 256);

  it('PSNR: known values, identical images, masked regions', () => {
    const flat = image(16, 16, () => 100);
    const off = image(16, 16, () => 110);
    expect(psnr(flat, off)).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 10);
    expect(psnr(flat, flat)).toBe(PSNR_IDENTICAL);
    const half = image(16, 16, (x) => (x < 8 ? 100 : 0));
    expect(psnr(flat, half, (pixel) => pixel % 16 < 8)).toBe(PSNR_IDENTICAL);
  });

  it('SSIM: 1 for identical images, the closed form for flat images, the direct definition otherwise', () => {
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    const C1 = (0.01 * 255) ** 2;
    expect(
      ssim(
        image(16, 16, () => 100),
        image(16, 16, () => 150),
      ),
    ).toBeCloseTo((2 * 100 * 150 + C1) / (100 ** 2 + 150 ** 2 + C1), 10);
    expect(ssim(a, b)).toBeCloseTo(ssimDirect(a, b), 10);
    expect(ssim(a, b)).toBeLessThan(1);
  });

  it('per-token errors locate the damage', () => {
    const clean = image(16, 16, () => 50);
    const damaged = image(16, 16, (x, y) => (x >= 8 && y < 8 ? 255 : 50));
    expect(tokenErrors(clean, damaged, [2, 2])).toEqual([0, expect.closeTo(((255 - 50) / 255) ** 2, 12), 0, 0]);
  });

  it('PCA: eigen-decomposition and a deterministic 3-channel display', () => {
    const m = Float64Array.from([4, 1, 0, 1, 3, 0, 0, 0, 1]);
    const { values } = symmetricEigen(m, 3);
    expect(Array.from(values).sort((x, y) => y - x)).toEqual([
      expect.closeTo((7 + Math.sqrt(5)) / 2, 10),
      expect.closeTo((7 - Math.sqrt(5)) / 2, 10),
      expect.closeTo(1, 10),
    ]);
    // Latents varying along one direction: the first component ramps, the display is min–max scaled.
    const latents = new Float32Array(4 * 4);
    for (let i = 0; i < 4; i++) latents.set([i, 2 * i, 0, 0], i * 4);
    const pca = latentPca(latents, 4, [2, 2]);
    expect(Array.from({ length: 4 }, (_, i) => pca.data[3 * i])).toEqual([0, 85, 170, 255]);
    expect(latentPca(latents, 4, [2, 2]).data).toEqual(pca.data);
  });
});
