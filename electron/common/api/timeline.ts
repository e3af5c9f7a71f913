// Timeline calls: a finished image's generation group by group (its order, and the image after any group, decoded on
// demand), and forks that keep its first groups and make the rest again with other settings.
import { z } from 'zod';
import { GenerationIdSchema, InlinePngSchema, JobAcceptedSchema, PromptSchema, SeedSchema } from './generation';

export const ForkRequestSchema = z
  .object({
    /** The library generation to fork (a finished text-to-image generation). */
    from: GenerationIdSchema,
    /** Keep its groups 1..group (0 keeps none; its group count keeps all of them). */
    group: z.number().int().min(0).max(65536),
    /** What changes for the rest; anything left out is the parent's (the seed: a new random one). */
    prompt: PromptSchema.optional(),
    seed: SeedSchema.optional(),
    tokensPerStep: z.number().int().min(1).max(65536).optional(),
    steps: z.number().int().min(1).max(1000).optional(),
    cfg: z.number().min(0).max(100).optional(),
    previews: z.boolean().optional(),
  })
  .strict();
export type ForkRequest = z.infer<typeof ForkRequestSchema>;

/** What a PNG's `vgt` parameters say of a fork (under `extra.fork`): enough to replay it without the library. */
export const ForkOriginSchema = z.object({
  parentId: GenerationIdSchema.nullable(),
  group: z.number().int().min(0),
  parent: z.object({
    prompt: PromptSchema,
    seed: SeedSchema,
    orderSeed: SeedSchema,
    tokensPerStep: z.number().int().min(1),
    steps: z.number().int().min(1),
    cfg: z.number(),
    cfgSchedule: z.enum(['linear', 'constant']),
    order: z.enum(['random', 'raster']),
  }),
});
export type ForkOrigin = z.infer<typeof ForkOriginSchema>;

export const TimelineSchema = z.object({
  id: GenerationIdSchema,
  /** The token grid [h, w]. */
  grid: z.tuple([z.number().int(), z.number().int()]),
  /** Cells in the order they were committed (row-major cell index). */
  order: z.array(z.number().int().min(0)),
  /** Sizes of the committed groups over `order`. */
  groups: z.array(z.number().int().min(1)),
  /** Bytes the library keeps for this timeline (half floats, deflated). */
  bytes: z.number().int().min(0),
  /** A fork: its parent (null when that was deleted) and the groups it kept. */
  fork: z.object({ parentId: GenerationIdSchema.nullable(), group: z.number().int().min(0) }).nullable(),
  /** Forks made from this image. */
  forks: z.array(z.object({ id: GenerationIdSchema, group: z.number().int().min(0) })),
});
export type Timeline = z.infer<typeof TimelineSchema>;

const IdRequest = z.object({ id: GenerationIdSchema }).strict();

export const timelineCalls = {
  /** Queues a fork of a library image at a group; the job streams `generation.progress` as any other. */
  'timeline.fork': { request: ForkRequestSchema, response: JobAcceptedSchema },
  /** A library image's timeline; null for images made before timelines were kept (or imported ones). */
  'timeline.get': { request: IdRequest, response: TimelineSchema.nullable() },
  /** The image as it was after `group` groups (decoded from the stored latents, cached). */
  'timeline.frame': {
    request: z.object({ id: GenerationIdSchema, group: z.number().int().min(0).max(65536) }).strict(),
    response: InlinePngSchema,
  },
} as const;
