// A resumable download's state on disk: the bytes so far in `<dest>.partial`, and beside them a sidecar
// `<dest>.partial.json` with the URL, the server's validators (ETag / Last-Modified), the total size and the expected
// sha256, written atomically so a crash leaves a pair a later run can resume.
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';

export type Sidecar = {
  version: 1;
  url: string;
  sha256: string;
  etag: string | null;
  lastModified: string | null;
  totalBytes: number | null;
};

export const partialPath = (dest: string) => `${dest}.partial`;
export const sidecarPath = (dest: string) => `${dest}.partial.json`;

export async function readSidecar(dest: string): Promise<Sidecar | null> {
  try {
    const json = JSON.parse(await readFile(sidecarPath(dest), 'utf8')) as Partial<Sidecar>;
    if (json.version !== 1 || typeof json.url !== 'string' || typeof json.sha256 !== 'string') return null;
    return {
      version: 1,
      url: json.url,
      sha256: json.sha256,
      etag: typeof json.etag === 'string' ? json.etag : null,
      lastModified: typeof json.lastModified === 'string' ? json.lastModified : null,
      totalBytes: typeof json.totalBytes === 'number' ? json.totalBytes : null,
    };
  } catch {
    return null;
  }
}

export async function writeSidecar(dest: string, sidecar: Sidecar): Promise<void> {
  const temp = `${sidecarPath(dest)}.tmp`;
  await writeFile(temp, JSON.stringify(sidecar));
  await rename(temp, sidecarPath(dest));
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Removes a download's partial file and sidecar (a discard, or bytes that failed verification). */
export async function discardPartial(dest: string): Promise<void> {
  await rm(partialPath(dest), { force: true });
  await rm(sidecarPath(dest), { force: true });
}
