// The one typed contract between the renderer and the studio host (Electron main or web mode).
// Every call has a request and a response schema; the host validates every inbound payload with them.
// Each area declares its calls and events in api/<area>.ts; this file joins them.
// Pure: no Node or Electron imports, so the renderer, preload, host and tests all share it.
import type { z } from 'zod';
import { generationCalls, generationEvents } from './api/generation';
import { libraryCalls, libraryEvents } from './api/library';
import { modelsCalls, modelsEvents } from './api/models';
import { settingsCalls, settingsEvents } from './api/settings';
import { sweepCalls, sweepEvents } from './api/sweep';
import { systemCalls, systemEvents } from './api/system';
import { timelineCalls } from './api/timeline';

export * from './api/generation';
export * from './api/library';
export * from './api/models';
export * from './api/settings';
export * from './api/sweep';
export * from './api/system';
export * from './api/timeline';

export const calls = {
  ...systemCalls,
  ...generationCalls,
  ...modelsCalls,
  ...libraryCalls,
  ...settingsCalls,
  ...timelineCalls,
  ...sweepCalls,
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;

export const events = {
  ...systemEvents,
  ...generationEvents,
  ...modelsEvents,
  ...libraryEvents,
  ...settingsEvents,
  ...sweepEvents,
} as const satisfies Record<string, z.ZodType>;

export type CallName = keyof typeof calls;
export type CallRequest<N extends CallName> = z.input<(typeof calls)[N]['request']>;
export type CallResponse<N extends CallName> = z.output<(typeof calls)[N]['response']>;

export const CALL_NAMES = Object.keys(calls) as ReadonlyArray<CallName>;

export function isCallName(value: unknown): value is CallName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(calls, value);
}

export type EventName = keyof typeof events;
export type StudioEvent = { [K in EventName]: { type: K; data: z.output<(typeof events)[K]> } }[EventName];

/** What a call answers across a transport: a value, or a catalogued error. */
export type CallResult<T> =
  Readonly<{ ok: true; value: T }> | Readonly<{ ok: false; error: Readonly<{ code: string; message: string }> }>;

/** The renderer's one API; the preload and the HTTP client both implement it, so views cannot tell which runs. */
export type StudioApi = {
  call<N extends CallName>(name: N, request: CallRequest<N>): Promise<CallResponse<N>>;
  subscribe(listener: (event: StudioEvent) => void): () => void;
};

/** The narrow object the preload exposes as `window.vgt`: it forwards, it never interprets. */
export type PreloadBridge = {
  call(name: string, payload: unknown): Promise<CallResult<unknown>>;
  subscribe(listener: (event: unknown) => void): () => void;
};

/** Limits every transport enforces the same way. */
export const LIMITS = {
  /** JSON bodies of calls. */
  maxBodyBytes: 1024 * 1024,
  /** Uploaded images (their own route in web mode). */
  maxUploadBytes: 64 * 1024 * 1024,
} as const;
