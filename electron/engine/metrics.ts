// Reconstruction quality and latent displays: PSNR, SSIM (Wang et al. 2004, as skimage's
// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)`, averaged
// over RGB), per-token error and a 3-component PCA of the latents.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import type { Grid } from './bundle';
import { cellMeans, type Rgb } from '../platform/image';

/** PSNR of identical 8-bit images is infinite; it is reported as this many dB so it stays a JSON number. */
export const PSNR_IDENTICAL = 100;

/** PSNR in dB over the pixels where `include(pixelIndex)` holds (all by default). */
export function psnr(a: Rgb, b: Rgb, include?: (pixel: number) => boolean): number {
  let sum = 0;
  let count = 0;
  const n = a.width * a.height;
  for (let i = 0; i < n; i++) {
    if (include && !include(i)) continue;
    for (let c = 0; c < 3; c++) {
      const d = a.data[3 * i + c]! - b.data[3 * i + c]!;
      sum += d * d;
    }
    count += 3;
  }
  if (count === 0 || sum === 0) return PSNR_IDENTICAL;
  return Math.min(PSNR_IDENTICAL, 10 * Math.log10((255 * 255) / (sum / count)));
}

const SSIM_SIGMA = 1.5;
const SSIM_WIN = 11;

function gaussianWindow(): Float64Array {
  const half = (SSIM_WIN - 1) / 2;
  const w = Float64Array.from({ length: SSIM_WIN }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * SSIM_SIGMA ** 2)));
  const total = w.reduce((x, y) => x + y, 0);
  return w.map((x) => x / total);
}

/** Separable Gaussian filter, 'valid' region only (windows that fit inside the image). */
function filterValid(src: Float64Array, width: number, height: number, w: Float64Array): Float64Array {
  const outW = width - SSIM_WIN + 1;
  const outH = height - SSIM_WIN + 1;
  const rows = new Float64Array(outW * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let k = 0; k < SSIM_WIN; k++) s += w[k]! * src[y * width + x + k]!;
      rows[y * outW + x] = s;
    }
  }
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (let k = 0; k < SSIM_WIN; k++) s += w[k]! * rows[(y + k) * outW + x]!;
      out[y * outW + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of two RGB images of the same size (at least 11 × 11), averaged over the channels. */
export function ssim(a: Rgb, b: Rgb): number {
  const { width, height } = a;
  if (width < SSIM_WIN || height < SSIM_WIN) throw new RangeError(`SSIM needs images of at least ${SSIM_WIN} px`);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const w = gaussianWindow();
  const n = width * height;
  let total = 0;
  for (let c = 0; c < 3; c++) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = a.data[3 * i + c]!;
      y[i] = b.data[3 * i + c]!;
    }
    const product = (p: Float64Array, q: Float64Array): Float64Array => p.map((v, i) => v * q[i]!);
    const mx = filterValid(x, width, height, w);
    const my = filterValid(y, width, height, w);
    const xx = filterValid(product(x, x), width, height, w);
    const yy = filterValid(product(y, y), width, height, w);
    const xy = filterValid(product(x, y), width, height, w);
    let sum = 0;
    for (let i = 0; i < mx.length; i++) {
      const vx = xx[i]! - mx[i]! * mx[i]!;
      const vy = yy[i]! - my[i]! * my[i]!;
      const cov = xy[i]! - mx[i]! * my[i]!;
      sum +=
        ((2 * mx[i]! * my[i]! + C1) * (2 * cov + C2)) / ((mx[i]! * mx[i]! + my[i]! * my[i]! + C1) * (vx + vy + C2));
    }
    total += sum / mx.length;
  }
  return total / 3;
}

/** Mean squared error per token cell, on the [0, 1] pixel scale, row-major over the grid. */
export function tokenErrors(a: Rgb, b: Rgb, grid: Grid): Array<number> {
  return cellMeans(a.width, a.height, grid, (i) => {
    let sum = 0;
    for (let ch = 0; ch < 3; ch++) sum += ((a.data[3 * i + ch]! - b.data[3 * i + ch]!) / 255) ** 2;
    return sum / 3;
  });
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi): eigenvalues and column eigenvectors. */
export function symmetricEigen(
  matrix: Float64Array,
  n: number,
): Readonly<{ values: Float64Array; vectors: Float64Array }> {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cos = 1 / Math.sqrt(t * t + 1);
        const sin = t * cos;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = cos * akp - sin * akq;
          a[k * n + q] = sin * akp + cos * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = cos * apk - sin * aqk;
          a[q * n + k] = sin * apk + cos * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = cos * vkp - sin * vkq;
          v[k * n + q] = sin * vkp + cos * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

/**
 * The latents' first three principal components as RGB, one pixel per token: each component min–max scaled to
 * 0–255, its sign fixed so its largest loading is positive (the same latents always give the same colours).
 */
export function latentPca(latents: Float32Array, dZ: number, grid: Grid): Rgb {
  const n = grid[0] * grid[1];
  const mean = new Float64Array(dZ);
  for (let i = 0; i < n; i++) for (let c = 0; c < dZ; c++) mean[c]! += latents[i * dZ + c]! / n;
  const cov = new Float64Array(dZ * dZ);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < dZ; p++) {
      const dp = latents[i * dZ + p]! - mean[p]!;
      for (let q = 0; q < dZ; q++) cov[p * dZ + q]! += (dp * (latents[i * dZ + q]! - mean[q]!)) / n;
    }
  }
  const { values, vectors } = symmetricEigen(cov, dZ);
  const order = Array.from(values.keys()).sort((x, y) => values[y]! - values[x]!);
  const data = new Uint8Array(n * 3);
  for (let comp = 0; comp < 3; comp++) {
    const col = order[comp];
    const proj = new Float64Array(n);
    if (col !== undefined) {
      let sign = 1;
      let largest = 0;
      for (let c = 0; c < dZ; c++) {
        const loading = vectors[c * dZ + col]!;
        if (Math.abs(loading) > largest) {
          largest = Math.abs(loading);
          sign = Math.sign(loading) || 1;
        }
      }
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < dZ; c++) s += (latents[i * dZ + c]! - mean[c]!) * vectors[c * dZ + col]! * sign;
        proj[i] = s;
      }
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of proj) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    for (let i = 0; i < n; i++) data[3 * i + comp] = hi > lo ? Math.round((255 * (proj[i]! - lo)) / (hi - lo)) : 128;
  }
  return { width: grid[1], height: grid[0], data };
}
