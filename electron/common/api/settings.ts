// Settings kept in the library (so the app, web mode and the CLI share them): for now the execution provider the
// engine tries first. Each setting has a default, so a library that never saved one reads as defaults.
import { z } from 'zod';
import { EmptyRequest, ProviderIdSchema } from './system';

/** `auto`: the best provider that initialises, CPU last; a provider id: that one first, then CPU. */
export const ProviderPreferenceSchema = z.union([z.literal('auto'), ProviderIdSchema]);
export type ProviderPreference = z.infer<typeof ProviderPreferenceSchema>;

export const StudioSettingsSchema = z.object({
  /** Used from the next model load on; VGT_EP, when set, wins over it. */
  provider: ProviderPreferenceSchema,
});
export type StudioSettings = z.infer<typeof StudioSettingsSchema>;

export const DEFAULT_SETTINGS: StudioSettings = { provider: 'auto' };

export const settingsCalls = {
  'settings.get': { request: EmptyRequest, response: StudioSettingsSchema },
  /** Changes the settings given, keeps the rest; answers all of them. */
  'settings.set': { request: StudioSettingsSchema.partial().strict(), response: StudioSettingsSchema },
} as const;

export const settingsEvents = {} as const;
