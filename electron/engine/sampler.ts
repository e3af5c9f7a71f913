// The VGT sampling procedure of native-models/BUNDLE.md ("Sampling procedure"), on five graph functions.
// Rows are [cond_0 … cond_{B-1}, uncond_0 … uncond_{B-1}] (uncond only when cfg > 1); every image has its own seed and
// token order, so an image does not depend on what it is batched with. Arithmetic on latents is float32 (Math.fround
// after each operation, in the reference's order) so the engine tracks PyTorch to float rounding.
//
// The token sequence after `[text | <img>]` is a list of items: `q` (the position query of a cell) and `z` (a sampled
// or known latent of a cell, through latent_in). Teacher-forced cells (an edit's kept tokens) come first as `q, z`
// pairs; then group g feeds its queries, and after sampling, its latents (k = 1: `z`; k > 1: `q, z` pairs, so the
// probe queries stay in the cache as in the reference). A resume replays committed groups in one prefill.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import type { CfgSchedule, ResolvedSampling } from '../common/api/generation';
import { StudioError } from '../common/errors';
import type { Grid } from './bundle';
import { groupNoise, type Rng } from './rng';

const f = Math.fround;

/** The reference's final ODE step (`last_step_size`). */
export const LAST_STEP = 0.04;

/** Opaque KV cache of the LM graph (tensors of whatever runtime runs it). */
export type KvCache = ReadonlyArray<unknown>;

export type LmStepInput = Readonly<{
  /** [rows, length, hidden] */
  embeds: Float32Array;
  rows: number;
  length: number;
  /** [rows, past + length]: 1 = real token. */
  mask: BigInt64Array;
  /** [rows, length] */
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
 * a position says nothing about the cell) or `grid` (an item of cell c sits at (real tokens before the image) + c,
 * query and latent alike, whatever the order). BUNDLE.md "Image positions".
 */
export type ImagePositions = 'sequence' | 'grid';

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

