// What a finished job hands back: its images as PNGs with the order their tokens came in, an edit's summary, and the
// inline PNGs of previews and reconstructions.
import type { EditSummary, InlinePng } from '../common/contract';
import { StudioError } from '../common/errors';
import { encodePng, type Rgb } from '../platform/image';
import type { Grid } from './bundle';
import type { Checkpoint, EngineImage } from './engine';
import { timelineOf } from './fork';
import { psnr } from './metrics';

export async function toInlinePng(rgb: Rgb): Promise<InlinePng> {
  return { png: Buffer.from(await encodePng(rgb)).toString('base64'), width: rgb.width, height: rgb.height };
}

/** The decoded images of a finished job, each with its seeds and timeline. */
export function finishedImages(
  checkpoint: Checkpoint,
  rgbs: ReadonlyArray<Rgb>,
  dZ: number,
): Promise<Array<EngineImage>> {
  const { plan, state } = checkpoint;
  return Promise.all(
    rgbs.map(async (rgb, b) => ({
      png: await encodePng(rgb),
      seed: checkpoint.seeds[b] ?? 0,
      orderSeed: checkpoint.orderSeeds[b] ?? 0,
      width: rgb.width,
      height: rgb.height,
      timeline: timelineOf(plan, state.latents[b] ?? new Float32Array(0), b, dZ, checkpoint.prefixGroups),
    })),
  );
}

/** An edit's kept and regenerated tokens, and how close the kept pixels stayed to the source; null for a generation. */
export function editSummary(
  checkpoint: Checkpoint,
  rgbs: ReadonlyArray<Rgb>,
  grid: Grid,
  size: number,
): EditSummary | null {
  if (!checkpoint.edit) return null;
  const [h, w] = grid;
  const stride = size / w;
  // Every kept cell, whether or not the model was fed it (`editContext: none` feeds none).
  const kept = new Set(checkpoint.plan.kept);
  const keptPixel = (pixel: number): boolean =>
    kept.has(Math.floor(Math.floor(pixel / size) / stride) * w + Math.floor((pixel % size) / stride));
  return {
    keptTokens: checkpoint.edit.kept,
    regeneratedTokens: h * w - checkpoint.edit.kept,
    unmaskedPsnr: psnr(images0(rgbs), checkpoint.edit.source, keptPixel),
  };
}

function images0(rgbs: ReadonlyArray<Rgb>): Rgb {
  const [first] = rgbs;
  if (!first) throw new StudioError('INTERNAL', 'The decoder returned no image.');
  return first;
}
