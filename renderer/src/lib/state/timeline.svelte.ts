// A library image's timeline in the renderer: its groups and order, the frame after the group the scrubber is on
// (decoded by the host on demand; the latest request wins), and forks from that group.
import type { GenerationProgress, StudioApi } from '../../../../electron/common/contract';
import type { GenerationRecord } from '../../../../electron/common/api/library';
import type { ForkRequest, Timeline } from '../../../../electron/common/api/timeline';
import { messageOf } from '../errors';

export type ForkSettings = { prompt: string; seed: string; tokensPerStep: string; cfg: string };

/** What the Gallery says of a fork: "forked from #13 at group 5 of 16". */
export function lineageText(record: GenerationRecord, timeline: Timeline | null): string | null {
  const fork = timeline?.fork;
  if (!fork) return null;
  const parent = (record.params.extra?.fork as { parent?: { tokensPerStep?: number } } | undefined)?.parent;
  const cells = timeline.order.length;
  const k = parent?.tokensPerStep ?? record.params.tokensPerStep;
  const of = Math.max(1, Math.floor(cells / Math.max(1, k)));
  const from = fork.parentId === null ? 'a deleted image' : `#${fork.parentId}`;
  return `forked from ${from} at group ${fork.group} of ${of}`;
}

/** Per cell, after `group` groups: 1 when committed (`done`), 1 when the last of those groups added it (`latest`). */
export function cellsAt(timeline: Timeline, group: number): Readonly<{ done: Uint8Array; latest: Uint8Array }> {
  const ends = timeline.groups.reduce<Array<number>>((acc, g) => [...acc, (acc.at(-1) ?? 0) + g], []);
  const end = group > 0 ? (ends[group - 1] ?? 0) : 0;
  const start = group > 1 ? (ends[group - 2] ?? 0) : 0;
  const cells = timeline.grid[0] * timeline.grid[1];
  const [done, latest] = [new Uint8Array(cells), new Uint8Array(cells)];
  timeline.order.forEach((cell, i) => {
    if (i < end) done[cell] = 1;
    if (i >= start && i < end) latest[cell] = 1;
  });
  return { done, latest };
}

export class TimelineState {
  timeline = $state.raw<Timeline | null>(null);
  /** The group the scrubber is on (the last one: the finished image). */
  group = $state(0);
  frame = $state<string | null>(null);
  error = $state<string | null>(null);
  missing = $state(false);
  forkStatus = $state<string | null>(null);
  forkBusy = $state(false);
  #id: number | null = null;
  #frameAsk = 0;
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async load(id: number): Promise<void> {
    if (id === this.#id) return;
    this.#id = id;
    this.timeline = null;
    this.frame = null;
    this.error = null;
    this.missing = false;
    this.forkStatus = null;
    try {
      const timeline = await this.#api.call('timeline.get', { id });
      if (this.#id !== id) return;
      this.timeline = timeline;
      this.missing = timeline === null;
      this.group = timeline?.groups.length ?? 0;
    } catch (error) {
      if (this.#id === id) this.error = messageOf(error);
    }
  }

  /** Moves the scrubber; the frame follows (the finished image itself needs no decode). */
  async scrub(group: number): Promise<void> {
    const id = this.#id;
    const timeline = this.timeline;
    if (id === null || !timeline) return;
    this.group = group;
    const ask = ++this.#frameAsk;
    if (group >= timeline.groups.length) {
      this.frame = null;
      return;
    }
    try {
      const frame = await this.#api.call('timeline.frame', { id, group });
      if (ask === this.#frameAsk) this.frame = `data:image/png;base64,${frame.png}`;
    } catch (error) {
      if (ask === this.#frameAsk) this.error = messageOf(error);
    }
  }

  /** Queues a fork from the current group and reports its end. */
  async fork(settings: ForkSettings): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    const request: ForkRequest = { from: id, group: this.group };
    if (settings.prompt.trim()) request.prompt = settings.prompt;
    for (const [key, raw] of [
      ['seed', settings.seed],
      ['tokensPerStep', settings.tokensPerStep],
      ['cfg', settings.cfg],
    ] as const) {
      if (raw.trim() === '') continue;
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        this.forkStatus = `${key} must be a number.`;
        return;
      }
      request[key] = value;
    }
    this.forkBusy = true;
    this.forkStatus = 'Forking…';
    let jobId: string | null = null;
    const stop = this.#api.subscribe((event) => {
      if (event.type !== 'generation.progress' || event.data.jobId !== jobId) return;
      this.#forkProgress(event.data, () => stop());
    });
    try {
      const accepted = await this.#api.call('timeline.fork', request);
      jobId = accepted.jobId;
      this.forkStatus = accepted.position > 0 ? `Fork queued (position ${accepted.position}).` : 'Forking…';
    } catch (error) {
      stop();
      this.forkBusy = false;
      this.forkStatus = messageOf(error);
    }
  }

  #forkProgress(p: GenerationProgress, stop: () => void): void {
    if (p.status === 'group') this.forkStatus = `Forking… group ${p.group} of ${p.groups}`;
    if (p.status !== 'done' && p.status !== 'error' && p.status !== 'cancelled') return;
    stop();
    this.forkBusy = false;
    if (p.status === 'done') {
      const id = p.images[0]?.id;
      this.forkStatus = id ? `Fork saved as #${id}.` : 'Fork done.';
      if (id && this.timeline) {
        this.timeline = { ...this.timeline, forks: [...this.timeline.forks, { id, group: this.group }] };
      }
    } else this.forkStatus = p.status === 'error' ? p.error.message : 'Fork cancelled.';
  }
}
