// Settings kept in the library (so the app, web mode and the CLI share them): the execution provider the engine tries
// first, prompt presets and the generation defaults. Each setting has a default (or is optional), so a library that
// never saved one reads as defaults.
import { z } from 'zod';
import { SamplingSchema, SeedSchema } from './generation';
import { EmptyRequest, ProviderIdSchema } from './system';

/** `auto`: the best provider that initialises, CPU last; a provider id: that one first, then CPU. */
export const ProviderPreferenceSchema = z.union([z.literal('auto'), ProviderIdSchema]);
export type ProviderPreference = z.infer<typeof ProviderPreferenceSchema>;

/** A saved prompt with the Generate form's settings; a setting left out takes the model's default (seeds: random). */
export const PromptPresetSchema = z.object({
  name: z.string().trim().min(1).max(64),
  prompt: z.string().max(10_000),
  settings: SamplingSchema.extend({
    seed: SeedSchema.optional(),
    orderSeed: SeedSchema.optional(),
    count: z.number().int().min(1).max(16).optional(),
    model: z.string().min(1).max(200).optional(),
  }).strict(),
});
export type PromptPreset = z.infer<typeof PromptPresetSchema>;

/**
 * What a new generation starts from (the Generate form, `vgt generate`); a field left out takes the model's default.
 * The seeds are not among them: a default seed would make every run the same image.
 */
export const GenerationDefaultsSchema = SamplingSchema.extend({
  count: z.number().int().min(1).max(16),
  model: z.string().min(1).max(200).optional(),
}).strict();
export type GenerationDefaults = z.infer<typeof GenerationDefaultsSchema>;

export const StudioSettingsSchema = z.object({
  /** Used from the next model load on; VGT_EP, when set, wins over it. */
  provider: ProviderPreferenceSchema,
  /** Prompt presets, by name (unique); absent until one is saved. `settings.set` replaces the whole list. */
  presets: z
    .array(PromptPresetSchema)
    .max(50)
    .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'preset names must be unique')
    .optional(),
  /** Generation defaults; absent until first saved. Flags and form fields win over them. */
  defaults: GenerationDefaultsSchema.optional(),
});
export type StudioSettings = z.infer<typeof StudioSettingsSchema>;

export const DEFAULT_SETTINGS: StudioSettings = { provider: 'auto' };

export const settingsCalls = {
  'settings.get': { request: EmptyRequest, response: StudioSettingsSchema },
  /** Changes the settings given, keeps the rest; answers all of them. */
  'settings.set': { request: StudioSettingsSchema.partial().strict(), response: StudioSettingsSchema },
} as const;

export const settingsEvents = {} as const;
