// A job's plan, made once by the host before the job is queued: the prompt tokenised, the sampling resolved and
// checked, the cells to keep (and which of them the model sees) and to generate with each image's order, an edit's
// source pixels, a fork's parent. The
// engine (on its worker thread) runs the plan it is given and never tokenises or checks a request again.
import type { EditContext, ResolvedSampling, Sampling } from '../common/contract';
import { StudioError } from '../common/errors';
import type { Rgb } from '../platform/image';
import type { BundleManifest } from './bundle';
import { resolveSampling } from './engine';
import { checkForkGroup, type ForkSpec } from './fork';
import { shuffled } from './rng';
import type { SamplePlan } from './sampler';
import type { PromptEncoder } from './tokenizer';

/** The sampler's plan with the prompt as the model saw it (trimmed, maybe cut) and what the user is told. */
export type PlannedText = SamplePlan & Readonly<{ prompt: string; warnings: ReadonlyArray<string> }>;

export type JobPlan = PlannedText &
  Readonly<{
    /** An edit's input at the model's size (decoded once, by the host). */
    source: Rgb | null;
    /** An edit's context as resolved (the request's, else the model's default); null for a generation. */
    editContext: EditContext | null;
    /** A fork: the parent's plan (one image, its seeds) and the groups kept of it. */
    fork: Readonly<{ parent: PlannedText; seed: number; orderSeed: number; group: number }> | null;
  }>;

/** What a plan is made of: the request's text and settings, and per image its order seed. */
export type JobSpec = Readonly<{
  prompt: string;
  /** The text CFG's unconditional row takes instead of the bundle's unconditional prompt (blank: the bundle's). */
  negativePrompt?: string | null;
  sampling: Sampling;
  orderSeeds: ReadonlyArray<number>;
  /**
   * An edit: its model-size pixels, per grid cell 1 where the token is regenerated, and what the model sees besides
   * the prompt (left out: the model's default, `sampling.editContext`, else `all`).
   */
  edit?: Readonly<{ source: Rgb; regenerate: Uint8Array; context?: EditContext }>;
  /** Keep another job's first groups (engine/fork.ts). */
  fork?: ForkSpec;
}>;

type Encoded = ReturnType<PromptEncoder['encode']>;

function orderOf(generate: ReadonlyArray<number>, sampling: ResolvedSampling, orderSeed: number): Int32Array {
  return sampling.order === 'raster' ? Int32Array.from(generate) : shuffled(generate, orderSeed);
}

function textPlan(
  encoded: Encoded,
  sampling: ResolvedSampling,
  cells: Readonly<{ kept: ReadonlyArray<number>; fed: ReadonlyArray<number> }>,
  orders: ReadonlyArray<Int32Array>,
): PlannedText {
  return {
    sampling,
    cond: encoded.cond,
    uncond: encoded.uncond,
    kept: cells.kept,
    fed: cells.fed,
    orders,
    prompt: encoded.prompt,
    warnings: encoded.warning ? [encoded.warning] : [],
  };
}

/** The cells an edit keeps and regenerates, checked against the grid and the tokens per step. */
function editCells(
  regenerate: Uint8Array,
  cells: number,
  sampling: ResolvedSampling,
): Readonly<{ generate: Array<number>; kept: Array<number> }> {
  if (regenerate.length !== cells) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `An edit needs one mask value per token (${cells}), got ${regenerate.length}.`,
    );
  }
  const all = Array.from({ length: cells }, (_, i) => i);
  const generate = all.filter((cell) => regenerate[cell] === 1);
  if (generate.length === 0) throw new StudioError('INVALID_PAYLOAD', 'The mask marks no token for regeneration.');
  if (sampling.tokensPerStep > generate.length) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `tokensPerStep ${sampling.tokensPerStep} is larger than the ${generate.length} masked tokens; use 1 to ${generate.length}.`,
    );
  }
  return { generate, kept: all.filter((cell) => regenerate[cell] !== 1) };
}

/** An edit's context: the request's, else the model's default, else every kept token (the reference). */
export function resolveEditContext(manifest: BundleManifest, context: EditContext | undefined): EditContext {
  return context ?? manifest.sampling.editContext ?? 'all';
}

/** A fork's parent: its own text (the fork's when the prompt is the same, so it is tokenised once), sampling, order. */
function forkParent(
  manifest: BundleManifest,
  prompts: PromptEncoder,
  spec: JobSpec,
  fork: ForkSpec,
  mine: Encoded,
): JobPlan['fork'] {
  const cells = manifest.image.grid[0] * manifest.image.grid[1];
  const sampling = resolveSampling(manifest, fork.parent.sampling);
  const encoded = fork.parent.prompt === spec.prompt ? mine : prompts.encode(fork.parent.prompt, spec.negativePrompt);
  const all = Array.from({ length: cells }, (_, i) => i);
  const parent = textPlan(encoded, sampling, { kept: [], fed: [] }, [orderOf(all, sampling, fork.parent.orderSeed)]);
  checkForkGroup(parent, fork.group);
  return { parent, seed: fork.parent.seed, orderSeed: fork.parent.orderSeed, group: fork.group };
}

/** The plan of a job on a bundle: pure, given the bundle's manifest and prompt encoder. */
export function planJob(manifest: BundleManifest, prompts: PromptEncoder, spec: JobSpec): JobPlan {
  const sampling = resolveSampling(manifest, spec.sampling);
  const cells = manifest.image.grid[0] * manifest.image.grid[1];
  if (spec.fork && spec.orderSeeds.length !== 1) throw new StudioError('INVALID_PAYLOAD', 'A fork makes one image.');
  const { generate, kept } = spec.edit
    ? editCells(spec.edit.regenerate, cells, sampling)
    : { generate: Array.from({ length: cells }, (_, i) => i), kept: [] };
  const editContext = spec.edit ? resolveEditContext(manifest, spec.edit.context) : null;
  // The kept cells' latents come from the source either way; with `none` the model does not see them.
  const fed = editContext === 'none' ? [] : kept;
  const encoded = prompts.encode(spec.prompt, spec.negativePrompt);
  // A fork follows its parent's order: the kept groups are the parent's cells.
  const orderSeeds = spec.fork ? [spec.fork.parent.orderSeed] : spec.orderSeeds;
  const orders = orderSeeds.map((orderSeed) => orderOf(generate, sampling, orderSeed));
  return {
    ...textPlan(encoded, sampling, { kept, fed }, orders),
    source: spec.edit?.source ?? null,
    editContext,
    fork: spec.fork ? forkParent(manifest, prompts, spec, spec.fork, encoded) : null,
  };
}

/** The plan for some of its images (a batch the queue split, or a batch run one image at a time). */
export function planForImages(plan: JobPlan, images: ReadonlyArray<number>): JobPlan {
  return { ...plan, orders: images.map((i) => plan.orders[i] ?? new Int32Array(0)) };
}
