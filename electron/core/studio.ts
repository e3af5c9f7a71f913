// The studio host: the contract's handlers on top of the engine and the library, independent of transport.
// Electron main registers it on IPC, web mode serves it over HTTP, the CLI and tests call it directly.
import { statfs } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import type { CallResult } from '../common/contract';
import { getProviderReport } from '../engine/providers';
import { dispatch, type CallContext, type Handlers } from './dispatch';
import { EventHub } from './events';
import { APP_NAME, APP_VERSION } from './version';

export type StudioMode = 'app' | 'web' | 'cli';

export type StudioOptions = Readonly<{
  home: string;
  mode: StudioMode;
  env?: NodeJS.ProcessEnv;
  electronVersion?: string | null;
}>;

export type Studio = Readonly<{
  home: string;
  events: EventHub;
  handle(name: unknown, payload: unknown, context?: CallContext): Promise<CallResult<unknown>>;
  dispose(): Promise<void>;
}>;

async function freeDiskBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

export function createStudio(options: StudioOptions): Studio {
  const env = options.env ?? process.env;
  mkdirSync(options.home, { recursive: true });
  const events = new EventHub();

  const handlers: Handlers = {
    doctor: async () => ({
      app: { name: APP_NAME, version: APP_VERSION },
      mode: options.mode,
      node: process.versions.node,
      electron: options.electronVersion ?? null,
      platform: process.platform,
      arch: process.arch,
      onnxruntime: await getProviderReport(env.VGT_EP),
      dataDir: options.home,
      freeDiskBytes: await freeDiskBytes(options.home),
      model: null,
    }),
  };

  return {
    home: options.home,
    events,
    handle: (name, payload, context) => dispatch(handlers, name, payload, context),
    dispose: async () => {},
  };
}
