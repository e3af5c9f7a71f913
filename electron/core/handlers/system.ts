import { getProviderReport } from '../../engine/providers';
import { freeDiskBytes } from '../../models/registry';
import type { Handlers } from '../dispatch';
import type { Services } from '../services';
import { providerPreference, readSettingsOrDefaults } from '../settings';
import { APP_NAME, APP_VERSION } from '../version';

export function systemHandlers(services: Services): Pick<Handlers, 'doctor'> {
  return {
    doctor: async () => {
      // The model a generation without --model would use: the default, if any bundle is installed or built in.
      const active = (await services.models.list()).find((model) => model.default) ?? null;
      const settings = await readSettingsOrDefaults(services);
      // `preferred` follows what the engine will use (VGT_EP, else the Settings choice); `preference` stays VGT_EP.
      const report = await getProviderReport(providerPreference(services.env, settings));
      const fromEnv = services.env.VGT_EP?.trim();
      return {
        app: { name: APP_NAME, version: APP_VERSION },
        mode: services.mode,
        node: process.versions.node,
        electron: services.electronVersion,
        platform: process.platform,
        arch: process.arch,
        onnxruntime: { ...report, preference: fromEnv ? fromEnv : null },
        capabilities: {
          revealFile: services.desktop !== null,
          chooseLocation: services.desktop !== null,
          downloads: services.mode === 'web',
        },
        dataDir: services.home,
        freeDiskBytes: await freeDiskBytes(services.home),
        model: active ? { id: active.id, name: active.name } : null,
      };
    },
  };
}
