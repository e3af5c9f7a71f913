// What the handlers work with: one instance of each service per studio, created and disposed together.
import type { EventHub } from './events';

export type StudioMode = 'app' | 'web' | 'cli';

export type Services = {
  readonly home: string;
  readonly mode: StudioMode;
  readonly env: NodeJS.ProcessEnv;
  readonly electronVersion: string | null;
  readonly events: EventHub;
};
