// The VGT sampling procedure of native-models/BUNDLE.md ("Sampling procedure"), on five graph functions.
// Rows are [cond_0 … cond_{B-1}, uncond_0 … uncond_{B-1}] (uncond only when cfg > 1); every image has its own seed and
// token order, so an image does not depend on what it is batched with. Arithmetic on latents is float32 (Math.fround
// after each operation, in the reference's order) so the engine tracks PyTorch to float rounding.
//
// The token sequence after `[text | <img>]` (sequence.ts) is a list of items: `q` (the position query of a cell) and
// `z` (a sampled or known latent of a cell, through latent_in). Teacher-forced cells (an edit's kept tokens, unless its
// context is the prompt alone) come first as `q, z` pairs; then group g feeds its queries, and after sampling, its
// latents (k = 1: `z`; k > 1: `q, z` pairs, so the probe queries stay in the cache as in the reference). A resume
// replays committed groups in one prefill. Each group: an LM call, the flow head (flow-head.ts) from noise to latents,
// their LayerNorm, the commit.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import type { CfgSchedule, ResolvedSampling } from '../common/api/generation';
import { StudioError } from '../common/errors';
import type { Grid } from './bundle';
import { FlowHead } from './flow-head';
import { groupNoise, type Rng } from './rng';
import { cutColumns, TokenSequence, type Feed } from './sequence';

export { LAST_STEP, sdeTimesteps } from './flow-head';

const f = Math.fround;

/** Opaque KV cache of the LM graph (tensors of whatever runtime runs it). */
export type KvCache = ReadonlyArray<unknown>;

export type LmStepInput = Readonly<{
  /** [rows, length, hidden] */
  embeds: Float32Array;
  rows: number;
  length: number;
  /** [rows, past + length]: 1 = real token. */
  mask: BigInt64Array;
  /** [rows, length], or [rows, length, 2] under 2-D RoPE (`grid2d`) */
  positions: BigInt64Array;
  past: KvCache | null;
}>;

/** Inputs of the fused head_sde graph (BUNDLE.md): head_cond and one group's whole SDE loop with CFG. */
export type HeadSdeInput = Readonly<{
  /** [2n, hidden]: the LM's hidden states, cond rows then uncond rows */
  hidden: Float32Array;
  /** [n, dZ] initial noise */
  x: Float32Array;
  /** [steps − 1, n, dZ] */
  eps: Float32Array;
  /** [steps − 1, 3]: (1 + t, dt, sqrt(2(1 − t))·sqrt(dt)) as float32 */
  coef: Float32Array;
  /** [steps] */
  ts: Float32Array;
  cfg: number;
  n: number;
}>;

/** The bundle's graphs as functions on flat float32 arrays (row-major). */
export type Graphs = Readonly<{
  /**
   * One group's SDE loop in one call (x before the latent LayerNorm, guided velocities [steps, n, dZ]); used when the
   * bundle has it, CFG is on and `sdeSteps` equals the requested steps. Otherwise head_velocity runs step by step.
   */
  headSde?:
    ((input: HeadSdeInput) => Promise<Readonly<{ x: Float32Array; v: Float32Array; cond: Float32Array }>>) | null;
  sdeSteps?: number | null;
  lmStep(input: LmStepInput): Promise<Readonly<{ hidden: Float32Array; present: KvCache }>>;
  /** z [n, dZ], pos [n, hidden] → [n, hidden] */
  latentIn(z: Float32Array, pos: Float32Array, n: number): Promise<Float32Array>;
  /** hidden [n, hidden] → [n, headWidth] */
  headCond(hidden: Float32Array, n: number): Promise<Float32Array>;
  /** x [n, dZ], t [n], cond [n, headWidth] → v [n, dZ] */
  headVelocity(x: Float32Array, t: Float32Array, cond: Float32Array, n: number): Promise<Float32Array>;
  /** z [batch, dZ, h, w] → image [batch, 3, stride·h, stride·w] in [-1, 1] (not clamped) */
  decode(z: Float32Array, batch: number, grid: Grid): Promise<Float32Array>;
  /** image [batch, 3, size, size] in [-1, 1] → z [batch, dZ, h, w]; absent for decode-only bundles. */
  encode: ((image: Float32Array, batch: number) => Promise<Float32Array>) | null;
}>;

