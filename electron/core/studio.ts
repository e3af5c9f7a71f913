// The studio host: the contract's handlers on top of the engine and the library, independent of transport.
// Electron main registers it on IPC, web mode serves it over HTTP, the CLI and tests call it directly.
import { mkdirSync } from 'node:fs';
import type { CallResult } from '../common/contract';
import { dispatch, type CallContext, type Handlers } from './dispatch';
import { EventHub } from './events';
import { ExportDownloads } from './export';
import type { EngineFactory } from './engine-host';
import { GenerationRunner, type RunnerServices } from './generation-runner';
import { generationHandlers } from './handlers/generation';
import { forwardLibraryChange, libraryHandlers } from './handlers/library';
import { modelsHandlers } from './handlers/models';
import { settingsHandlers } from './handlers/settings';
import { sweepHandlers } from './handlers/sweep';
import { systemHandlers } from './handlers/system';
import { timelineHandlers } from './handlers/timeline';
import { ModelRegistry } from '../models/registry';
import { createLibraryService } from '../store/library';
import type { DesktopCapabilities, Services, StudioMode } from './services';

export type { DesktopCapabilities, StudioMode } from './services';

export type StudioOptions = Readonly<{
  home: string;
  mode: StudioMode;
  env?: NodeJS.ProcessEnv;
  electronVersion?: string | null;
  /** Folders of built-in model bundles (default: the packaged app's resources, then native-models/bundles). */
  builtinBundles?: ReadonlyArray<string>;
  /** The desktop shell's abilities (electron/main passes them; web mode and the CLI have none). */
  desktop?: DesktopCapabilities;
  /** The engine the runner uses (tests); default: a worker thread. */
  engine?: EngineFactory;
}>;

export type Studio = Readonly<{
  home: string;
  events: EventHub;
  services: Services;
  handle(name: unknown, payload: unknown, context?: CallContext): Promise<CallResult<unknown>>;
  dispose(): Promise<void>;
}>;

export function createStudio(options: StudioOptions): Studio {
  mkdirSync(options.home, { recursive: true });
  const base: RunnerServices = {
    home: options.home,
    mode: options.mode,
    env: options.env ?? process.env,
    electronVersion: options.electronVersion ?? null,
    events: new EventHub(),
    models: new ModelRegistry({ home: options.home, builtinRoots: options.builtinBundles }),
    library: createLibraryService(options.home, {
      onChange: (change) => forwardLibraryChange(base.events, change),
    }),
    desktop: options.desktop ?? null,
    exports: new ExportDownloads(options.home),
  };
  const services: Services = { ...base, runner: new GenerationRunner(base, { engine: options.engine }) };
  // Each area adds its handlers here; `Handlers` makes a missing call a type error.
  const handlers: Handlers = {
    ...systemHandlers(services),
    ...generationHandlers(services),
    ...modelsHandlers(services),
    ...libraryHandlers(services),
    ...settingsHandlers(services),
    ...timelineHandlers(services),
    ...sweepHandlers(services),
  };
  // The app and web mode run what the library's queue still holds (an earlier session's jobs) from the start; the
  // CLI runs only the jobs it was given.
  if (services.mode !== 'cli') queueMicrotask(() => services.runner.start());

  return {
    home: services.home,
    events: services.events,
    services,
    handle: (name, payload, context) => dispatch(handlers, name, payload, context),
    dispose: async () => {
      await services.runner.dispose();
      await services.exports.dispose();
      await services.library.close();
    },
  };
}
