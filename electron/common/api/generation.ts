// Generation calls: text-to-image jobs (queued, streamed, cancellable, resumable), partial decodes, reconstruction,
// token-masked edits and the Shapes World evaluation; and the typed progress event every job emits.
import { z } from 'zod';
import { ProviderIdSchema } from './system';

/** A generation's id in the library (a positive integer). */
export const GenerationIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Seeds are unsigned integers that JSON and JavaScript carry exactly. */
export const SeedSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const CfgScheduleSchema = z.enum(['linear', 'constant']);
export type CfgSchedule = z.infer<typeof CfgScheduleSchema>;

/** The order tokens are generated in: a seeded permutation of the grid, or raster (row-major). */
export const TokenOrderSchema = z.enum(['random', 'raster']);
export type TokenOrder = z.infer<typeof TokenOrderSchema>;

/**
 * What an edit's language model sees besides the prompt: `all` teacher-forces every kept (unmasked) token first, as the
 * reference does; `none` feeds the prompt alone (the kept tokens are still decoded from the source). A model's bundle
 * names its default (`sampling.editContext`, `all` when absent).
 */
export const EditContextSchema = z.enum(['all', 'none']);
export type EditContext = z.infer<typeof EditContextSchema>;

/** Sampling settings; anything left out takes the model bundle's default (its `sampling` block). */
export const SamplingSchema = z.object({
  /** Tokens sampled together per step (k). Any k from 1 to the number of grid tokens. */
  tokensPerStep: z.number().int().min(1).max(65536).optional(),
  /** Flow-head evaluations per group. */
  steps: z.number().int().min(1).max(1000).optional(),
  /** Classifier-free guidance scale; ≤ 1 turns guidance off. */
  cfg: z.number().min(0).max(100).optional(),
  cfgSchedule: CfgScheduleSchema.optional(),
  order: TokenOrderSchema.optional(),
});
export type Sampling = z.infer<typeof SamplingSchema>;

/** The sampling settings a job actually ran with, after the bundle defaults were applied. */
export const ResolvedSamplingSchema = z.object({
  tokensPerStep: z.number().int(),
  steps: z.number().int(),
  cfg: z.number(),
  cfgSchedule: CfgScheduleSchema,
  order: TokenOrderSchema,
});
export type ResolvedSampling = z.infer<typeof ResolvedSamplingSchema>;

/**
 * Prompts may be long: the engine truncates them to the model's token limit and says so in the job's warnings.
 * The transport's body limit bounds them anyway.
 */
export const PromptSchema = z.string().max(500_000);

/** Where an input image comes from: a file the host can read, bytes (PNG/JPEG/WebP, base64), or a library item. */
export const ImageSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: z.string().min(1).max(4096) }),
  z.object({ kind: z.literal('data'), base64: z.string().min(1) }),
  z.object({ kind: z.literal('generation'), id: z.string().min(1).max(200) }),
]);
export type ImageSource = z.infer<typeof ImageSourceSchema>;

export const JobIdSchema = z.string().min(1).max(100);

export const GenerateRequestSchema = SamplingSchema.extend({
  prompt: PromptSchema,
  /** Noise seed of the first image; image i uses seed + i. Random when left out. */
  seed: SeedSchema.optional(),
  /** Seed of the token order of the first image; image i uses orderSeed + i. The seed itself when left out. */
  orderSeed: SeedSchema.optional(),
  /** Model id (the models registry); the default model when left out. */
  model: z.string().min(1).max(200).optional(),
  /** Images generated in one pass. */
  count: z.number().int().min(1).max(16).optional(),
  /** Record the images in the library (default true). When false they are written to a scratch folder only. */
  history: z.boolean().optional(),
  /** Decode previews of the partial grid while generating (default true). */
  previews: z.boolean().optional(),
});
export type GenerateRequest = z.input<typeof GenerateRequestSchema>;