/** What a sampler needs of the model besides its graphs. */
export type ModelTables = Readonly<{
  hidden: number;
  dZ: number;
  latentLnEps: number;
  /** [vocab, hidden] */
  embedTokens: Float32Array;
  /** [h·w, hidden] position queries and position embeddings of the grid. */
  queries: Float32Array;
  pos: Float32Array;
  grid: Grid;
  imgTokenIds: ReadonlyArray<number>;
  padTokenId: number;
  padMask: PadMask;
  imagePositions: ImagePositions;
}>;

/**
 * RoPE positions of image items: `sequence` (the reference: each fed item takes the next position, so in random order
 * a position says nothing about the cell), `grid` (an item of cell c sits at (real tokens before the image) + c,
 * query and latent alike, whatever the order) or `grid2d` (2-D RoPE: every position is a pair; the item of cell
 * (row, col) sits at (base + row, base + col), a text token at (p, p)). BUNDLE.md "Image positions".
 */
export type ImagePositions = 'sequence' | 'grid' | 'grid2d';

/** Numbers per RoPE position: 2 under 2-D RoPE (the lm_step graph's position_ids are [rows, length, 2]). */
export function positionWidth(scheme: ImagePositions): number {
  return scheme === 'grid2d' ? 2 : 1;
}

/**
 * Pads of the shorter text row: masked in every LM call (`always`: an image does not depend on the other row's
 * length), or in the prefill only (`prefill`: the reference's generate() passes no mask afterwards). BUNDLE.md "Padding".
 */
export type PadMask = 'always' | 'prefill';

/** Noise of the flow head: x at t = 0 of a group, then the eps of each Euler–Maruyama step. */
export type NoiseSource = Readonly<{
  initial(image: number, group: number, n: number): Float32Array;
  sde(image: number, group: number, step: number, n: number): Float32Array;
}>;

/** The engine's noise: one generator per (image seed, group), so any group can be redrawn after a resume. */
export function seededNoise(seeds: ReadonlyArray<number>): NoiseSource {
  // Each group reads its stream in a fixed order: the initial x, then each SDE step.
  const current: Array<Rng> = [];
  return {
    initial: (image, group, n) => (current[image] = groupNoise(seeds[image]!, group)).normals(n),
    sde: (image, _group, _step, n) => current[image]!.normals(n),
  };
}

/** Group sizes: G = max(1, N // k) uniform groups, the remainder one extra token each to the first groups. */
export function groupSizes(n: number, k: number): Array<number> {
  if (n === 0) return [];
  const groups = Math.max(1, Math.floor(n / Math.max(1, k)));
  const base = Math.floor(n / groups);
  const rem = n % groups;
  return Array.from({ length: groups }, (_, g) => base + (g < rem ? 1 : 0));
}

/** CFG scale of group g: `linear` decreases from cfg (group 0) as 1 + (cfg − 1)(G − g)/G, as the reference. */
export function cfgForGroup(cfg: number, schedule: CfgSchedule, g: number, groups: number): number {
  if (schedule === 'constant' || g === 0) return cfg;
  return 1 + ((cfg - 1) * (groups - g)) / groups;
}

/** Per-token LayerNorm without affine: (x − mean) / sqrt(var + eps), in float32. */
export function latentLayerNorm(x: Float32Array, dZ: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += dZ) {
    let sum = 0;
    for (let c = 0; c < dZ; c++) sum = f(sum + x[o + c]!);
    const mean = f(sum / dZ);
    let sq = 0;
    for (let c = 0; c < dZ; c++) {
      const d = f(x[o + c]! - mean);
      sq = f(sq + f(d * d));
    }
    const std = f(Math.sqrt(f(f(sq / dZ) + f(eps))));
    for (let c = 0; c < dZ; c++) out[o + c] = f(f(x[o + c]! - mean) / std);
  }
  return out;
}

