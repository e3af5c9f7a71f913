import { statfs } from 'node:fs/promises';
import { getProviderReport } from '../../engine/providers';
import type { Handlers } from '../dispatch';
import type { Services } from '../services';
import { APP_NAME, APP_VERSION } from '../version';

async function freeDiskBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

export function systemHandlers(services: Services): Pick<Handlers, 'doctor'> {
  return {
    doctor: async () => ({
      app: { name: APP_NAME, version: APP_VERSION },
      mode: services.mode,
      node: process.versions.node,
      electron: services.electronVersion,
      platform: process.platform,
      arch: process.arch,
      onnxruntime: await getProviderReport(services.env.VGT_EP),
      dataDir: services.home,
      freeDiskBytes: await freeDiskBytes(services.home),
      model: null,
    }),
  };
}