export const EditRequestSchema = SamplingSchema.extend({
  image: ImageSourceSchema,
  /** White (bright) where tokens are regenerated; any size, resized to the token grid. */
  mask: ImageSourceSchema,
  prompt: PromptSchema,
  seed: SeedSchema.optional(),
  orderSeed: SeedSchema.optional(),
  model: z.string().min(1).max(200).optional(),
  history: z.boolean().optional(),
  previews: z.boolean().optional(),
  /** A token is regenerated when at least this fraction of its cell is masked (default 0.5). */
  maskThreshold: z.number().gt(0).max(1).optional(),
  /** Variants made in one pass; variant i uses seed + i (and order seed + i). */
  count: z.number().int().min(1).max(16).optional(),
  /**
   * Outside the mask the result is the source's own pixels, blended into the decode over a feathered seam (default
   * true); false keeps the decoder's whole image.
   */
  keepPixels: z.boolean().optional(),
  /** What the model sees besides the prompt (EditContext); the model's default when left out. */
  editContext: EditContextSchema.optional(),
  /** The library image the edit starts from (lineage), when the image is sent as data; implied by a generation source. */
  sourceId: GenerationIdSchema.optional(),
});
export type EditRequest = z.input<typeof EditRequestSchema>;

export const JobKindSchema = z.enum(['generate', 'edit']);
export type JobKind = z.infer<typeof JobKindSchema>;

export const JobStateSchema = z.enum(['queued', 'running', 'done', 'error', 'cancelled']);
export type JobState = z.infer<typeof JobStateSchema>;

export const JobAcceptedSchema = z.object({
  jobId: JobIdSchema,
  /** Jobs ahead of this one (0: it starts now). */
  position: z.number().int().min(0),
});

export const JobSummarySchema = z.object({
  jobId: JobIdSchema,
  kind: JobKindSchema,
  state: JobStateSchema,
  prompt: z.string(),
  /** Grid tokens committed so far, and the grid's size. */
  committed: z.number().int().min(0),
  total: z.number().int().min(0),
  count: z.number().int().min(1),
  /** A cancelled (or failed) job with committed tokens can be decoded as is or resumed. */
  resumable: z.boolean(),
  createdAt: z.string(),
});
export type JobSummary = z.infer<typeof JobSummarySchema>;