/** Everything that determines a job's tokens; with a SampleState it is all a resume needs. */
export type SamplePlan = Readonly<{
  sampling: ResolvedSampling;
  /** Text rows, before padding. */
  cond: ReadonlyArray<number>;
  uncond: ReadonlyArray<number>;
  /** Cells whose latents are known before sampling (an edit's kept tokens, a fork's kept groups): never sampled. */
  kept: ReadonlyArray<number>;
  /**
   * The kept cells the LM sees, teacher-forced as `q, z` pairs in this order before group 0: all of `kept` (the
   * reference), or none of an edit's kept tokens when its context is the prompt alone (`editContext: none`).
   */
  fed: ReadonlyArray<number>;
  /** Per image: the cells to generate, in generation order. All have the same length. */
  orders: ReadonlyArray<Int32Array>;
}>;

/** The resumable part of a job: committed groups and every known latent. */
export type SampleState = {
  committedGroups: number;
  /** Per image: [h·w, dZ] latents, zero where unknown. */
  latents: Array<Float32Array>;
  /** Per cell: 1 when its latent is known (kept or committed). */
  known: Uint8Array;
};

export function initialState(images: number, cells: number, dZ: number): SampleState {
  return {
    committedGroups: 0,
    latents: Array.from({ length: images }, () => new Float32Array(cells * dZ)),
    known: new Uint8Array(cells),
  };
}

export type GroupReport = Readonly<{
  /** 0-based group index and group count. */
  group: number;
  groups: number;
  /** Cells committed in this group, per image. */
  cells: ReadonlyArray<Int32Array>;
}>;

/** What the golden tests read: each group's intermediates, as the Python trace names them. */
export type GroupTrace = Readonly<{
  group: number;
  hidden: Float32Array;
  cond: Float32Array;
  velocities: ReadonlyArray<Float32Array>;
  z: Float32Array;
}>;

export type SamplerHooks = Readonly<{
  /** After each committed group; may decode a preview. */
  onGroup?: (report: GroupReport, state: SampleState) => void | Promise<void>;
  /** Checked before each LM call and after each group: true stops with CANCELLED (committed groups are kept). */
  shouldStop?: () => boolean;
  trace?: (trace: GroupTrace) => void;
}>;

/** The LM's KV cache and the columns its next call feeds. */
type LmCursor = { past: KvCache | null; pastLength: number; feed: Feed };

/**
 * Runs the sampler from `state.committedGroups` to the end, updating `state` after every group (so a cancel or a
 * failure leaves what was committed). Throws StudioError CANCELLED when `shouldStop` says so.
 */
export async function sample(
  graphs: Graphs,
  model: ModelTables,
  plan: SamplePlan,
  state: SampleState,
  noise: NoiseSource,
  hooks: SamplerHooks = {},
): Promise<void> {
  const { sampling } = plan;
  const sizes = groupSizes(plan.orders[0]?.length ?? 0, sampling.tokensPerStep);
  const G = sizes.length;
  const stop = (): void => {
    if (hooks.shouldStop?.()) throw new StudioError('CANCELLED');
  };
  if (state.committedGroups >= G) return;
  const sequence = new TokenSequence(graphs, model, plan, state, sizes);
  const head = new FlowHead(graphs, sampling, sequence.images, model.dZ);
  const lm = await prefill(graphs, model, sequence, state.committedGroups, stop);
  for (let g = state.committedGroups; g < G; g++) {
    stop();
    const k = sizes[g]!;
    const hidden = await groupStep(graphs, model, sequence, lm, k);
    const cfg = f(sampling.cfg > 1 ? cfgForGroup(sampling.cfg, sampling.cfgSchedule, g, G) : 1);
    const { x, cond, velocities } = await head.run(hidden, g, k, cfg, noise);
    const z = latentLayerNorm(x, model.dZ, model.latentLnEps);
    const cells = commit(sequence, state, z, g, k, model.dZ);
    hooks.trace?.({ group: g, hidden, cond, velocities, z });
    await hooks.onGroup?.({ group: g, groups: G, cells }, state);
    if (g + 1 >= G) break;
    stop();
    lm.feed = await sequence.next(g);
  }
}