/** torch.linspace(0, 1 − LAST_STEP, steps) in float32, with torch's symmetric halves. */
export function sdeTimesteps(steps: number): Float32Array {
  const out = new Float32Array(steps);
  const end = f(1 - LAST_STEP);
  if (steps === 1) return out;
  const step = f(end / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(step * i) : f(end - f(step * (steps - i - 1)));
  return out;
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
  /** Cells whose latents are known before sampling (an edit's kept tokens), teacher-forced in this order. */
  fixed: ReadonlyArray<number>;
  /** Per image: the cells to generate, in generation order. All have the same length. */
  orders: ReadonlyArray<Int32Array>;
}>;

/** The resumable part of a job: committed groups and every known latent. */
export type SampleState = {
  committedGroups: number;
  /** Per image: [h·w, dZ] latents, zero where unknown. */
  latents: Array<Float32Array>;
  /** Per cell: 1 when its latent is known (fixed or committed). */
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

type Item = Readonly<{ kind: 'q' | 'z'; cell: number }>;

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
  const { hidden: H, dZ } = model;
  const { sampling } = plan;
  const B = plan.orders.length;
  const useCfg = sampling.cfg > 1;
  const R = useCfg ? 2 * B : B;
  const image = (row: number): number => row % B;
  const sizes = groupSizes(plan.orders[0]?.length ?? 0, sampling.tokensPerStep);
  const G = sizes.length;
  const starts = sizes.map((_, g) => sizes.slice(0, g).reduce((a, b) => a + b, 0));
  const groupCells = (b: number, g: number): Int32Array => plan.orders[b]!.subarray(starts[g]!, starts[g]! + sizes[g]!);
  const refeed = sampling.tokensPerStep > 1;
  const ts = sdeTimesteps(sampling.steps);
  const stop = (): void => {
    if (hooks.shouldStop?.()) throw new StudioError('CANCELLED');
  };
  if (state.committedGroups >= G) return;
  // The coefficients of each Euler–Maruyama step (1 + t, dt, sqrt(2(1 − t))·sqrt(dt)), float32 in the reference's order.
  const coef = new Float32Array(3 * (sampling.steps - 1));
  for (let i = 0; i < sampling.steps - 1; i++) {
    const ti = ts[i]!;
    const dt = f(ts[i + 1]! - ti);
    coef.set([f(1 + ti), dt, f(f(Math.sqrt(f(2 * f(1 - ti)))) * f(Math.sqrt(dt)))], 3 * i);
  }

  // Text rows, right-padded; positions are cumsum(mask) − 1 per row, whether later calls see the pads or not.
  const rowsIds = Array.from({ length: R }, (_, r) => (r < B ? plan.cond : plan.uncond));
  const T = Math.max(...rowsIds.map((ids) => ids.length));
  const textMask = rowsIds.map((ids) => Array.from({ length: T }, (_, i) => (i < ids.length ? 1 : 0)));
  const maskOf = (total: number, padsVisible: boolean): BigInt64Array => {
    const mask = new BigInt64Array(R * total);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < total; i++) mask[r * total + i] = i < T && !padsVisible ? BigInt(textMask[r]![i]!) : 1n;
    }
    return mask;
  };

  const afterGroup = (b: number, g: number): Array<Item> =>
    Array.from(groupCells(b, g)).flatMap((cell): Array<Item> =>
      refeed
        ? [
            { kind: 'q', cell },
            { kind: 'z', cell },
          ]
        : [{ kind: 'z', cell }],
    );
  const queriesOf = (b: number, g: number): Array<Item> =>
    Array.from(groupCells(b, g), (cell): Item => ({ kind: 'q', cell }));

  // Embeds of item lists, one list per image (same length for all); latent_in runs once for all `z` items.
  const embedItems = async (lists: ReadonlyArray<ReadonlyArray<Item>>): Promise<Array<Float32Array>> => {
    const zs: Array<[number, number]> = [];
    lists.forEach((items, b) => items.forEach((item, i) => item.kind === 'z' && zs.push([b, i])));
    const zin = new Map<string, Float32Array>();
    if (zs.length > 0) {
      const z = new Float32Array(zs.length * dZ);
      const pos = new Float32Array(zs.length * H);
      zs.forEach(([b, i], n) => {
        const cell = lists[b]![i]!.cell;
        z.set(state.latents[b]!.subarray(cell * dZ, (cell + 1) * dZ), n * dZ);
        pos.set(model.pos.subarray(cell * H, (cell + 1) * H), n * H);
      });
      const out = await graphs.latentIn(z, pos, zs.length);
      zs.forEach(([b, i], n) => zin.set(`${b}:${i}`, out.subarray(n * H, (n + 1) * H)));
    }
    return lists.map((items, b) => {
      const out = new Float32Array(items.length * H);
      items.forEach((item, i) => {
        const row =
          item.kind === 'q' ? model.queries.subarray(item.cell * H, (item.cell + 1) * H) : zin.get(`${b}:${i}`)!;
        out.set(row, i * H);
      });
      return out;
    });
  };

  // Prefill: text, <img>, teacher-forced pairs, replayed groups (resume), then the queries of the next group.
  const first = state.committedGroups;
  const prefillItems = Array.from({ length: B }, (_, b) => [
    ...plan.fixed.flatMap((cell): Array<Item> => [
      { kind: 'q', cell },
      { kind: 'z', cell },
    ]),
    ...Array.from({ length: first }, (_, g) => [...queriesOf(b, g), ...afterGroup(b, g)]).flat(),
    ...queriesOf(b, first),
  ]);
  const itemEmbeds = await embedItems(prefillItems);
  const img = model.imgTokenIds;
  const S0 = T + img.length + prefillItems[0]!.length;
  let embeds = new Float32Array(R * S0 * H);
  for (let r = 0; r < R; r++) {
    const base = r * S0 * H;
    const ids = [...rowsIds[r]!, ...Array<number>(T - rowsIds[r]!.length).fill(model.padTokenId), ...img];
    ids.forEach((id, i) => embeds.set(model.embedTokens.subarray(id * H, (id + 1) * H), base + i * H));
    embeds.set(itemEmbeds[image(r)]!, base + (T + img.length) * H);
  }
  let length = S0;
  let past: KvCache | null = null;
  let pastLength = 0;
  const lastPos = new Array<number>(R).fill(-1);
  let positions = new BigInt64Array(R * S0);
  // Real tokens before the image part, per row: where `grid` positions start.
  const imageBase = textMask.map((m) => m.reduce<number>((a, b) => a + b, 0) + img.length);
  const itemPosition = (r: number, item: Item): bigint => BigInt(imageBase[r]! + item.cell);
  const grid = model.imagePositions === 'grid';
  for (let r = 0; r < R; r++) {
    let count = 0;
    for (let i = 0; i < S0; i++) {
      if (i >= T || textMask[r]![i] === 1) count++;
      const j = i - T - img.length;
      positions[r * S0 + i] =
        grid && j >= 0 ? itemPosition(r, prefillItems[image(r)]![j]!) : BigInt(Math.max(0, count - 1));
    }
    lastPos[r] = count - 1;
  }
  if (model.padMask === 'prefill' && first > 0) {
    // A resume: the uninterrupted run fed group 0's queries with the prefill (pads masked) and every replayed item
    // after them in later calls (pads visible), so the replay is two calls.
    const split = T + img.length + 2 * plan.fixed.length + sizes[0]!;
    const [head, rest] = [
      cutColumns(embeds, positions, R, S0, H, 0, split),
      cutColumns(embeds, positions, R, S0, H, split, S0),
    ];
    stop();
    const out = await graphs.lmStep({ ...head, rows: R, mask: maskOf(split, false), past: null });
    [past, pastLength] = [out.present, split];
    ({ embeds, positions, length } = rest);
  }

  for (let g = first; g < G; g++) {
    stop();
    const total = pastLength + length;
    const mask = maskOf(total, model.padMask === 'prefill' && pastLength > 0);
    const out = await graphs.lmStep({ embeds, rows: R, length, mask, positions, past });
    past = out.present;
    pastLength = total;

    // Head: the last k hidden states of every row, rows ordered (row, token).
    const k = sizes[g]!;
    const hq = new Float32Array(R * k * H);
    for (let r = 0; r < R; r++) {
      hq.set(out.hidden.subarray((r * length + length - k) * H, (r * length + length) * H), r * k * H);
    }
    const fused = useCfg && graphs.headSde && graphs.sdeSteps === sampling.steps ? graphs.headSde : null;
    let cond = fused ? new Float32Array(0) : await graphs.headCond(hq, R * k);
    const cfg = f(useCfg ? cfgForGroup(sampling.cfg, sampling.cfgSchedule, g, G) : 1);
    const n = B * k * dZ;
    let x: Float32Array = new Float32Array(n);
    for (let b = 0; b < B; b++) x.set(noise.initial(b, g, k * dZ), b * k * dZ);
    const velocities: Array<Float32Array> = [];
    const epsAt = (i: number): Float32Array => {
      const eps = new Float32Array(n);
      for (let b = 0; b < B; b++) eps.set(noise.sde(b, g, i, k * dZ), b * k * dZ);
      return eps;
    };
    if (fused) {
      // One graph run for head_cond and the whole loop: the same operations in the same order as the loop below.
      const eps = new Float32Array((sampling.steps - 1) * n);
      for (let i = 0; i < sampling.steps - 1; i++) eps.set(epsAt(i), i * n);
      const out = await fused({ hidden: hq, x, eps, coef, ts, cfg, n: B * k });
      x = out.x;
      cond = out.cond;
      for (let i = 0; i < sampling.steps; i++) velocities.push(out.v.subarray(i * n, (i + 1) * n));
    } else {
      const t = new Float32Array(R * k);
      const velocity = async (ti: number): Promise<Float32Array> => {
        t.fill(ti);
        const xx = useCfg ? new Float32Array(2 * n) : x;
        if (useCfg) {
          xx.set(x);
          xx.set(x, n);
        }
        const raw = await graphs.headVelocity(xx, t, cond, R * k);
        let v = raw;
        if (useCfg) {
          v = new Float32Array(n);
          for (let i = 0; i < n; i++) v[i] = f(raw[n + i]! + f(cfg * f(raw[i]! - raw[n + i]!)));
        }
        velocities.push(v);
        return v;
      };
      for (let i = 0; i < sampling.steps - 1; i++) {
        const v = await velocity(ts[i]!);
        const eps = epsAt(i);
        const [onePlusT, dt, scale] = [coef[3 * i]!, coef[3 * i + 1]!, coef[3 * i + 2]!];
        const next = new Float32Array(n);
        for (let j = 0; j < n; j++) {
          next[j] = f(f(x[j]! + f(f(f(onePlusT * v[j]!) - x[j]!) * dt)) + f(scale * eps[j]!));
        }
        x = next;
      }
      const v = await velocity(ts[sampling.steps - 1]!);
      const last = f(LAST_STEP);
      for (let j = 0; j < n; j++) x[j] = f(x[j]! + f(last * v[j]!));
    }
    const z = latentLayerNorm(x, dZ, model.latentLnEps);

    const cells = Array.from({ length: B }, (_, b) => groupCells(b, g));
    for (let b = 0; b < B; b++) {
      cells[b]!.forEach((cell, i) =>
        state.latents[b]!.set(z.subarray((b * k + i) * dZ, (b * k + i + 1) * dZ), cell * dZ),
      );
    }
    for (const cell of cells[0]!) state.known[cell] = 1;
    state.committedGroups = g + 1;
    hooks.trace?.({ group: g, hidden: hq, cond, velocities, z });
    await hooks.onGroup?.({ group: g, groups: G, cells }, state);
    if (g + 1 >= G) break;
    stop();

    // Next step: the latents of this group (with their probe queries when k > 1), then the next queries.
    const items = Array.from({ length: B }, (_, b) => [...afterGroup(b, g), ...queriesOf(b, g + 1)]);
    const fed = await embedItems(items);
    length = items[0]!.length;
    embeds = new Float32Array(R * length * H);
    positions = new BigInt64Array(R * length);
    for (let r = 0; r < R; r++) {
      embeds.set(fed[image(r)]!, r * length * H);
      for (let i = 0; i < length; i++) {
        positions[r * length + i] = grid ? itemPosition(r, items[image(r)]![i]!) : BigInt(lastPos[r]! + 1 + i);
      }
      lastPos[r]! += length;
    }
  }
}

/** Columns [from, to) of the row-major embeds [rows, length, width] and positions [rows, length]. */
function cutColumns(
  embeds: Float32Array,
  positions: BigInt64Array,
  rows: number,
  length: number,
  width: number,
  from: number,
  to: number,
): { embeds: Float32Array<ArrayBuffer>; positions: BigInt64Array<ArrayBuffer>; length: number } {
  const n = to - from;
  const out = { embeds: new Float32Array(rows * n * width), positions: new BigInt64Array(rows * n), length: n };
  for (let r = 0; r < rows; r++) {
    out.embeds.set(embeds.subarray((r * length + from) * width, (r * length + to) * width), r * n * width);
    out.positions.set(positions.subarray(r * length + from, r * length + to), r * n);
  }
  return out;
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
