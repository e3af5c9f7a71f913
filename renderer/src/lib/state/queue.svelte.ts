// The persistent queue as the Queue panel shows it: the running job, the waiting ones in order (with their place),
// and the ones that ended badly; kept fresh by `queue.changed` events, and the actions on each.
import type { GenerateRequest, QueueItem, StudioApi } from '../../../../electron/common/contract';
import { messageOf } from '../errors';

/** Where a queued job moves: before the job ahead of it, or before the one two behind it (the end when none). */
export function moveTarget(items: ReadonlyArray<QueueItem>, id: number, direction: -1 | 1): number | null | undefined {
  const waiting = items.filter((i) => i.position !== null).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const index = waiting.findIndex((i) => i.id === id);
  if (index < 0) return undefined;
  if (direction === -1) return index === 0 ? undefined : (waiting[index - 1]?.id ?? undefined);
  if (index === waiting.length - 1) return undefined;
  return waiting[index + 2]?.id ?? null;
}

export class QueueState {
  items = $state.raw<ReadonlyArray<QueueItem>>([]);
  error = $state<string | null>(null);
  readonly #api: StudioApi;
  #asked = 0;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  /** Follows the queue until the returned function is called. */
  watch(): () => void {
    void this.refresh();
    return this.#api.subscribe((event) => {
      if (event.type === 'queue.changed') void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    const ask = ++this.#asked;
    try {
      const { items } = await this.#api.call('queue.list', {});
      if (ask === this.#asked) this.items = items;
    } catch (error) {
      if (ask === this.#asked) this.error = messageOf(error);
    }
  }

  async #act(run: () => Promise<unknown>): Promise<void> {
    this.error = null;
    try {
      await run();
    } catch (error) {
      this.error = messageOf(error);
    }
    await this.refresh();
  }

  /** Adds a job at the end of the queue (it runs after the ones ahead of it, even while one is running). */
  enqueue(request: GenerateRequest): Promise<void> {
    return this.#act(() => this.#api.call('generation.generate', request));
  }

  cancel(id: number): Promise<void> {
    return this.#act(() => this.#api.call('queue.cancel', { id }));
  }

  retry(id: number): Promise<void> {
    return this.#act(() => this.#api.call('queue.retry', { id }));
  }

  move(id: number, direction: -1 | 1): Promise<void> {
    const before = moveTarget(this.items, id, direction);
    if (before === undefined) return Promise.resolve();
    return this.#act(() => this.#api.call('queue.move', { id, before }));
  }
}
