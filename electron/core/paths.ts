// Where the studio keeps its data, and the one check that a requested file lies inside it.
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { StudioError } from '../common/errors';

export const PRODUCT_NAME = 'VGT Studio';

/** The data folder: VGT_STUDIO_HOME, else the OS's per-user app-data folder (the same one Electron's userData names). */
export function resolveHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const fromEnv = env.VGT_STUDIO_HOME?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
}

/**
 * Resolves a relative, URL-decoded path against `root` and refuses anything that ends up outside it:
 * `..` segments, absolute paths, NUL bytes, and symlinks that point out of the folder.
 * Returns the real path of an existing file, or throws PATH_OUTSIDE_LIBRARY / NOT_FOUND.
 */
export function resolveInside(root: string, requested: string): string {
  if (requested.includes('\0')) throw new StudioError('PATH_OUTSIDE_LIBRARY');
  if (path.isAbsolute(requested) || /^[a-zA-Z]:/.test(requested) || requested.startsWith('\\')) {
    throw new StudioError('PATH_OUTSIDE_LIBRARY');
  }
  const realRoot = realpathSync(root);
  const candidate = path.resolve(realRoot, requested);
  if (!isWithin(realRoot, candidate)) throw new StudioError('PATH_OUTSIDE_LIBRARY');
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new StudioError('NOT_FOUND', 'No such file in the library.');
  }
  if (!isWithin(realRoot, real)) throw new StudioError('PATH_OUTSIDE_LIBRARY');
  return real;
}

export function isWithin(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
