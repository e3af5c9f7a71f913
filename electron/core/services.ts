// What the handlers work with: one instance of each service per studio, created and disposed together.
import type { ModelRegistry } from '../models/registry';
import type { LibraryService } from '../store/library';
import type { EventHub } from './events';

export type StudioMode = 'app' | 'web' | 'cli';

export type Services = {
  readonly home: string;
  readonly mode: StudioMode;
  readonly env: NodeJS.ProcessEnv;
  readonly electronVersion: string | null;
  readonly events: EventHub;
  /** Installed and built-in model bundles: `models.resolve(id?)` gives the bundle folder to run. */
  readonly models: ModelRegistry;
  /** History, gallery and queue (SQLite), opened on first use: `await library.get()`. */
  readonly library: LibraryService;
};
