// Progress of one generation: phase, group i/G, elapsed time and an ETA from the pace of recent groups.
// Time is passed in (milliseconds), so the model is deterministic and a view ticks it with its own clock.

export type Phase = 'idle' | 'queued' | 'prefill' | 'group' | 'decode' | 'done' | 'error' | 'cancelled';

/** How many recent group durations the ETA averages: enough to smooth jitter, few enough to follow a change of pace. */
const PACE_WINDOW = 8;

export class ProgressState {
  phase = $state<Phase>('idle');
  group = $state(0);
  totalGroups = $state(0);
  startedAt = $state(0);
  now = $state(0);
  /** Recent group durations (ms) of this run; a resumed run starts a new pace. */
  #durations: Array<number> = [];
  #lastGroupAt = 0;
  #pace = $state<number | null>(null);

  running = $derived(
    this.phase === 'queued' || this.phase === 'prefill' || this.phase === 'group' || this.phase === 'decode',
  );
  elapsedMs = $derived(this.startedAt > 0 ? Math.max(0, this.now - this.startedAt) : 0);
  fraction = $derived(
    this.phase === 'done' ? 1 : this.totalGroups > 0 ? Math.min(1, this.group / this.totalGroups) : 0,
  );
  /** Milliseconds left, or null while there is no pace to go by. */
  etaMs = $derived(
    this.running && this.#pace !== null && this.totalGroups > 0
      ? Math.max(0, (this.totalGroups - this.group) * this.#pace - (this.now - this.#lastGroupAt))
      : null,
  );

  /** A new run (or a resumed one, starting from `fromGroup` of `totalGroups`). */
  start(now: number, totalGroups = 0, fromGroup = 0): void {
    this.phase = 'queued';
    this.startedAt = now;
    this.now = now;
    this.totalGroups = totalGroups;
    this.group = fromGroup;
    this.#durations = [];
    this.#lastGroupAt = now;
    this.#pace = null;
  }

  /** A phase change; for 'group', `group` is how many groups are committed now (1-based) out of `totalGroups`. */
  update(phase: Phase, now: number, group?: number, totalGroups?: number): void {
    if (this.phase === 'idle') this.start(now);
    if (totalGroups !== undefined && totalGroups > 0) this.totalGroups = totalGroups;
    if (phase === 'group' && group !== undefined) {
      if (group > this.group && this.phase === 'group') {
        // Groups that arrive together share the interval, so a batched burst does not read as infinitely fast.
        const each = (now - this.#lastGroupAt) / (group - this.group);
        for (let i = this.group; i < group; i++) this.#durations.push(each);
        this.#durations = this.#durations.slice(-PACE_WINDOW);
        this.#pace = this.#durations.reduce((a, b) => a + b, 0) / this.#durations.length;
      }
      this.group = Math.max(this.group, group);
      this.#lastGroupAt = now;
    } else if (phase === 'prefill' || phase === 'queued') {
      this.#lastGroupAt = now;
    }
    this.phase = phase;
    this.now = now;
  }

  tick(now: number): void {
    this.now = now;
  }
}
