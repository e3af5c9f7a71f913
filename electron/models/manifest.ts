// Reading a bundle's manifest (native-models/BUNDLE.md) as far as the registry and the downloader need it:
// identity, and the file list with sizes and sha256. Deep checks of the architecture belong to the engine.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelIdSchema } from '../common/api/models';
import { StudioError } from '../common/errors';
import { describeIssues } from '../core/dispatch';
import { resolveInside } from '../core/paths';

export const MANIFEST_FILE = 'vgt-bundle.json';
/** Real manifests are a few KB; anything far larger is not one. */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A path inside the bundle: relative, forward slashes, no `..`, no drive letters or NUL. */
const BundlePathSchema = z
  .string()
  .min(1)
  .max(512)
  .refine(
    (p) => !p.includes('\0') && !p.includes('\\') && !p.startsWith('/') && !/^[a-zA-Z]:/.test(p),
    'must be a relative path',
  )
  .refine((p) => p.split('/').every((part) => part !== '' && part !== '.' && part !== '..'), 'must stay inside');

const FileEntrySchema = z.looseObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});

export const ManifestSchema = z.looseObject({
  format: z.literal('vgt-bundle'),
  formatVersion: z.literal(1),
  id: ModelIdSchema,
  name: z.string().min(1).max(200),
  description: z.string().max(4000).default(''),
  licence: z.string().max(200).default(''),
  files: z.record(BundlePathSchema, FileEntrySchema).refine((files) => Object.keys(files).length > 0, 'is empty'),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Parses manifest text; every problem is MODEL_INVALID with the reason. */
export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StudioError('MODEL_INVALID', `${where}: ${MANIFEST_FILE} is not valid JSON.`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new StudioError('MODEL_INVALID', `${where}: ${MANIFEST_FILE}: ${describeIssues(parsed.error)}`);
  }
  if (Object.keys(parsed.data.files).includes(MANIFEST_FILE)) {
    throw new StudioError('MODEL_INVALID', `${where}: the manifest cannot list itself.`);
  }
  return parsed.data;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new StudioError('MODEL_INVALID', `${dir} is not a model bundle (no ${MANIFEST_FILE}).`);
  }
  if (size > MAX_MANIFEST_BYTES) throw new StudioError('MODEL_INVALID', `${file} is too large to be a manifest.`);
  return parseManifest(await readFile(file, 'utf8'), dir);
}

/** The manifest's total payload, for free-disk checks and progress. */
export function bundleBytes(manifest: Manifest): number {
  return Object.values(manifest.files).reduce((sum, entry) => sum + entry.bytes, 0);
}

/** Streams a file through sha256, reporting bytes read (for the visible verification phase). */
export async function sha256File(
  file: string,
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) {
    hash.update(chunk as Buffer);
    onBytes?.((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

export type VerifyOptions = Readonly<{ onBytes?: (file: string, bytes: number) => void; signal?: AbortSignal }>;

/**
 * Checks that every listed file exists inside the bundle (no symlink out of it) with its size and sha256.
 * Sizes are checked for all files first, so a truncated bundle fails before hours of hashing.
 */
export async function verifyBundleFiles(dir: string, manifest: Manifest, options: VerifyOptions = {}): Promise<void> {
  const entries = Object.entries(manifest.files);
  const checked: Array<[name: string, real: string, sha256: string]> = [];
  for (const [name, entry] of entries) {
    let real: string;
    try {
      real = resolveInside(dir, name);
    } catch (error) {
      const code = (error as StudioError).code;
      throw new StudioError(
        'MODEL_INVALID',
        code === 'NOT_FOUND' ? `${name} is missing from the bundle.` : `${name} points outside the bundle.`,
      );
    }
    const info = await stat(real);
    if (!info.isFile()) throw new StudioError('MODEL_INVALID', `${name} is not a file.`);
    if (info.size !== entry.bytes) {
      throw new StudioError('MODEL_INVALID', `${name} has ${info.size} bytes; the manifest says ${entry.bytes}.`);
    }
    checked.push([name, real, entry.sha256]);
  }
  for (const [name, real, sha256] of checked) {
    const digest = await sha256File(real, (bytes) => options.onBytes?.(name, bytes), options.signal);
    if (digest !== sha256) {
      throw new StudioError('MODEL_INVALID', `${name} does not match its sha256 (the file is damaged or altered).`);
    }
  }
}
