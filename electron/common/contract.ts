// The one typed contract between the renderer and the studio host (Electron main or web mode).
// Every call has a request and a response schema; the host validates every inbound payload with them.
// Pure: no Node or Electron imports, so the renderer, preload, host and tests all share it.
import { z } from 'zod';

/** Short strings everywhere unless a call says otherwise: a UI never needs more, and it bounds what a caller can send. */
const shortText = z.string().max(1024);

export const ProviderIdSchema = z.enum(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
export type ProviderId = z.infer<typeof ProviderIdSchema>;

export const ProviderStatusSchema = z.object({
  id: ProviderIdSchema,
  /** Compiled into this onnxruntime-node build for this OS. */
  bundled: z.boolean(),
  /** Usable here, as far as can be told without loading a model. */
  available: z.boolean(),
  /** Why not, when not available (or a note when it is). */
  reason: z.string().optional(),
});
export type ProviderStatus = z.infer<typeof ProviderStatusSchema>;

export const DoctorSchema = z.object({
  app: z.object({ name: z.string(), version: z.string() }),
  mode: z.enum(['app', 'web', 'cli']),
  node: z.string(),
  electron: z.string().nullable(),
  platform: z.string(),
  arch: z.string(),
  onnxruntime: z.object({
    version: z.string(),
    providers: z.array(ProviderStatusSchema),
    /** The provider the engine will use first, after VGT_EP and availability. */
    preferred: ProviderIdSchema,
    /** VGT_EP as given, if any. */
    preference: z.string().nullable(),
  }),
  dataDir: z.string(),
  freeDiskBytes: z.number().nullable(),
  model: z.object({ id: z.string(), name: z.string() }).nullable(),
});
export type Doctor = z.infer<typeof DoctorSchema>;

const EmptyRequest = z.object({}).strict();

export const calls = {
  doctor: { request: EmptyRequest, response: DoctorSchema },
} as const satisfies Record<string, { request: z.ZodType; response: z.ZodType }>;

export type CallName = keyof typeof calls;
export type CallRequest<N extends CallName> = z.input<(typeof calls)[N]['request']>;
export type CallResponse<N extends CallName> = z.output<(typeof calls)[N]['response']>;

export const CALL_NAMES = Object.keys(calls) as ReadonlyArray<CallName>;

export function isCallName(value: unknown): value is CallName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(calls, value);
}

// ---- Events (host → renderer) ----

export const events = {
  /** A line for the status bar or log: engine fallbacks, migrations, anything a user should be told once. */
  notice: z.object({ level: z.enum(['info', 'warning', 'error']), message: shortText }),
} as const satisfies Record<string, z.ZodType>;

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
