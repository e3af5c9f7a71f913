// The image codec, the one door to sharp (lint-enforced): any PNG/JPEG/WebP (EXIF orientation applied, alpha
// flattened onto white) to the model's square input, masks to token grids, model output to deterministic PNG bytes,
// sweep grids, library thumbnails and raw pixels for the scorers.
// The one rule for sizes: scale so the shorter side equals the model's size, then crop the centre square.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- pixel kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import sharp from 'sharp';
import { StudioError } from '../common/errors';

/** Larger inputs are refused before decoding: 16384 px a side, 2^28 pixels (sharp's own default limit). */
export const MAX_INPUT_SIDE = 16384;
export const MAX_INPUT_PIXELS = 2 ** 28;
const FORMATS = new Set(['png', 'jpeg', 'webp']);

export type Rgb = Readonly<{ width: number; height: number; data: Uint8Array }>;
/** A token grid, rows × columns (the engine's bundle Grid; kept here so this layer needs no engine import). */
type Grid = Readonly<[rows: number, cols: number]>;

function invalid(message: string, cause?: unknown): StudioError {
  return new StudioError('IMAGE_INVALID', message, cause === undefined ? undefined : { cause });
}

/** Checks what the header says (format, size) without decoding the pixels. Returns the displayed size. */
export async function inspectImage(
  bytes: Uint8Array,
  what = 'The image',
): Promise<Readonly<{ width: number; height: number; format: string }>> {
  if (bytes.byteLength === 0) throw invalid(`${what} is empty (0 bytes).`);
  const meta = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw invalid(`${what} cannot be read: ${(error as Error).message}. Use a PNG, JPEG or WebP file.`, error);
    });
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw invalid(`${what} is ${meta.format ?? 'of an unknown format'}; use a PNG, JPEG or WebP file.`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = (rotated ? meta.height : meta.width) ?? 0;
  const height = (rotated ? meta.width : meta.height) ?? 0;
  if (width < 1 || height < 1) throw invalid(`${what} has no pixels (${width}×${height}).`);
  if (width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE || width * height > MAX_INPUT_PIXELS) {
    throw invalid(
      `${what} is ${width}×${height} pixels; the studio reads images up to ${MAX_INPUT_SIDE} px a side and ${MAX_INPUT_PIXELS / 2 ** 20} megapixels.`,
    );
  }
  return { width, height, format: meta.format };
}

async function toSquare(bytes: Uint8Array, size: number, what: string, channels: 1 | 3): Promise<Uint8Array> {
  try {
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .flatten({ background: channels === 3 ? '#ffffff' : '#000000' })
      .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'lanczos3' });
    pipeline = channels === 1 ? pipeline.greyscale() : pipeline.removeAlpha();
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    throw invalid(`${what} cannot be decoded: ${(error as Error).message}.`, error);
  }
}

/** An input image as the model sees it: size × size RGB (cover-resized, centre-cropped). */
export async function loadModelImage(bytes: Uint8Array, size: number): Promise<Rgb> {
  await inspectImage(bytes);
  return { width: size, height: size, data: await toSquare(bytes, size, 'The image', 3) };
}

/** RGB bytes → the encoder's input [1, 3, size, size] in [-1, 1]. */
export function rgbToTensor(rgb: Rgb): Float32Array {
  const n = rgb.width * rgb.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[c * n + i] = rgb.data[3 * i + c]! / 127.5 - 1;
  }
  return out;
}

/** Decoder output [3, h, w] in [-1, 1] → RGB bytes, as the reference: clamp(127.5·x + 128, 0, 255), truncated. */
export function tensorToRgb(image: Float32Array, width: number, height: number, offset = 0): Rgb {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const value = f(f(127.5 * image[offset + c * n + i]!) + 128);
      data[3 * i + c] = Math.trunc(Math.min(255, Math.max(0, value)));
    }
  }
  return { width, height, data };
}

/** A bundle's linear latent → RGB map (BUNDLE.md, "Instant previews"): weights [3 × dZ], bias [3], in [-1, 1]. */
export type LatentRgb = Readonly<{ weights: ReadonlyArray<number>; bias: ReadonlyArray<number> }>;

