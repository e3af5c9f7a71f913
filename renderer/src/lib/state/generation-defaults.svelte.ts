// Generation defaults: what the Generate view starts from, kept in the host's settings (`settings.get` /
// `settings.set`) so the app, web mode and the CLI share them. The measured time per image for each tokens-per-step
// value stays on this device: it is a measurement of this machine, not a setting.
import type { StudioApi } from '../../../../electron/common/contract';
import { GenerationDefaultsSchema, type GenerationDefaults } from '../../../../electron/common/api/settings';
import { z } from 'zod';
import { messageOf } from '../errors';

// The key predates the rename; keeping it keeps everyone's timings (and the defaults still to be moved to the host).
const STORAGE_KEY = 'vgt.settings';

export const TOKENS_PER_STEP = [1, 2, 4, 8, 16] as const;

/** The host's schema, but dropping fields it does not know (the Generate form saves its whole request). */
export const DefaultsSchema = z.object(GenerationDefaultsSchema.shape);
export type Defaults = GenerationDefaults;

const FALLBACK: Defaults = { count: 1 };

const StoredSchema = z.object({
  /** Defaults saved here before they moved to the host: sent to it once, then dropped. */
  defaults: DefaultsSchema.optional().catch(undefined),
  /** Model id → tokens per step → the last measured milliseconds per image. */
  timings: z.record(z.string(), z.record(z.string(), z.number().positive())).catch({}),
});

export type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

export class GenerationDefaultsState {
  defaults = $state<Defaults>(FALLBACK);
  timings = $state<Record<string, Record<string, number>>>({});
  /** Why the defaults could not be read from or saved to the host, until the next success. */
  error = $state<string | null>(null);
  #storage: Storage | null;
  #api: Pick<StudioApi, 'call'> | null;
  /** Defaults still only on this device (from before they moved to the host). */
  #local: Defaults | null = null;
  /** Bumped by every change here, so an answer that comes back late does not undo a newer change. */
  #version = 0;
  // Plain callbacks, not state: nothing renders from them.
  #listeners: ReadonlyArray<(defaults: Defaults) => void> = [];

  constructor(storage: Storage | null, api: Pick<StudioApi, 'call'> | null = null) {
    this.#storage = storage;
    this.#api = api;
    const saved = StoredSchema.safeParse(parseJson(storage?.getItem(STORAGE_KEY) ?? null));
    if (saved.success) {
      this.timings = saved.data.timings;
      // Shown until the host answers, so the form does not flash the model's defaults first.
      if (saved.data.defaults) this.defaults = this.#local = saved.data.defaults;
    }
  }

  /**
   * Reads the defaults from the host. Once: a host without defaults gets the ones this device saved before they
   * moved there, and this device then forgets them.
   */
  async load(): Promise<void> {
    if (!this.#api) return;
    const version = this.#version;
    try {
      const settings = await this.#api.call('settings.get', {});
      if (settings.defaults) {
        if (version === this.#version) this.#show(settings.defaults);
      } else if (this.#local && version === this.#version) {
        await this.#api.call('settings.set', { defaults: this.#local });
      }
      this.#local = null;
      this.#save();
      this.error = null;
    } catch (error) {
      this.error = `The saved defaults could not be read: ${messageOf(error)}`;
    }
  }

  /**
   * Merges new defaults and sends them to the host. Invalid values are refused at once with the schema's message and
   * nothing changes; a host that refuses them leaves them shown and says so in `error`.
   */
  setDefaults(patch: Partial<Defaults>): Promise<void> {
    const next = DefaultsSchema.parse(dropUndefined({ ...this.defaults, ...patch }));
    return this.#change(next);
  }

  resetDefaults(): Promise<void> {
    return this.#change(FALLBACK);
  }

  /**
   * Calls `listener` with every new set of defaults (changed here or read from the host), so the Generate form follows
   * them at once rather than after a reload. Returns the way to stop.
   */
  follow(listener: (defaults: Defaults) => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => void (this.#listeners = this.#listeners.filter((l) => l !== listener));
  }

  /** Records how long one image took at this tokens-per-step on this model. */
  recordTiming(model: string, tokensPerStep: number, msPerImage: number): void {
    if (!(msPerImage > 0)) return;
    this.timings = { ...this.timings, [model]: { ...this.timings[model], [String(tokensPerStep)]: msPerImage } };
    this.#save();
  }

  timingFor(model: string | undefined, tokensPerStep: number): number | null {
    return model ? (this.timings[model]?.[String(tokensPerStep)] ?? null) : null;
  }

  async #change(next: Defaults): Promise<void> {
    const version = ++this.#version;
    this.#show(next);
    if (!this.#api) {
      this.#local = next;
      this.#save();
      return;
    }
    try {
      // The host checks them with the same schema, so its answer is what was sent.
      await this.#api.call('settings.set', { defaults: next });
      this.#local = null;
      this.#save();
      this.error = null;
    } catch (error) {
      if (version === this.#version) this.error = `Not saved: ${messageOf(error)}`;
    }
  }

  #show(next: Defaults): void {
    this.defaults = next;
    for (const listener of this.#listeners) listener(next);
  }

  #save(): void {
    const stored = this.#local ? { defaults: this.#local, timings: this.timings } : { timings: this.timings };
    this.#storage?.setItem(STORAGE_KEY, JSON.stringify(stored));
  }
}

/** A field set to undefined (an emptied input) means "the model's default", which the strict schema spells absent. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function parseJson(text: string | null): unknown {
  if (text === null) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
