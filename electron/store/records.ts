// Writing generations: the prompt history, the generation row, and its image (embedded replay parameters,
// content-addressed file, thumbnail). Files are staged before the transaction that records them (images.ts).
import {
  ReplayParamsSchema,
  TimingsSchema,
  type RecordStatus,
  type ReplayParams,
  type Timings,
} from '../common/api/library';
import { StudioError, describeIssues } from '../common/errors';
import type { StoreContext } from './context';
import { absolute } from './files';
import { abandonStaged, imageHash, insertImage, stageImage, type StagedImage } from './images';
import { embedReplayParams } from './png';

export const EXTRA_MAX_BYTES = 16 * 1024;

/** Validates replay parameters that did not come through the contract (the engine calls the library directly). */
export function checkParams(params: ReplayParams): ReplayParams {
  const parsed = ReplayParamsSchema.safeParse(params);
  if (!parsed.success) throw new StudioError('INVALID_PAYLOAD', `Invalid generation: ${describeIssues(parsed.error)}`);
  if (parsed.data.extra !== null && JSON.stringify(parsed.data.extra).length > EXTRA_MAX_BYTES) {
    throw new StudioError('INVALID_PAYLOAD', `Invalid generation: extra is over ${EXTRA_MAX_BYTES} bytes.`);
  }
  return parsed.data;
}

export function checkTimings(timings: Timings | undefined): string | null {
  if (timings === undefined) return null;
  const parsed = TimingsSchema.safeParse(timings);
  if (!parsed.success) throw new StudioError('INVALID_PAYLOAD', `Invalid timings: ${describeIssues(parsed.error)}`);
  return JSON.stringify(parsed.data);
}

/** Inside a transaction: the prompt's id, counting one more use. */
export function usePrompt(ctx: StoreContext, text: string): number {
  const now = ctx.now();
  return ctx
    .prepare(
      `INSERT INTO prompts (text, first_used_at, last_used_at, use_count) VALUES (?, ?, ?, 1)
       ON CONFLICT (text) DO UPDATE SET last_used_at = excluded.last_used_at, use_count = use_count + 1
       RETURNING id`,
    )
    .pluck()
    .get(text, now, now) as number;
}

export type NewGeneration = Readonly<{
  status: RecordStatus;
  imageId: number | null;
  sourceImageId: number | null;
  timings: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}>;

/** Inside a transaction: inserts the generation row and returns its id. */
export function insertGeneration(ctx: StoreContext, p: ReplayParams, g: NewGeneration): number {
  const promptId = usePrompt(ctx, p.prompt);
  const negativeId = p.negativePrompt === null ? null : usePrompt(ctx, p.negativePrompt);
  return Number(
    ctx
      .prepare(
        `INSERT INTO generations (kind, status, prompt_id, negative_prompt_id, model_id, bundle_hash, provider, seed,
           order_seed, order_kind, tokens_per_step, steps, cfg, cfg_schedule, width, height, extra, source_image_id,
           image_id, created_at, started_at, finished_at, timings)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        p.kind,
        g.status,
        promptId,
        negativeId,
        p.modelId,
        p.bundleHash,
        p.provider,
        p.seed,
        p.orderSeed,
        p.order,
        p.tokensPerStep,
        p.steps,
        p.cfg,
        p.cfgSchedule,
        p.width,
        p.height,
        p.extra === null ? null : JSON.stringify(p.extra),
        g.sourceImageId,
        g.imageId,
        ctx.now(),
        g.startedAt,
        g.finishedAt,
        g.timings,
      ).lastInsertRowid,
  );
}

/**
 * Makes sure the source image of an edit or reconstruction is in the library: already there by hash, or staged
 * from `source` (whose hash must match). Returns what to record, or null when there is no source.
 */
export async function stageSource(
  ctx: StoreContext,
  p: ReplayParams,
  source: Uint8Array | undefined,
): Promise<StagedImage | number | null> {
  if (p.sourceImage === null) return null;
  const existing = ctx.prepare('SELECT id FROM images WHERE hash = ?').pluck().get(p.sourceImage) as number | undefined;
  if (existing !== undefined && source === undefined) return existing;
  if (source === undefined) {
    throw new StudioError('NOT_FOUND', 'The source image is not in the library; pass its bytes along.');
  }
  if (imageHash(source) !== p.sourceImage) {
    throw new StudioError('INVALID_PAYLOAD', 'The source image bytes do not match sourceImage (its SHA-256).');
  }
  return stageImage(ctx, source);
}

/** Inside a transaction: the row id of a staged (or already recorded) source. */
export function sourceId(ctx: StoreContext, source: StagedImage | number | null): number | null {
  if (source === null || typeof source === 'number') return source;
  return insertImage(ctx, source);
}

/** What the engine gets back for a recorded image. */
export type RecordedImage = Readonly<{
  id: number;
  hash: string;
  /** Relative to the data folder (forward slashes). */
  file: string;
  /** Absolute path on this machine. */
  path: string;
  width: number;
  height: number;
  /** The PNG as stored, with its `vgt` chunk: write this to `--out` for an identical copy. */
  png: Buffer;
}>;

/**
 * Embeds the parameters, stages image and source, then runs `commit(imageId, sourceId)` in one transaction.
 * Staged files are cleaned up if anything fails before the commit.
 */
export async function storeResult(
  ctx: StoreContext,
  p: ReplayParams,
  png: Uint8Array,
  source: Uint8Array | undefined,
  commit: (imageId: number, sourceImageId: number | null) => number,
): Promise<RecordedImage> {
  const finalPng = embedReplayParams(png, p);
  const stagedSource = await stageSource(ctx, p, source);
  let staged: StagedImage | undefined;
  try {
    staged = await stageImage(ctx, finalPng);
    const image = staged;
    const id = ctx.db.transaction(() => commit(insertImage(ctx, image), sourceId(ctx, stagedSource))).immediate();
    return {
      id,
      hash: image.hash,
      file: image.file,
      path: absolute(ctx.home, image.file),
      width: image.width,
      height: image.height,
      png: finalPng,
    };
  } catch (error) {
    await abandonStaged(ctx, [
      staged,
      typeof stagedSource === 'object' && stagedSource !== null ? stagedSource : undefined,
    ]);
    throw error;
  }
}