/** The prefill's feed, and for a `prefill`-mask resume the first of its two calls already run. */
async function prefill(
  graphs: Graphs,
  model: ModelTables,
  sequence: TokenSequence,
  first: number,
  stop: () => void,
): Promise<LmCursor> {
  const feed = await sequence.prefill(first);
  if (!(model.padMask === 'prefill' && first > 0)) return { past: null, pastLength: 0, feed };
  // A resume: the uninterrupted run fed group 0's queries with the prefill (pads masked) and every replayed item
  // after them in later calls (pads visible), so the replay is two calls.
  const R = sequence.rows;
  const split = sequence.firstGroupColumns();
  const [head, rest] = [
    cutColumns(feed, R, model.hidden, 0, split),
    cutColumns(feed, R, model.hidden, split, feed.length),
  ];
  stop();
  const out = await graphs.lmStep({ ...head, rows: R, mask: sequence.mask(split, false), past: null });
  return { past: out.present, pastLength: split, feed: rest };
}

/** A group's LM call; returns the last k hidden states of every row, rows ordered (row, token). */
async function groupStep(
  graphs: Graphs,
  model: ModelTables,
  sequence: TokenSequence,
  lm: LmCursor,
  k: number,
): Promise<Float32Array> {
  const H = model.hidden;
  const R = sequence.rows;
  const { embeds, positions, length } = lm.feed;
  const total = lm.pastLength + length;
  const mask = sequence.mask(total, model.padMask === 'prefill' && lm.pastLength > 0);
  const out = await graphs.lmStep({ embeds, rows: R, length, mask, positions, past: lm.past });
  lm.past = out.present;
  lm.pastLength = total;
  const hq = new Float32Array(R * k * H);
  for (let r = 0; r < R; r++) {
    hq.set(out.hidden.subarray((r * length + length - k) * H, (r * length + length) * H), r * k * H);
  }
  return hq;
}

/** Commits group g: its latents z [B·k, dZ] into each image's cells, the cells marked known. */
function commit(
  sequence: TokenSequence,
  state: SampleState,
  z: Float32Array,
  g: number,
  k: number,
  dZ: number,
): Array<Int32Array> {
  const B = sequence.images;
  const cells = Array.from({ length: B }, (_, b) => sequence.groupCells(b, g));
  for (let b = 0; b < B; b++) {
    cells[b]!.forEach((cell, i) =>
      state.latents[b]!.set(z.subarray((b * k + i) * dZ, (b * k + i + 1) * dZ), cell * dZ),
    );
  }
  for (const cell of cells[0]!) state.known[cell] = 1;
  state.committedGroups = g + 1;
  return cells;
}

/** Latents [h·w, dZ] per image → the decoder's input [batch, dZ, h, w]. */
export function latentsToGrid(latents: ReadonlyArray<Float32Array>, dZ: number, cells: number): Float32Array {
  const out = new Float32Array(latents.length * dZ * cells);
  latents.forEach((lat, b) => {
    for (let cell = 0; cell < cells; cell++) {
      for (let c = 0; c < dZ; c++) out[(b * dZ + c) * cells + cell] = lat[cell * dZ + c]!;
    }
  });
  return out;
}

/** The decoder's input layout back to per-image [h·w, dZ] latents (the encoder's output). */
export function gridToLatents(grid: Float32Array, batch: number, dZ: number, cells: number): Array<Float32Array> {
  return Array.from({ length: batch }, (_, b) => {
    const lat = new Float32Array(cells * dZ);
    for (let cell = 0; cell < cells; cell++) {
      for (let c = 0; c < dZ; c++) lat[cell * dZ + c] = grid[(b * dZ + c) * cells + cell]!;
    }
    return lat;
  });
}
