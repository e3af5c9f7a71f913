// Forks of library images: the request a fork becomes (the parent's settings with the changes, the parent's token
// order), the `extra.fork` record its PNG carries so it can be replayed without the library, and the timeline calls.
import type { GenerateRequest, ReplayParams } from '../common/contract';
import { ForkOriginSchema, type ForkOrigin, type ForkRequest, type Timeline } from '../common/api/timeline';
import type { InlinePng } from '../common/api/generation';
import { StudioError } from '../common/errors';
import type { ForkSpec } from '../engine/fork';
import { groupSizes } from '../engine/sampler';
import type { Library } from '../store/library';
import { decodeTimeline, latentsAfter } from './timeline';

/** A fork's origin from its replay parameters (`extra.fork`), or null for any other generation. */
export function forkOriginOf(params: ReplayParams | undefined): ForkOrigin | null {
  const parsed = ForkOriginSchema.safeParse(params?.extra?.fork);
  return parsed.success ? parsed.data : null;
}

/** What the engine needs of a fork's origin. */
export function forkSpecOf(origin: ForkOrigin): ForkSpec {
  const p = origin.parent;
  return {
    group: origin.group,
    parent: {
      prompt: p.prompt,
      seed: p.seed,
      orderSeed: p.orderSeed,
      sampling: {
        tokensPerStep: p.tokensPerStep,
        steps: p.steps,
        cfg: p.cfg,
        cfgSchedule: p.cfgSchedule,
        order: p.order,
      },
    },
  };
}

/**
 * The generate request and `extra` of a fork of `parent` (its replay parameters) at `request.group`, checked
 * against the parent's group count on a grid of `cells` tokens.
 */
export function forkRequest(
  parentId: number,
  parent: ReplayParams,
  request: ForkRequest,
  cells: number,
  seed: number,
): Readonly<{ generate: GenerateRequest; extra: Readonly<{ fork: ForkOrigin }> }> {
  if (parent.kind !== 'generate') {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `Generation ${parentId} is an ${parent.kind}; only generated images fork.`,
    );
  }
  if (forkOriginOf(parent)) {
    throw new StudioError('INVALID_PAYLOAD', `Generation ${parentId} is a fork itself; fork its parent instead.`);
  }
  const groups = groupSizes(cells, parent.tokensPerStep).length;
  if (request.group > groups) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `Generation ${parentId} has ${groups} groups; a fork keeps 0 to ${groups}.`,
    );
  }
  const fork: ForkOrigin = {
    parentId,
    group: request.group,
    parent: {
      prompt: parent.prompt,
      seed: parent.seed,
      orderSeed: parent.orderSeed,
      tokensPerStep: parent.tokensPerStep,
      steps: parent.steps,
      cfg: parent.cfg,
      cfgSchedule: parent.cfgSchedule,
      order: parent.order,
    },
  };
  return {
    generate: {
      prompt: request.prompt ?? parent.prompt,
      model: parent.modelId,
      seed,
      orderSeed: parent.orderSeed,
      order: parent.order,
      tokensPerStep: request.tokensPerStep ?? parent.tokensPerStep,
      steps: request.steps ?? parent.steps,
      cfg: request.cfg ?? parent.cfg,
      cfgSchedule: parent.cfgSchedule,
      count: 1,
      previews: request.previews ?? true,
    },
    extra: { fork },
  };
}

/** A library image's timeline as the contract shows it; null when it has none (made before timelines, or imported). */
export async function timelineInfo(
  library: Library,
  id: number,
  gridOf: () => Promise<readonly [number, number]>,
): Promise<Timeline | null> {
  const row = await library.timeline(id);
  if (!row) return null;
  const grid = await gridOf();
  const t = decodeTimeline(row.data);
  return {
    id,
    grid: [grid[0], grid[1]],
    order: Array.from(t.order),
    groups: [...t.groups],
    bytes: row.data.length,
    fork: row.forkGroup !== null ? { parentId: row.parentId, group: row.forkGroup } : null,
    forks: [...row.forks],
  };
}

/** Decoded frames, newest last; a frame is a small PNG, so a few hundred cost little. */
export class FrameCache {
  readonly #frames = new Map<string, InlinePng>();
  constructor(readonly limit = 256) {}

  async get(key: string, make: () => Promise<InlinePng>): Promise<InlinePng> {
    const hit = this.#frames.get(key);
    if (hit) {
      this.#frames.delete(key);
      this.#frames.set(key, hit);
      return hit;
    }
    const frame = await make();
    this.#frames.set(key, frame);
    while (this.#frames.size > this.limit) this.#frames.delete(this.#frames.keys().next().value as string);
    return frame;
  }
}

/** The latents after `group` groups of a stored timeline (the frame's decoder input). */
export async function frameLatents(library: Library, id: number, group: number): Promise<Float32Array> {
  const row = await library.timeline(id);
  if (!row) throw new StudioError('NOT_FOUND', `Generation ${id} has no timeline (made before timelines were kept).`);
  const t = decodeTimeline(row.data);
  if (group > t.groups.length) {
    throw new StudioError('INVALID_PAYLOAD', `Generation ${id} has ${t.groups.length} groups, not ${group}.`);
  }
  return latentsAfter(t, group);
}
