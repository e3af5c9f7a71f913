// Settings calls. A new execution provider choice reaches the engine at its next model load: the runner replaces its
// engine once the work in progress is done (unless VGT_EP is set, which wins and so makes the choice moot).
import type { Handlers } from '../dispatch';
import type { Services } from '../services';
import { providerPreference, readSettings, saveSettings } from '../settings';

export function settingsHandlers(services: Services): Pick<Handlers, 'settings.get' | 'settings.set'> {
  return {
    'settings.get': () => readSettings(services),
    'settings.set': async (patch) => {
      const before = await readSettings(services);
      const after = await saveSettings(services, patch);
      if (providerPreference(services.env, before) !== providerPreference(services.env, after)) {
        // Not awaited: a generation in progress keeps its provider, and this call must not wait for it.
        void services.runner.restartEngine().catch(() => undefined);
      }
      return after;
    },
  };
}
