// Generation defaults kept on this device (not the host's settings): what the Generate view starts from, and the
// measured time per image for each tokens-per-step value (shown next to the speed/quality dial).
import { z } from 'zod';
import { SamplingSchema } from '../../../../electron/common/api/generation';

// The key predates the rename; keeping it keeps everyone's saved defaults.
const STORAGE_KEY = 'vgt.settings';

export const TOKENS_PER_STEP = [1, 2, 4, 8, 16] as const;

export const DefaultsSchema = SamplingSchema.extend({
  count: z.number().int().min(1).max(16),
  model: z.string().min(1).max(200).optional(),
});
export type Defaults = z.infer<typeof DefaultsSchema>;

const StoredSchema = z.object({
  defaults: DefaultsSchema.catch({ count: 1 }),
  /** Model id → tokens per step → the last measured milliseconds per image. */
  timings: z.record(z.string(), z.record(z.string(), z.number().positive())).catch({}),
});

export type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

export class GenerationDefaultsState {
  defaults = $state<Defaults>({ count: 1 });
  timings = $state<Record<string, Record<string, number>>>({});
  #storage: Storage | null;

  constructor(storage: Storage | null) {
    this.#storage = storage;
    const saved = StoredSchema.safeParse(parseJson(storage?.getItem(STORAGE_KEY) ?? null));
    if (saved.success) {
      this.defaults = saved.data.defaults;
      this.timings = saved.data.timings;
    }
  }

  /** Merges new defaults; invalid values are refused with the schema's message and nothing changes. */
  setDefaults(patch: Partial<Defaults>): void {
    this.defaults = DefaultsSchema.parse({ ...this.defaults, ...patch });
    this.#save();
  }

  resetDefaults(): void {
    this.defaults = { count: 1 };
    this.#save();
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

  #save(): void {
    this.#storage?.setItem(STORAGE_KEY, JSON.stringify({ defaults: this.defaults, timings: this.timings }));
  }
}

function parseJson(text: string | null): unknown {
  if (text === null) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
