import { getProviderReport } from '../../engine/providers';
import { freeDiskBytes } from '../../models/registry';
import type { Handlers } from '../dispatch';
import type { Services } from '../services';
import { APP_NAME, APP_VERSION } from '../version';

export function systemHandlers(services: Services): Pick<Handlers, 'doctor'> {
  return {
    doctor: async () => {
      // The model a generation without --model would use: the default, if any bundle is installed or built in.
      const active = (await services.models.list()).find((model) => model.default) ?? null;
      return {
        app: { name: APP_NAME, version: APP_VERSION },
        mode: services.mode,
        node: process.versions.node,
        electron: services.electronVersion,
        platform: process.platform,
        arch: process.arch,
        onnxruntime: await getProviderReport(services.env.VGT_EP),
        dataDir: services.home,
        freeDiskBytes: await freeDiskBytes(services.home),
        model: active ? { id: active.id, name: active.name } : null,
      };
    },
  };
}
