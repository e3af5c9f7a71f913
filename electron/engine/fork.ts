// Forks and timelines: what a finished image keeps of its generation (its order, its group sizes and every
// committed latent) and how a job continues another job's first g groups.
//
// A fork that keeps the parent's prompt and sampling settings runs the parent's job from the start and only
// switches the noise seed at group g, so its first g groups are the parent's computation, bit for bit, and with
// the parent's own seed it is the parent. Any other change (prompt, CFG, steps, tokens per step) replays the
// parent up to group g (exact float32 latents, not the stored half floats) and continues from there in a new
// prefill, the way a resume does.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: indices are in range by construction */
import type { ResolvedSampling, Sampling } from '../common/api/generation';
import { StudioError } from '../common/errors';
import { groupSizes, seededNoise, type NoiseSource, type SamplePlan, type SampleState } from './sampler';

/** The parent a fork continues: everything that made its first groups. */
export type ForkParent = Readonly<{
  prompt: string;
  sampling: Sampling;
  seed: number;
  orderSeed: number;
}>;

/** Keep the parent's groups 1..group (0 keeps none, the parent's group count keeps all). */
export type ForkSpec = Readonly<{ parent: ForkParent; group: number }>;

/** One image's generation as it happened: cells in commit order, group sizes over them, and the final latents. */
export type TimelineData = Readonly<{
  /** Every cell once, in the order it became known (kept cells first). */
  order: Int32Array;
  /** Sizes of consecutive runs of `order` committed together; they sum to order.length. */
  groups: ReadonlyArray<number>;
  /** [cells, dZ] float32: every cell's latent. */
  latents: Float32Array;
  dZ: number;
}>;

/** Noise that follows `before` (the parent's seeds) for groups < `group` and `after` from there. */
export function switchedNoise(before: ReadonlyArray<number>, after: ReadonlyArray<number>, group: number): NoiseSource {
  const a = seededNoise(before);
  const b = seededNoise(after);
  let current = a;
  return {
    initial: (image, g, n) => (current = g < group ? a : b).initial(image, g, n),
    sde: (image, g, step, n) => current.sde(image, g, step, n),
  };
}

export function samePlanText(a: SamplePlan, b: SamplePlan): boolean {
  const same = (x: ReadonlyArray<number>, y: ReadonlyArray<number>): boolean =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.cond, b.cond) && same(a.uncond, b.uncond);
}

export function sameSampling(a: ResolvedSampling, b: ResolvedSampling): boolean {
  return (
    a.tokensPerStep === b.tokensPerStep &&
    a.steps === b.steps &&
    a.cfg === b.cfg &&
    a.cfgSchedule === b.cfgSchedule &&
    a.order === b.order
  );
}

/** The parent's group count for its plan, and a check that `group` is inside it. */
export function checkForkGroup(plan: SamplePlan, group: number): number {
  const groups = groupSizes(plan.orders[0]?.length ?? 0, plan.sampling.tokensPerStep).length;
  if (!Number.isInteger(group) || group < 0 || group > groups) {
    throw new StudioError('INVALID_PAYLOAD', `A fork keeps 0 to ${groups} groups of its parent, not ${group}.`);
  }
  return groups;
}

/**
 * The fork's plan and state once the parent was replayed to `group`: the same groups when tokens per step is
 * unchanged (the sampler resumes at `group`), otherwise the parent's committed cells become kept (and teacher-forced)
 * cells and the rest of the parent's order is grouped by the new tokens per step.
 */
export function continuePlan(
  parentPlan: SamplePlan,
  parentState: SampleState,
  forkPlan: SamplePlan,
  group: number,
): Readonly<{ plan: SamplePlan; state: SampleState; prefixGroups: ReadonlyArray<number> }> {
  const order = parentPlan.orders[0]!;
  const sizes = groupSizes(order.length, parentPlan.sampling.tokensPerStep);
  if (forkPlan.sampling.tokensPerStep === parentPlan.sampling.tokensPerStep) {
    return { plan: { ...forkPlan, orders: parentPlan.orders }, state: parentState, prefixGroups: [] };
  }
  const keep = sizes.slice(0, group).reduce((a, b) => a + b, 0);
  const prefix = Array.from(order.subarray(0, keep));
  const kept = [...parentPlan.kept, ...prefix];
  const rest = order.slice(keep);
  if (rest.length > 0 && forkPlan.sampling.tokensPerStep > rest.length) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `tokensPerStep ${forkPlan.sampling.tokensPerStep} is larger than the ${rest.length} tokens left after group ${group}.`,
    );
  }
  const known = new Uint8Array(parentState.known.length);
  for (const cell of kept) known[cell] = 1;
  return {
    // The parent's groups were in its sequence, so the fork's LM sees them too.
    plan: { ...forkPlan, kept, fed: [...parentPlan.fed, ...prefix], orders: [rest] },
    state: { committedGroups: 0, latents: parentState.latents, known },
    prefixGroups: sizes.slice(0, group),
  };
}

/** The timeline of image b of a finished plan. */
export function timelineOf(
  plan: SamplePlan,
  latents: Float32Array,
  b: number,
  dZ: number,
  prefixGroups: ReadonlyArray<number> = [],
): TimelineData {
  const order = plan.orders[b] ?? new Int32Array(0);
  const prefix = prefixGroups.reduce((a, c) => a + c, 0);
  const keptGroups = [...prefixGroups, ...(plan.kept.length > prefix ? [plan.kept.length - prefix] : [])];
  return {
    order: Int32Array.from([...plan.kept, ...order]),
    groups: [...keptGroups, ...groupSizes(order.length, plan.sampling.tokensPerStep)],
    latents: latents.slice(),
    dZ,
  };
}