/**
 * An instant preview of a partial grid without the decoder, one pixel per token (the UI scales it): every cell painted
 * with its latent's approximate colour, so unfilled cells (zero latents, as decoded previews get them) show the map's
 * neutral colour. Latents only: which cells are filled differs per image of a batch.
 */
export function latentRgbPreview(latents: Float32Array, dZ: number, grid: Grid, map: LatentRgb): Rgb {
  const [h, w] = grid;
  const data = new Uint8Array(3 * h * w);
  for (let cell = 0; cell < h * w; cell++) {
    for (let c = 0; c < 3; c++) {
      let value = map.bias[c]!;
      for (let i = 0; i < dZ; i++) value += map.weights[c * dZ + i]! * latents[cell * dZ + i]!;
      data[3 * cell + c] = Math.trunc(Math.min(255, Math.max(0, 127.5 * value + 128)));
    }
  }
  return { width: w, height: h, data };
}

/** PNG bytes of RGB pixels; the same pixels always give the same bytes (fixed settings, no metadata). */
export async function encodePng(rgb: Rgb): Promise<Uint8Array> {
  const buffer = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A small RGB image scaled up with nearest-neighbour (token maps, PCA) so each token stays a crisp square. */
export async function encodeScaledPng(rgb: Rgb, scale: number): Promise<Uint8Array> {
  const buffer = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(rgb.width * scale, rgb.height * scale, { kernel: 'nearest' })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** One layer of a composed image: a PNG, or SVG text (labels), at (left, top), scaled to width × height if given. */
export type ComposeLayer = Readonly<{ input: Uint8Array; left: number; top: number; width?: number; height?: number }>;

/**
 * Layers over a plain background, as PNG bytes (sweep grids: cell images and an SVG of their labels). Scaled layers
 * keep crisp pixels when enlarged (nearest-neighbour) and are resampled smoothly when shrunk.
 */
export async function composePng(
  width: number,
  height: number,
  background: string,
  layers: ReadonlyArray<ComposeLayer>,
): Promise<Uint8Array> {
  const inputs = await Promise.all(
    layers.map(async (layer) => {
      let input = Buffer.from(layer.input.buffer, layer.input.byteOffset, layer.input.byteLength);
      if (layer.width !== undefined && layer.height !== undefined) {
        const meta = await sharp(input).metadata();
        const kernel = (meta.width ?? 0) <= layer.width ? 'nearest' : 'lanczos3';
        input = await sharp(input).resize(layer.width, layer.height, { fit: 'fill', kernel }).png().toBuffer();
      }
      return { input, left: Math.round(layer.left), top: Math.round(layer.top) };
    }),
  );
  const buffer = await sharp({ create: { width, height, channels: 3, background } })
    .composite(inputs)
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A mask image → the cells to regenerate: white (≥ 128 after flattening onto black) marks pixels; a cell is
 * regenerated when at least `threshold` of its pixels are marked. The mask must have the image's aspect ratio
 * (then any size works: it is scaled with the image's rule); another shape is refused rather than guessed.
 */
export async function maskToCells(
  mask: Uint8Array,
  image: Readonly<{ width: number; height: number }>,
  size: number,
  grid: Grid,
  threshold: number,
): Promise<Uint8Array> {
  const meta = await inspectImage(mask, 'The mask');
  const ratio = meta.width / meta.height / (image.width / image.height);
  if (Math.abs(ratio - 1) > 0.01) {
    throw invalid(
      `The mask is ${meta.width}×${meta.height} but the image is ${image.width}×${image.height}; the mask must have the image's shape (any size with the same aspect ratio).`,
    );
  }
  const pixels = await toSquare(mask, size, 'The mask', 1);
  const cells = cellsOfMask(pixels, size, grid, threshold);
  if (!cells.includes(1)) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `The mask marks no token for regeneration: no cell of the ${grid[0]}×${grid[1]} grid is at least ${Math.round(threshold * 100)} % white.`,
    );
  }
  return cells;
}

function cellsOfMask(pixels: Uint8Array, size: number, grid: Grid, threshold: number): Uint8Array {
  const marked = cellMeans(size, size, grid, (pixel) => (pixels[pixel]! >= 128 ? 1 : 0));
  return Uint8Array.from(marked, (fraction) => (fraction >= threshold ? 1 : 0));
}

/** Per token cell (row-major), the mean of `value` over the cell's pixels (row-major pixel index). */
export function cellMeans(width: number, height: number, grid: Grid, value: (pixel: number) => number): Array<number> {
  const [h, w] = grid;
  const cellH = height / h;
  const cellW = width / w;
  const out: Array<number> = [];
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      let sum = 0;
      let count = 0;
      for (let y = Math.floor(r * cellH); y < Math.floor((r + 1) * cellH); y++) {
        for (let x = Math.floor(c * cellW); x < Math.floor((c + 1) * cellW); x++) {
          sum += value(y * width + x);
          count++;
        }
      }
      out.push(count > 0 ? sum / count : 0);
    }
  }
  return out;
}

