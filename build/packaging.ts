// What goes into the packaged app, shared by forge.config.ts and the packaging tests.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Native code cannot run from inside an asar archive: onnxruntime's binaries (the .node binding and the shared
 * libraries beside it: .so, .dylib, .dll) and every other .node add-on (better-sqlite3, sharp) stay unpacked.
 */
export const ASAR_UNPACK =
  '{**/node_modules/onnxruntime-node/bin/**,**/*.node,**/node_modules/sharp/**,**/node_modules/@img/**}';

/** Shipped beside the archive as <resources>/bundles, where the model registry finds the built-in bundles. */
export const EXTRA_RESOURCES: ReadonlyArray<string> = ['native-models/bundles'];

/** Forge copies the project minus what this refuses: only the Vite build, package.json and the (pruned) dependencies. */
export function ignoreInPackage(file: string): boolean {
  return file !== '' && !/^\/(\.vite|package\.json|node_modules)(\/|$)/.test(file);
}

/**
 * onnxruntime-node carries every platform's binaries (about 290 MB); an app needs only its own. Removes the other
 * platforms' and architectures' folders from a packaged app's node_modules and returns what it removed.
 */
export function pruneForeignBinaries(buildPath: string, platform: string, arch: string): Array<string> {
  const root = path.join(buildPath, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  const removed: Array<string> = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const os of list(root)) {
    for (const cpu of list(path.join(root, os))) {
      if (os === platform && cpu === arch) continue;
      const dir = path.join(root, os, cpu);
      rmSync(dir, { recursive: true, force: true });
      removed.push(path.relative(buildPath, dir));
    }
  }
  return removed;
}
