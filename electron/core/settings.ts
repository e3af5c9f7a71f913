// Studio settings over the library's settings rows: checked against the contract one field at a time, so a value this
// version cannot read falls back to its default instead of failing every call that needs the settings.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SETTINGS, StudioSettingsSchema, type StudioSettings } from '../common/api/settings';
import { DB_FILE } from '../store/db';
import type { Services } from './services';

export function parseSettings(stored: Readonly<Record<string, unknown>>): StudioSettings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, schema] of Object.entries(StudioSettingsSchema.shape)) {
    const parsed = schema.safeParse(stored[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as StudioSettings;
}

export async function readSettings(services: Pick<Services, 'library'>): Promise<StudioSettings> {
  return parseSettings(await (await services.library.get()).settings());
}

/**
 * For doctor and the engine: the settings, or the defaults when there is no library yet (doctor must not create one)
 * or it cannot be opened (a damaged database has its own way out; the provider choice should not add a second error).
 */
export async function readSettingsOrDefaults(services: Pick<Services, 'home' | 'library'>): Promise<StudioSettings> {
  if (!existsSync(path.join(services.home, DB_FILE))) return DEFAULT_SETTINGS;
  try {
    return await readSettings(services);
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export async function saveSettings(services: Services, patch: Partial<StudioSettings>): Promise<StudioSettings> {
  const library = await services.library.get();
  await library.saveSettings(patch);
  return parseSettings(await library.settings());
}

/** The provider order the engine gets (VGT_EP syntax): VGT_EP when set, else the Settings choice; undefined = auto. */
export function providerPreference(env: NodeJS.ProcessEnv, settings: StudioSettings): string | undefined {
  const fromEnv = env.VGT_EP?.trim();
  if (fromEnv) return fromEnv;
  return settings.provider === 'auto' ? undefined : settings.provider;
}
