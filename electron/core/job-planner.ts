// The job planner: a generate, edit or fork request (or a queued job's replay parameters) becomes, once, its images'
// replay parameters and the engine's plan (engine/plan.ts: the prompt tokenised, the sampling resolved and checked,
// the orders). Bundles' manifests, tokenizers and hashes are read once per folder.
import { createHash, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EditContext, GenerateRequest, JobKind, ResolvedSampling, Sampling } from '../common/contract';
import type { ReplayParams } from '../common/api/library';
import { StudioError } from '../common/errors';
import { readManifest, type BundleManifest } from '../engine/bundle';
import type { ForkSpec } from '../engine/fork';
import { planJob, type JobPlan, type JobSpec } from '../engine/plan';
import { PromptEncoder } from '../engine/tokenizer';
import type { Rgb } from '../platform/image';
import { imageHash } from '../store/library';
import type { EditPixels } from './edit-pixels';
import { forkOriginOf, forkSpecOf } from './fork';

/** The library keeps prompts up to this many characters; the model's token limit is usually far lower. */
export const PROMPT_MAX_CHARS = 4096;

export type BundleInfo = Readonly<{ dir: string; manifest: BundleManifest; prompts: PromptEncoder; hash: string }>;

/**
 * An edit's input: the model-size PNG the library keeps, its pixels, the regenerated cells, its source, and what the
 * model sees besides the prompt (undefined: the model's default).
 */
export type PlannedEdit = EditPixels &
  Readonly<{ pixels: Rgb; sourceId: number | null; editContext?: EditContext | undefined }>;

/** A planned job: per image what the library records and the PNG carries, and the engine's plan (one order each). */
export type Planned = Readonly<{ params: Array<ReplayParams>; plan: JobPlan }>;

/** Manifests, prompt encoders and manifest hashes by bundle folder, each loaded once. */
export class BundleCache {
  readonly #bundles = new Map<string, Promise<BundleInfo>>();

  get(dir: string): Promise<BundleInfo> {
    let info = this.#bundles.get(dir);
    if (!info) {
      info = loadBundleInfo(dir);
      this.#bundles.set(dir, info);
      info.catch(() => this.#bundles.delete(dir));
    }
    return info;
  }
}

export async function loadBundleInfo(dir: string): Promise<BundleInfo> {
  const manifest = await readManifest(dir);
  const tokenizer = Object.entries(manifest.files).find(([, e]) => e.role === 'tokenizer')?.[0] ?? 'tokenizer.json';
  const prompts = await PromptEncoder.load(path.join(dir, tokenizer), manifest);
  const hash = createHash('sha256')
    .update(await readFile(path.join(dir, 'vgt-bundle.json')))
    .digest('hex');
  return { dir, manifest, prompts, hash };
}

/** Regenerated cells as hex, four cells a digit (1024 cells fit the library's 16 kB of `extra`). */
export function hexOfCells(cells: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < cells.length; i += 4) {
    const bit = (j: number): number => (cells[i + j] ?? 0) << (3 - j);
    hex += (bit(0) | bit(1) | bit(2) | bit(3)).toString(16);
  }
  return hex;
}

export function cellsOfHex(hex: string, count: number): Uint8Array {
  const cells = new Uint8Array(count);
  for (let i = 0; i < count; i++) cells[i] = (parseInt(hex[i >> 2] ?? '0', 16) >> (3 - (i & 3))) & 1;
  return cells;
}

export function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

export function samplingOf(p: ReplayParams | undefined): Sampling {
  if (!p) throw new StudioError('INTERNAL', 'A job without images.');
  return { tokensPerStep: p.tokensPerStep, steps: p.steps, cfg: p.cfg, cfgSchedule: p.cfgSchedule, order: p.order };
}

/**
 * The plan, with the prompt the library keeps: a prompt longer than that (only with a very large token limit) is
 * tokenised as kept, so a replay of the record makes the same image.
 */