export const GeneratedImageSchema = z.object({
  /** Library id (the same number library.* calls take), or null when the job ran with history: false. */
  id: GenerationIdSchema.nullable(),
  /** Absolute path of the PNG. */
  file: z.string(),
  /** The same file relative to the data folder (what library.* calls and the page's file URLs use); null outside it. */
  libraryFile: z.string().nullable().optional(),
  seed: SeedSchema,
  orderSeed: SeedSchema,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type GeneratedImage = z.infer<typeof GeneratedImageSchema>;

/** A decoded image carried inline: PNG bytes as base64. */
export const InlinePngSchema = z.object({
  png: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type InlinePng = z.infer<typeof InlinePngSchema>;

export const EditSummarySchema = z.object({
  keptTokens: z.number().int().min(0),
  regeneratedTokens: z.number().int().min(0),
  /** PSNR (dB) of the (first) result against the input over the pixels at least one token's width from the mask. */
  unmaskedPsnr: z.number(),
  /** The same for the decoder's own image, before the source's pixels were kept. */
  decodedUnmaskedPsnr: z.number().optional(),
  /** Whether the source's pixels were kept outside the mask. */
  keptPixels: z.boolean().optional(),
  /** What the model saw besides the prompt: every kept token (`all`) or none (`none`). */
  editContext: EditContextSchema.optional(),
});
export type EditSummary = z.infer<typeof EditSummarySchema>;

const jobEvent = { jobId: JobIdSchema };

/**
 * Progress of one job, discriminated on `status`. Every job emits `queued`, then `prefill`, one `group` per group of
 * tokens, `decode`, and exactly one of `done`, `error` or `cancelled`.
 */
export const GenerationProgressSchema = z.discriminatedUnion('status', [
  z.object({ ...jobEvent, status: z.literal('queued'), position: z.number().int().min(0) }),
  z.object({
    ...jobEvent,
    status: z.literal('prefill'),
    kind: JobKindSchema,
    model: z.string(),
    ep: ProviderIdSchema,
    /** Token grid [rows, columns] and the output size in pixels. */
    grid: z.tuple([z.number().int(), z.number().int()]),
    width: z.number().int(),
    height: z.number().int(),
    count: z.number().int(),
    groups: z.number().int(),
    sampling: ResolvedSamplingSchema,
    /** Tokens already fixed before the first group (kept tokens of an edit, committed tokens of a resume). */
    fixed: z.array(z.number().int()),
    warnings: z.array(z.string()),
  }),
  z.object({
    ...jobEvent,
    status: z.literal('group'),
    /** 1-based index of the group just committed, of `groups`. */
    group: z.number().int().min(1),
    groups: z.number().int().min(1),
    /** Grid cells (row-major index) committed in this group, for the first image. */
    positions: z.array(z.number().int().min(0)),
    /**
     * The same for every image of a batch (each image has its own order seed, so its own cells); when left out, every
     * image is taken to follow the first one's order.
     */
    imagePositions: z
      .array(z.array(z.number().int().min(0)))
      .max(16)
      .optional(),
    /** Cells committed so far (including fixed ones), of `total`. */
    committed: z.number().int().min(0),
    total: z.number().int().min(1),
    elapsedMs: z.number(),
    /**
     * Partial grids, one per image, with unfilled tokens neutral; only on some groups (rate-limited). `decoded`: the
     * VGT-AE decoder's image; `approximate`: each token's colour from the bundle's linear latent → RGB map (no
     * decoder run, so it can come after nearly every group).
     */
    previews: z.array(InlinePngSchema).optional(),
    previewKind: z.enum(['decoded', 'approximate']).optional(),
  }),
  z.object({ ...jobEvent, status: z.literal('decode') }),
  z.object({
    ...jobEvent,
    status: z.literal('done'),
    images: z.array(GeneratedImageSchema),
    model: z.string(),
    ep: ProviderIdSchema,
    seconds: z.number(),
    /** Time from the job's start to its first preview (of either kind), when previews were on. */
    firstPreviewMs: z.number().nullable(),
    /** Time to the first decoded preview. */
    firstDecodedPreviewMs: z.number().nullable().optional(),
    warnings: z.array(z.string()),
    edit: EditSummarySchema.optional(),
  }),
  z.object({
    ...jobEvent,
    status: z.literal('error'),
    error: z.object({ code: z.string(), message: z.string() }),
    /** Whether committed tokens survived (decode-partial and resume work). */
    resumable: z.boolean(),
  }),
  z.object({
    ...jobEvent,
    status: z.literal('cancelled'),
    committed: z.number().int().min(0),
    total: z.number().int().min(1),
    resumable: z.boolean(),
  }),
]);
export type GenerationProgress = z.infer<typeof GenerationProgressSchema>;
export type GenerationStatus = GenerationProgress['status'];

export const ReconstructRequestSchema = z.object({
  image: ImageSourceSchema,
  model: z.string().min(1).max(200).optional(),
});

export const ReconstructResultSchema = z.object({
  model: z.string(),
  /** The input as the model saw it (resized and centre-cropped to its size), and the reconstruction. */
  input: InlinePngSchema,
  output: InlinePngSchema,
  psnr: z.number(),
  ssim: z.number(),
  tokens: z.tuple([z.number().int(), z.number().int()]),
  /** Mean squared error per token cell, row-major over the grid. */
  tokenErrors: z.array(z.number()),
  /** The latents' first three principal components as RGB, one pixel per token. */
  pca: InlinePngSchema,
  seconds: z.number(),
});
export type ReconstructResult = z.infer<typeof ReconstructResultSchema>;

/** Sampling settings as for generate (the model's defaults where left out), so settings can be compared by score. */
export const EvalRequestSchema = SamplingSchema.extend({
  /** A file of prompts as JSON lines ({"prompt", "category"} each); the held-out set when left out. */
  prompts: z.string().min(1).max(4096).optional(),
  /** Seeds per prompt. */
  seeds: z.number().int().min(1).max(64).optional(),
  /** Evaluate only the first N prompts (quick checks). */
  limit: z.number().int().min(1).optional(),
  model: z.string().min(1).max(200).optional(),
});

export const EvalResultSchema = z.object({
  overall: z.number(),
  categories: z.record(z.string(), z.number()),
  n: z.number().int(),
  /** Pass rate of the images of prompts marked heldOut (combinations never in training captions) and of the rest. */
  split: z
    .object({
      seen: z.object({ score: z.number().nullable(), n: z.number().int() }),
      heldOut: z.object({ score: z.number().nullable(), n: z.number().int() }),
    })
    .optional(),
  model: z.string(),
  /** The sampling settings the images were made with (the model's defaults filled in). */
  sampling: ResolvedSamplingSchema.optional(),
  seconds: z.number(),
});
export type EvalResult = z.infer<typeof EvalResultSchema>;

export const EngineStatusSchema = z.object({
  /** The provider sessions run on, once a model is loaded. */
  ep: ProviderIdSchema.nullable(),
  model: z.object({ id: z.string(), name: z.string() }).nullable(),
  /** Providers that failed and were skipped, with why (also sent once as a `notice`). */
  fallbacks: z.array(z.object({ ep: ProviderIdSchema, reason: z.string() })),
  busy: z.boolean(),
});
export type EngineStatus = z.infer<typeof EngineStatusSchema>;

const JobRef = z.object({ jobId: JobIdSchema }).strict();

/** A prompt's length in the model's own tokens (its prompt template included), against the model's limit. */
export const TokenCountSchema = z.object({
  tokens: z.number().int().min(0),
  /** Longer prompts are cut at a word to fit (the job's warnings say so). */
  limit: z.number().int().min(1),
  /** The model counted with (the default one when the request named none). */
  model: z.string(),
});
export type TokenCount = z.infer<typeof TokenCountSchema>;

export const generationCalls = {
  /** Queues a text-to-image job; progress arrives as `generation.progress` events. */
  'generation.generate': { request: GenerateRequestSchema.strict(), response: JobAcceptedSchema },
  /** Queues a token-masked edit of an image; same events as generate, `done` carries the edit summary. */
  'generation.edit': { request: EditRequestSchema.strict(), response: JobAcceptedSchema },
  /** Cancels a queued or running job; a running one keeps its committed tokens. */
  'generation.cancel': { request: JobRef, response: z.object({ cancelled: z.boolean(), state: JobStateSchema }) },
  /** Queues a cancelled or failed job again; it re-prefills its committed tokens and continues with the same seeds. */
  'generation.resume': { request: JobRef, response: JobAcceptedSchema },
  /** Decodes a job's committed tokens as they are (unfilled tokens neutral). */
  'generation.decodePartial': {
    request: JobRef,
    response: z.object({ images: z.array(InlinePngSchema), committed: z.number().int(), total: z.number().int() }),
  },
  /** Jobs of this session: queued, running and finished ones. */
  'generation.jobs': { request: z.object({}).strict(), response: z.object({ jobs: z.array(JobSummarySchema) }) },
  /** Encodes and decodes an image through the model's autoencoder, with quality figures. */
  'generation.reconstruct': { request: ReconstructRequestSchema.strict(), response: ReconstructResultSchema },
  /** Scores the model on Shapes World prompts (long: minutes). */
  'generation.eval': { request: EvalRequestSchema.strict(), response: EvalResultSchema },
  /** The engine's provider, loaded model and fallbacks. */
  'generation.engine': { request: z.object({}).strict(), response: EngineStatusSchema },
  /** Counts a prompt's tokens with the model's tokenizer (no model is loaded for it). */
  'generation.countTokens': {
    request: z.object({ prompt: PromptSchema, model: z.string().min(1).max(200).optional() }).strict(),
    response: TokenCountSchema,
  },
} as const;

export const generationEvents = {
  'generation.progress': GenerationProgressSchema,
} as const;
