// Model calls: installed and built-in bundles (list, import, default, remove) and resumable downloads with
// typed progress events. A download URL names a bundle's manifest (`vgt-bundle.json`); its sha256 pins the
// manifest, and the manifest pins every file by size and sha256.
import { z } from 'zod';
import { EmptyRequest } from './system';

/** Bundle ids double as folder names under <data folder>/models, so they are kept to a portable, safe alphabet. */
export const ModelIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'A model id is 1–80 letters, digits, ".", "_" or "-".');

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'A sha256 is 64 hexadecimal digits.')
  .transform((hex) => hex.toLowerCase());

/** `https://…/vgt-bundle.json`, or `hf:owner/repo[@revision]` for a Hugging Face repo with the manifest at its root. */
export const DownloadSourceSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine(isDownloadSource, { message: 'Give an https URL of a vgt-bundle.json, or hf:owner/repo[@revision].' });

/** https anywhere; plain http only on loopback (a local mirror, the tests). */
export function isDownloadSource(value: string): boolean {
  if (/^hf:[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(value)) return true;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export const ModelSchema = z.object({
  id: ModelIdSchema,
  name: z.string(),
  description: z.string(),
  licence: z.string(),
  /** The bundle folder (for a linked model: the folder it links to). */
  path: z.string(),
  default: z.boolean(),
  /** Shipped with the app: cannot be removed. */
  builtin: z.boolean(),
  /** Imported as a link to the user's own folder rather than copied. */
  linked: z.boolean(),
  sizeBytes: z.number().int().nonnegative(),
  /** Set when the model cannot be used (a linked folder that vanished, an unreadable manifest). */
  problem: z.string().optional(),
});
export type Model = z.infer<typeof ModelSchema>;

export const ImportModeSchema = z.enum(['copy', 'link']);
export type ImportMode = z.infer<typeof ImportModeSchema>;

export const DownloadPhaseSchema = z.enum([
  /** Fetching and checking the manifest, checking free disk. */
  'preparing',
  'downloading',
  /** Waiting before the next attempt after a dropped connection, a stall or a server error. */
  'retrying',
  /** Reading the finished files back to check their size and sha256. */
  'verifying',
  /** Validating the bundle and moving it into place. */
  'installing',
  'done',
  'failed',
  'cancelled',
]);
export type DownloadPhase = z.infer<typeof DownloadPhaseSchema>;

export const DownloadProgressSchema = z.object({
  downloadId: z.string(),
  url: z.string(),
  phase: DownloadPhaseSchema,
  /** The bundle file being fetched or verified, null for the bundle as a whole. */
  file: z.string().nullable(),
  /** Bytes of the whole bundle on disk; in the verifying phase, bytes of `file` checked so far. */
  receivedBytes: z.number().nonnegative(),
  /** The bundle's size (null until the manifest is in); in the verifying phase, the size of `file`. */
  totalBytes: z.number().nonnegative().nullable(),
  bytesPerSecond: z.number().nonnegative(),
  /** 1 for the first try of the current file; grows with retries. */
  attempt: z.number().int().positive(),
  /** Bytes kept from an earlier session of this download (resume), for the current file. */
  resumedFromBytes: z.number().nonnegative(),
  message: z.string().max(1024).optional(),
});
export type DownloadProgress = z.infer<typeof DownloadProgressSchema>;

export const DownloadStopSchema = z.enum(['paused', 'failed', 'interrupted']);
export type DownloadStop = z.infer<typeof DownloadStopSchema>;

export const DownloadStateSchema = z.object({
  downloadId: z.string(),
  url: z.string(),
  sha256: z.string(),
  /** The bundle's name once its manifest is in. */
  name: z.string().nullable(),
  /** Running now, or stopped (cancelled, crashed, app closed) with partial files kept for a resume. */
  active: z.boolean(),
  /** Bytes of the bundle's files on disk (finished and partial), of its size (null until the manifest is in). */
  receivedBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative().nullable(),
  /**
   * How a stopped download stopped: paused (cancelled, files kept), failed (with `message`), or interrupted (the
   * studio closed or crashed while it ran). Null while it runs.
   */
  stopped: DownloadStopSchema.nullable(),
  /** Why it failed, for a failed one. */
  message: z.string().max(1024).optional(),
});
export type DownloadState = z.infer<typeof DownloadStateSchema>;

const ModelAnswer = z.object({ model: ModelSchema });

export const modelsCalls = {
  'models.list': { request: EmptyRequest, response: z.object({ models: z.array(ModelSchema) }) },
  'models.import': {
    request: z.object({ path: z.string().min(1).max(4096), mode: ImportModeSchema.default('copy') }).strict(),
    response: ModelAnswer,
  },
  'models.remove': {
    request: z.object({ id: ModelIdSchema }).strict(),
    response: z.object({ removed: ModelIdSchema, freedBytes: z.number().int().nonnegative() }),
  },
  'models.setDefault': { request: z.object({ id: ModelIdSchema }).strict(), response: ModelAnswer },
  /** Answers when the bundle is installed; progress comes as `models.download` events meanwhile. */
  'models.download': {
    request: z.object({ url: DownloadSourceSchema, sha256: Sha256Schema }).strict(),
    response: ModelAnswer,
  },
  /** Running downloads and stopped ones that can resume. */
  'models.downloads': { request: EmptyRequest, response: z.object({ downloads: z.array(DownloadStateSchema) }) },
  /** Stops a download; its partial files stay for a resume unless `discard` is set. */
  'models.cancelDownload': {
    request: z.object({ downloadId: z.string().regex(/^[0-9a-f]{16}$/), discard: z.boolean().default(false) }).strict(),
    response: z.object({ cancelled: z.boolean() }),
  },
} as const;

export const modelsEvents = {
  'models.download': DownloadProgressSchema,
} as const;
