// System calls: the runtime, providers and data folder (`doctor`), and the notice event.
import { z } from 'zod';

export const ProviderIdSchema = z.enum(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
export type ProviderId = z.infer<typeof ProviderIdSchema>;

export const ProviderStatusSchema = z.object({
  id: ProviderIdSchema,
  /** Compiled into this onnxruntime-node build for this OS. */
  bundled: z.boolean(),
  /** Usable here, as far as a one-node probe graph can tell. */
  available: z.boolean(),
  /** Why not, when not available. */
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
    /** The provider the engine tries first, after VGT_EP (else the Settings preference) and availability. */
    preferred: ProviderIdSchema,
    /** VGT_EP as given, if any: it wins over the Settings preference. */
    preference: z.string().nullable(),
  }),
  /** What this host can do beyond the contract's data calls; the renderer shows only what works here. */
  capabilities: z.object({
    /** Show a library file in the OS file manager (`library.reveal`): the desktop app. */
    revealFile: z.boolean(),
    /** Ask the user where to save an export (`library.export` to `zip` or `folder`): the desktop app. */
    chooseLocation: z.boolean(),
    /** Serve an export once as a download (`library.export` to `download`): web mode. */
    downloads: z.boolean(),
  }),
  dataDir: z.string(),
  freeDiskBytes: z.number().nullable(),
  model: z.object({ id: z.string(), name: z.string() }).nullable(),
});
export type Doctor = z.infer<typeof DoctorSchema>;

export const EmptyRequest = z.object({}).strict();

export const systemCalls = {
  doctor: { request: EmptyRequest, response: DoctorSchema },
} as const;

export const systemEvents = {
  /** A line for the status bar or log: engine fallbacks, migrations, anything a user should be told once. */
  notice: z.object({ level: z.enum(['info', 'warning', 'error']), message: z.string().max(1024) }),
} as const;
