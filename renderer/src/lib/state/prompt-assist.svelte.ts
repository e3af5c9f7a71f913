// What the prompt box shows while typing: the prompt's length in the model's own tokens against its limit (asked of
// the host, debounced, the latest answer wins), and completions from the library's prompt history as a listbox
// the keyboard drives (arrows, Enter, Escape).
import type { StudioApi } from '../../../../electron/common/contract';
import type { TokenCount } from '../../../../electron/common/api/generation';

export const COUNT_DELAY_MS = 250;
export const SUGGEST_DELAY_MS = 150;
const SUGGESTIONS = 8;

/** "12 / 256 tokens". */
export function tokenText(count: Readonly<{ tokens: number; limit: number }>): string {
  return `${count.tokens} / ${count.limit} tokens`;
}

/** The warning over the limit, or null when the prompt fits. */
export function overLimitText(count: Readonly<{ tokens: number; limit: number }>): string | null {
  if (count.tokens <= count.limit) return null;
  return (
    `${count.tokens - count.limit} tokens over the model's limit of ${count.limit}: it reads only the start, ` +
    'so the prompt will be cut at a word. Shorten it to keep all of it.'
  );
}

type Timers = Readonly<{
  set: (run: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}>;

const REAL_TIMERS: Timers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class PromptAssist {
  /** The latest count (null before the first answer, or while no model can count). */
  count = $state.raw<TokenCount | null>(null);
  suggestions = $state.raw<ReadonlyArray<string>>([]);
  open = $state(false);
  /** The highlighted suggestion (-1: none, so Enter still types a new line). */
  active = $state(-1);
  over = $derived(this.count !== null && this.count.tokens > this.count.limit);

  readonly #api: StudioApi;
  readonly #timers: Timers;
  #countTimer: unknown = null;
  #suggestTimer: unknown = null;
  #countAsk = 0;
  #suggestAsk = 0;

  constructor(api: StudioApi, timers: Timers = REAL_TIMERS) {
    this.#api = api;
    this.#timers = timers;
  }

  /** Counts `prompt` for `model` ('' = the default model) a moment after the last change. */
  recount(prompt: string, model: string): void {
    if (this.#countTimer !== null) this.#timers.clear(this.#countTimer);
    const ask = ++this.#countAsk;
    this.#countTimer = this.#timers.set(() => {
      this.#countTimer = null;
      const request = model ? { prompt, model } : { prompt };
      this.#api.call('generation.countTokens', request).then(
        (count) => {
          if (ask === this.#countAsk) this.count = count;
        },
        // No model (the Models notice says so) or a damaged one: no counter rather than a second error.
        () => {
          if (ask === this.#countAsk) this.count = null;
        },
      );
    }, COUNT_DELAY_MS);
  }

  /** Looks up completions for what is typed (a moment after the last key) and opens the list if any fit. */
  suggest(text: string): void {
    if (this.#suggestTimer !== null) this.#timers.clear(this.#suggestTimer);
    const ask = ++this.#suggestAsk;
    const typed = text.trim();
    this.#suggestTimer = this.#timers.set(() => {
      this.#suggestTimer = null;
      this.#api.call('library.prompts', { text: typed.slice(0, 1024), limit: SUGGESTIONS + 1 }).then(
        ({ prompts }) => {
          if (ask !== this.#suggestAsk) return;
          const list = prompts.map((p) => p.text).filter((p) => p !== typed);
          this.suggestions = list.slice(0, SUGGESTIONS);
          this.active = -1;
          this.open = this.suggestions.length > 0;
        },
        () => {
          if (ask === this.#suggestAsk) this.close();
        },
      );
    }, SUGGEST_DELAY_MS);
  }

  /** Arrow keys: moves the highlight, wrapping; from none, down goes to the first and up to the last. */
  move(delta: 1 | -1): void {
    const n = this.suggestions.length;
    if (n === 0) return;
    this.open = true;
    this.active = this.active < 0 ? (delta > 0 ? 0 : n - 1) : (this.active + delta + n) % n;
  }

  /** The highlighted suggestion (or the one at `index`), closing the list; null when there is none. */
  choose(index = this.active): string | null {
    const text = this.open ? (this.suggestions[index] ?? null) : null;
    if (text !== null) this.close();
    return text;
  }

  close(): void {
    // A lookup still on its way must not open the list again.
    this.#suggestAsk++;
    if (this.#suggestTimer !== null) this.#timers.clear(this.#suggestTimer);
    this.#suggestTimer = null;
    this.open = false;
    this.active = -1;
  }

  dispose(): void {
    this.close();
    if (this.#countTimer !== null) this.#timers.clear(this.#countTimer);
    this.#countAsk++;
  }
}
