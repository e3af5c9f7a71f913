// An edit's last step: outside the mask the result takes the source's own pixels back, blended into the decode over a
// feathered seam (the tokens there were kept, but the re-encode and the decoder's reach still change pixels), and the
// summary measures how well the unmasked region was kept.
import type { EditSummary } from '../common/contract';
import type { Grid } from '../engine/bundle';
import type { EngineImage } from '../engine/engine';
import { decodeRgb, encodePng, keepUnmasked, maskDistance, type Rgb } from '../platform/image';
import { psnr } from '../engine/metrics';

export type EditPixels = Readonly<{ source: Uint8Array; regenerate: Uint8Array; keepPixels: boolean }>;

/** The seam is half a token wide: pixels from there on are the source's exactly. */
export const FEATHER_TOKENS = 0.5;

/** PSNR against the source over the pixels at least one token's width from the mask (the region an edit keeps). */
function awayFromMask(image: Rgb, source: Rgb, distance: Float32Array, stride: number): number {
  return psnr(image, source, (pixel) => (distance[pixel] ?? 0) >= stride);
}

export async function finishEdit(
  images: ReadonlyArray<EngineImage>,
  edit: EditPixels,
  grid: Grid,
): Promise<Readonly<{ images: Array<EngineImage>; summary: EditSummary }>> {
  const source = await decodeRgb(edit.source);
  const size = source.width;
  const stride = size / grid[1];
  const distance = maskDistance(size, grid, edit.regenerate);
  const out: Array<EngineImage> = [];
  let decodedPsnr = 0;
  let resultPsnr = 0;
  for (const [i, image] of images.entries()) {
    const decoded = await decodeRgb(image.png);
    const result = edit.keepPixels ? keepUnmasked(decoded, source, distance, FEATHER_TOKENS * stride) : decoded;
    if (i === 0) {
      decodedPsnr = awayFromMask(decoded, source, distance, stride);
      resultPsnr = edit.keepPixels ? awayFromMask(result, source, distance, stride) : decodedPsnr;
    }
    out.push(edit.keepPixels ? { ...image, png: await encodePng(result) } : image);
  }
  const regenerated = edit.regenerate.reduce((a, b) => a + b, 0);
  return {
    images: out,
    summary: {
      keptTokens: edit.regenerate.length - regenerated,
      regeneratedTokens: regenerated,
      unmaskedPsnr: resultPsnr,
      decodedUnmaskedPsnr: decodedPsnr,
      keptPixels: edit.keepPixels,
    },
  };
}
