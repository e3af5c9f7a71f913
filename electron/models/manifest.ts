// What the registry and the downloader need from a bundle's manifest, on top of the engine's reader and validator
// (electron/engine/bundle.ts): an id that is safe as a folder name, the bundle's size, and hashing with progress.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ModelIdSchema } from '../common/api/models';
import { StudioError } from '../common/errors';
import { readManifest, type BundleManifest } from '../engine/bundle';

export { MANIFEST_NAME, type BundleManifest } from '../engine/bundle';

/** The engine's manifest check, plus an id the registry can use as a folder name. */
export async function readBundleManifest(dir: string): Promise<BundleManifest> {
  const manifest = await readManifest(dir);
  if (!ModelIdSchema.safeParse(manifest.id).success) {
    throw new StudioError(
      'MODEL_INVALID',
      `${dir}: the bundle id ${JSON.stringify(manifest.id.slice(0, 100))} is not usable; ids are 1–80 letters, digits, ".", "_" or "-".`,
    );
  }
  return manifest;
}

/** The manifest's total payload, for free-disk checks and progress. */
export function bundleBytes(manifest: BundleManifest): number {
  return Object.values(manifest.files).reduce((sum, entry) => sum + entry.bytes, 0);
}

/** Streams a file through sha256, reporting bytes read (the downloader's visible verification phase). */
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
