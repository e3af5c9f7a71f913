// Sweeps: one job over one or two sampling axes (e.g. tokens per step × seed). Every cell is an ordinary generation
// (a library item), timed as `vgt bench` times an image and, for a Shapes World prompt, scored by ShapesEval; the
// whole sweep is saved as one grid PNG that carries its settings.
import { z } from 'zod';
import {
  CfgScheduleSchema,
  GenerationIdSchema,
  InlinePngSchema,
  PromptSchema,
  ResolvedSamplingSchema,
  SeedSchema,
  TokenOrderSchema,
} from './generation';

/** The settings a sweep can vary (the CLI spells them seed, tokens-per-step, cfg, steps, order-seed). */
export const SWEEP_AXES = ['seed', 'tokensPerStep', 'cfg', 'steps', 'orderSeed'] as const;
export const SweepAxisNameSchema = z.enum(SWEEP_AXES);
export type SweepAxisName = z.infer<typeof SweepAxisNameSchema>;

/** Values per axis and cells per sweep: a grid a person can still read. */
export const SWEEP_LIMITS = { values: 16, cells: 64 } as const;

export const SweepAxisSchema = z.object({
  axis: SweepAxisNameSchema,
  /** The values in the order they are laid out (columns for x, rows for y); checked per axis by the host. */
  values: z.array(z.number().finite()).min(1).max(SWEEP_LIMITS.values),
});
export type SweepAxis = z.infer<typeof SweepAxisSchema>;

export const SweepRequestSchema = z
  .object({
    prompt: PromptSchema,
    model: z.string().min(1).max(200).optional(),
    /** Columns. */
    x: SweepAxisSchema,
    /** Rows (none: one row). */
    y: SweepAxisSchema.optional(),
    /** The settings of every cell where no axis sets them (the model's defaults; one random seed for all cells). */
    seed: SeedSchema.optional(),
    orderSeed: SeedSchema.optional(),
    tokensPerStep: z.number().int().min(1).max(65536).optional(),
    steps: z.number().int().min(1).max(1000).optional(),
    cfg: z.number().min(0).max(100).optional(),
    cfgSchedule: CfgScheduleSchema.optional(),
    order: TokenOrderSchema.optional(),
  })
  .strict();
export type SweepRequest = z.input<typeof SweepRequestSchema>;

export const SweepIdSchema = z.string().min(1).max(100);

/** One finished cell: a library item, its time per image and its ShapesEval verdict. */
export const SweepCellSchema = z.object({
  /** Column and row (0-based; row 0 without a y axis). */
  col: z.number().int().min(0),
  row: z.number().int().min(0),
  /** The axis values of this cell (y null without a y axis). */
  x: z.number(),
  y: z.number().nullable(),
  id: GenerationIdSchema.nullable(),
  /** Absolute path of the cell's PNG. */
  file: z.string(),
  seed: SeedSchema,
  orderSeed: SeedSchema,
  sampling: ResolvedSamplingSchema,
  /** Wall time of the image on the engine, measured as `vgt bench` measures msPerImage. */
  msPerImage: z.number(),
  /** ShapesEval's verdict, or null when the prompt is not a Shapes World prompt. */
  pass: z.boolean().nullable(),
});
export type SweepCell = z.infer<typeof SweepCellSchema>;

const sweepEvent = { sweepId: SweepIdSchema };

/** A sweep's progress: `started`, one `cell` per finished cell, then exactly one of `done`, `error`, `cancelled`. */
export const SweepProgressSchema = z.discriminatedUnion('status', [
  z.object({
    ...sweepEvent,
    status: z.literal('started'),
    prompt: z.string(),
    model: z.string(),
    x: SweepAxisSchema,
    y: SweepAxisSchema.nullable(),
    /** Whether cells are scored (the prompt is a Shapes World prompt). */
    scored: z.boolean(),
    total: z.number().int().min(1),
  }),
  z.object({
    ...sweepEvent,
    status: z.literal('cell'),
    cell: SweepCellSchema,
    done: z.number().int().min(1),
    total: z.number().int().min(1),
  }),
  z.object({
    ...sweepEvent,
    status: z.literal('done'),
    /** Absolute path of the grid PNG. */
    grid: z.string(),
    cells: z.array(SweepCellSchema),
    seconds: z.number(),
  }),
  z.object({ ...sweepEvent, status: z.literal('error'), error: z.object({ code: z.string(), message: z.string() }) }),
  z.object({ ...sweepEvent, status: z.literal('cancelled'), cells: z.array(SweepCellSchema) }),
]);
export type SweepProgress = z.infer<typeof SweepProgressSchema>;

const SweepRef = z.object({ sweepId: SweepIdSchema }).strict();

export const sweepCalls = {
  /** Starts a sweep (checked first: model, axes, values); progress arrives as `sweep.progress` events. */
  'sweep.start': {
    request: SweepRequestSchema,
    response: z.object({ sweepId: SweepIdSchema, total: z.number().int().min(1) }),
  },
  /** Stops a sweep: the cell being made is cancelled, finished cells stay in the library. */
  'sweep.cancel': { request: SweepRef, response: z.object({ cancelled: z.boolean() }) },
  /** A finished sweep's grid PNG (this session's sweeps). */
  'sweep.grid': { request: SweepRef, response: InlinePngSchema.extend({ file: z.string() }) },
} as const;

export const sweepEvents = {
  'sweep.progress': SweepProgressSchema,
} as const;
