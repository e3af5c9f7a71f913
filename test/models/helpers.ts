// Bundles for model tests: copies of the tiny fixture bundle, with their own id where a test needs two.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const FIXTURE_BUNDLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');
export const FIXTURE_ID = 'vgt-tiny-test';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `vgt-${prefix}-`));
}

type ManifestJson = { id: string; name: string; files: Record<string, { bytes: number; sha256: string }> };

export function readManifestJson(dir: string): ManifestJson {
  return JSON.parse(readFileSync(path.join(dir, 'vgt-bundle.json'), 'utf8')) as ManifestJson;
}

/** A copy of the fixture bundle at `dir`, optionally with another id and name. */
export function makeBundle(dir: string, id = FIXTURE_ID): string {
  cpSync(FIXTURE_BUNDLE, dir, { recursive: true });
  if (id !== FIXTURE_ID) {
    const manifest = readManifestJson(dir);
    writeFileSync(path.join(dir, 'vgt-bundle.json'), JSON.stringify({ ...manifest, id, name: `Tiny ${id}` }));
  }
  return dir;
}

export function bundleFileBytes(dir: string): number {
  const manifest = readManifestJson(dir);
  const files = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0);
  return files + readFileSync(path.join(dir, 'vgt-bundle.json')).length;
}
