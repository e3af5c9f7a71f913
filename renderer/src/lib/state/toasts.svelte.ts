// Short messages at the bottom of the window ("Moved 1 image to the trash. Undo"): each dismisses itself after a
// while (longer when it offers an action), has a close button, and the newest few stay on screen.

export type ToastAction = Readonly<{ label: string; run: () => void | Promise<void> }>;

export type Toast = Readonly<{
  id: number;
  message: string;
  tone: 'info' | 'error';
  action: ToastAction | null;
  /** Technical text behind a "Details" disclosure (errors). */
  details: string | null;
}>;

export type ToastInput = Readonly<{
  message: string;
  tone?: 'info' | 'error';
  action?: ToastAction;
  details?: string | null;
  /** 0: stays until closed. */
  timeoutMs?: number;
}>;

/** Long enough to read a sentence; an action (Undo) gets more time to be reached. */
export const TOAST_MS = 5000;
export const TOAST_ACTION_MS = 10000;
const MAX_SHOWN = 3;

export type Timers = Readonly<{
  set: (run: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}>;

const realTimers: Timers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class ToastState {
  items = $state.raw<ReadonlyArray<Toast>>([]);
  #next = 1;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- timer handles, never shown
  #timers = new Map<number, unknown>();
  readonly #clock: Timers;

  constructor(timers: Timers = realTimers) {
    this.#clock = timers;
  }

  show(input: ToastInput): number {
    const id = this.#next++;
    const toast: Toast = {
      id,
      message: input.message,
      tone: input.tone ?? 'info',
      action: input.action ?? null,
      details: input.details ?? null,
    };
    const shown = [...this.items, toast];
    for (const old of shown.slice(0, Math.max(0, shown.length - MAX_SHOWN))) this.#forget(old.id);
    this.items = shown.slice(-MAX_SHOWN);
    const ms = input.timeoutMs ?? (input.action ? TOAST_ACTION_MS : TOAST_MS);
    if (ms > 0)
      this.#timers.set(
        id,
        this.#clock.set(() => this.dismiss(id), ms),
      );
    return id;
  }

  dismiss(id: number): void {
    this.#forget(id);
    this.items = this.items.filter((t) => t.id !== id);
  }

  /** Runs a toast's action once, then closes it. */
  async act(id: number): Promise<void> {
    const toast = this.items.find((t) => t.id === id);
    this.dismiss(id);
    await toast?.action?.run();
  }

  #forget(id: number): void {
    const handle = this.#timers.get(id);
    if (handle !== undefined) this.#clock.clear(handle);
    this.#timers.delete(id);
  }
}