function planKept(bundle: BundleInfo, spec: JobSpec): JobPlan {
  const plan = planJob(bundle.manifest, bundle.prompts, spec);
  if (plan.prompt.length <= PROMPT_MAX_CHARS) return plan;
  const kept = planJob(bundle.manifest, bundle.prompts, { ...spec, prompt: plan.prompt.slice(0, PROMPT_MAX_CHARS) });
  return { ...kept, warnings: plan.warnings };
}

function paramsOf(
  kind: JobKind,
  plan: JobPlan,
  bundle: BundleInfo,
  modelId: string,
  seeds: Readonly<{ seed: number; orderSeed: number }>,
  edit: PlannedEdit | null,
  extra: ReplayParams['extra'],
): ReplayParams {
  const s: ResolvedSampling = plan.sampling;
  const { size } = bundle.manifest.image;
  return {
    kind,
    prompt: plan.prompt,
    negativePrompt: null,
    modelId,
    bundleHash: bundle.hash,
    provider: null, // the engine's, recorded when the run finishes
    seed: seeds.seed,
    orderSeed: seeds.orderSeed,
    order: s.order,
    tokensPerStep: s.tokensPerStep,
    steps: s.steps,
    cfg: s.cfg,
    cfgSchedule: s.cfgSchedule,
    width: size,
    height: size,
    sourceImage: edit ? imageHash(edit.source) : null,
    extra: edit
      ? {
          regenerate: hexOfCells(edit.regenerate),
          ...(edit.sourceId !== null ? { sourceId: edit.sourceId } : {}),
          ...(edit.keepPixels ? {} : { keepPixels: false }),
          // Recorded when the model saw the prompt alone; absent means every kept token (as every earlier record).
          ...(plan.editContext === 'none' ? { editContext: 'none' } : {}),
        }
      : extra,
  };
}

/** The plan's view of an edit: its pixels, regenerated cells and context. */
function editSpec(edit: PlannedEdit): NonNullable<JobSpec['edit']> {
  return {
    source: edit.pixels,
    regenerate: edit.regenerate,
    ...(edit.editContext ? { context: edit.editContext } : {}),
  };
}

/** A new job of `count` images from a request: seeds from `request.seed` on, order seeds likewise. */
export function planRequest(
  bundle: BundleInfo,
  input: Readonly<{
    kind: JobKind;
    request: GenerateRequest;
    modelId: string;
    count: number;
    edit: PlannedEdit | null;
    /** A fork's record (`extra.fork`, core/fork.ts) and what the engine keeps of its parent. */
    fork: Readonly<{ extra: ReplayParams['extra']; spec: ForkSpec }> | null;
  }>,
): Planned {
  const { request, count, edit } = input;
  const seed = request.seed ?? randomSeed();
  // One seed fixes the image: the order seed is the seed itself unless set (the order and the noise draw from
  // separate streams of the generator, so sharing the number does not correlate them).
  const orderSeed = request.orderSeed ?? seed;
  const seeds = Array.from({ length: count }, (_, i) => ({ seed: seed + i, orderSeed: orderSeed + i }));
  const plan = planKept(bundle, {
    prompt: request.prompt,
    sampling: request,
    orderSeeds: seeds.map((s) => s.orderSeed),
    ...(edit ? { edit: editSpec(edit) } : {}),
    ...(input.fork ? { fork: input.fork.spec } : {}),
  });
  const extra = input.fork?.extra ?? null;
  const params = seeds.map((s) => paramsOf(input.kind, plan, bundle, input.modelId, s, edit, extra));
  return { params, plan };
}

/** The plan of a queued job this session did not plan (a retry, or left by an earlier session). */
export function planReplay(bundle: BundleInfo, params: ReadonlyArray<ReplayParams>, edit: PlannedEdit | null): JobPlan {
  const first = params[0];
  const origin = forkOriginOf(first);
  return planKept(bundle, {
    prompt: first?.prompt ?? '',
    sampling: samplingOf(first),
    orderSeeds: params.map((p) => p.orderSeed),
    ...(edit ? { edit: editSpec(edit) } : {}),
    ...(origin ? { fork: forkSpecOf(origin) } : {}),
  });
}