/** A decoded image's pixels as stored: `channels` bytes a pixel (3 for the engine's PNGs), row-major. */
export type Pixels = Readonly<{ width: number; height: number; channels: number; data: Uint8Array }>;

/** PNG (or any image sharp reads) → its pixels at their own size and channel count, nothing flattened. */
export async function decodePixels(bytes: Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** A WebP thumbnail whose longest side is `size`, never enlarged. */
export async function encodeThumbnail(bytes: Uint8Array, size: number): Promise<Buffer> {
  return sharp(bytes).resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
}

/** PNG (or any image sharp reads) → its RGB pixels at their own size. */
export async function decodeRgb(bytes: Uint8Array): Promise<Rgb> {
  const { data, info } = await sharp(bytes).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({
    resolveWithObject: true,
  });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Per pixel of a size × size image, the distance in pixels to the nearest regenerated token cell (0 inside one), by a
 * two-pass chamfer transform (steps 1 and √2): close to Euclidean, so a feather follows the mask's outline.
 */
export function maskDistance(size: number, grid: Grid, regenerate: Uint8Array): Float32Array {
  const [h, w] = grid;
  const d = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const row = Math.floor((y * h) / size) * w;
    for (let x = 0; x < size; x++) d[y * size + x] = regenerate[row + Math.floor((x * w) / size)] === 1 ? 0 : Infinity;
  }
  const pass = (y: number, x: number, dy: number): void => {
    const i = y * size + x;
    const ny = y - dy;
    let best = d[i]!;
    if (x > 0) best = Math.min(best, d[i - 1]! + 1);
    if (ny >= 0 && ny < size) {
      const j = ny * size + x;
      best = Math.min(best, d[j]! + 1);
      if (x > 0) best = Math.min(best, d[j - 1]! + Math.SQRT2);
      if (x < size - 1) best = Math.min(best, d[j + 1]! + Math.SQRT2);
    }
    if (x < size - 1) best = Math.min(best, d[i + 1]! + 1);
    d[i] = best;
  };
  // Forward (from the top-left neighbours), then backward (from the bottom-right ones); each pass sweeps its row both
  // ways so the same-row neighbour on either side counts.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) pass(y, x, 1);
    for (let x = size - 1; x >= 0; x--) pass(y, x, 1);
  }
  for (let y = size - 1; y >= 0; y--) {
    for (let x = size - 1; x >= 0; x--) pass(y, x, -1);
    for (let x = 0; x < size; x++) pass(y, x, -1);
  }
  return d;
}

/**
 * An edit that keeps the source's own pixels: the decode inside the mask, the source from `feather` pixels outside it
 * on, and a smooth blend over the seam between (the decoder's reach changes pixels near kept tokens too).
 */
export function keepUnmasked(decoded: Rgb, source: Rgb, distance: Float32Array, feather: number): Rgb {
  if (decoded.width !== source.width || decoded.height !== source.height) {
    throw new StudioError('INTERNAL', 'The edit and its source differ in size.');
  }
  const data = new Uint8Array(decoded.data.length);
  for (let i = 0; i < distance.length; i++) {
    const t = Math.min(1, distance[i]! / Math.max(feather, 1e-6));
    const a = 1 - t * t * (3 - 2 * t); // weight of the decode: 1 on the mask, 0 from `feather` px away
    for (let c = 0; c < 3; c++) {
      data[3 * i + c] = Math.round(a * decoded.data[3 * i + c]! + (1 - a) * source.data[3 * i + c]!);
    }
  }
  return { width: decoded.width, height: decoded.height, data };
}
