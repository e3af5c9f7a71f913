// The model registry: bundles installed under <data folder>/models/<id> (copied, or linked to the user's own folder)
// and the built-in bundles the app ships (native-models/bundles in a checkout, <resources>/bundles when packaged).
// The engine turns a model id (or none: the default) into a bundle folder with `resolve`.
import { randomBytes } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  statfs,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { ModelIdSchema, type ImportMode, type Model } from '../common/api/models';
import { StudioError } from '../common/errors';
import { validateBundle } from '../engine/bundle';
import { MANIFEST_NAME, bundleBytes, readBundleManifest, type BundleManifest } from './manifest';

/** Checks a bundle folder completely (or all but the hashes, when they were just checked); throws MODEL_INVALID. */
export type BundleValidator = (dir: string, options: Readonly<{ hashes: 'verify' | 'skip' }>) => Promise<unknown>;

export type RegistryOptions = Readonly<{
  home: string;
  /** Folders whose sub-folders are built-in bundles, first wins on equal ids. */
  builtinRoots?: ReadonlyArray<string>;
  validate?: BundleValidator;
}>;

const SETTINGS_FILE = 'models.json';
/** Headroom kept free on the disk beyond the bundle itself. */
export const DISK_MARGIN_BYTES = 256 * 1024 * 1024;

/** Built-in bundle folders: the packaged app's resources, then the checkout's native-models/bundles. */
export function defaultBuiltinRoots(): Array<string> {
  const roots: Array<string> = [];
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources) roots.push(path.join(resources, 'bundles'));
  roots.push(path.resolve(import.meta.dirname, '..', '..', 'native-models', 'bundles'));
  return roots;
}

export async function freeDiskBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/** Refuses to start writing `needed` bytes into `dir` when the disk would be (nearly) full afterwards. */
export async function ensureFreeDisk(dir: string, needed: number): Promise<void> {
  const free = await freeDiskBytes(dir);
  if (free !== null && free < needed + DISK_MARGIN_BYTES) {
    const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;
    throw new StudioError('DISK_FULL', `This needs ${gib(needed)} and ${dir} has ${gib(free)} free; free some space.`);
  }
}

/** Total size of the regular files under `dir` (symlinks inside are not followed). */
export async function sizeOnDisk(dir: string): Promise<number> {
  let total = 0;
  let entries: Array<Dirent>;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await sizeOnDisk(full);
    else if (entry.isFile()) total += (await lstat(full)).size;
  }
  return total;
}

function notFound(id: string): StudioError {
  return new StudioError('MODEL_NOT_FOUND', `No model with id ${JSON.stringify(id)} is installed.`);
}

type Entry = Readonly<{ id: string; dir: string; builtin: boolean; linked: boolean }>;

export class ModelRegistry {
  readonly home: string;
  readonly modelsDir: string;
  readonly #builtinRoots: ReadonlyArray<string>;
  readonly #validate: BundleValidator;
  /** Changes to the models folder run one at a time (imports, removals, installs, the default). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RegistryOptions) {
    this.home = options.home;
    this.modelsDir = path.join(options.home, 'models');
    this.#builtinRoots = options.builtinRoots ?? defaultBuiltinRoots();
    this.#validate = options.validate ?? validateBundle;
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #entries(): Promise<Array<Entry>> {
    const found = new Map<string, Entry>();
    const scan = async (root: string, builtin: boolean) => {
      let names: Array<Dirent>;
      try {
        names = await readdir(root, { withFileTypes: true });
      } catch {
        return;
      }
      for (const dirent of names.sort((a, b) => a.name.localeCompare(b.name))) {
        if (found.has(dirent.name) || !ModelIdSchema.safeParse(dirent.name).success) continue;
        const dir = path.join(root, dirent.name);
        const linked = dirent.isSymbolicLink();
        if (!dirent.isDirectory() && !linked) continue;
        // A built-in root holds only bundle folders; anything else there is not ours to list.
        if (builtin && !(await stat(path.join(dir, MANIFEST_NAME)).catch(() => null))) continue;
        found.set(dirent.name, { id: dirent.name, dir, builtin, linked: linked && !builtin });
      }
    };
    await scan(this.modelsDir, false);
    for (const root of this.#builtinRoots) await scan(root, true);
    return [...found.values()];
  }

  async #readSettings(): Promise<{ default: string | null }> {
    try {
      const json = JSON.parse(await readFile(path.join(this.modelsDir, SETTINGS_FILE), 'utf8')) as unknown;
      const id = (json as { default?: unknown } | null)?.default;
      return { default: typeof id === 'string' ? id : null };
    } catch {
      return { default: null };
    }
  }

  async #writeSettings(settings: { default: string | null }): Promise<void> {
    await mkdir(this.modelsDir, { recursive: true });
    const file = path.join(this.modelsDir, SETTINGS_FILE);
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify(settings, null, 2) + '\n');
    await rename(temp, file);
  }

  async #describe(entry: Entry, isDefault: boolean): Promise<Model> {
    let dir = entry.dir;
    let manifest: BundleManifest | null = null;
    let problem: string | undefined;
    try {
      dir = await realpath(entry.dir);
      manifest = await readBundleManifest(dir);
    } catch (error) {
      problem =
        error instanceof StudioError
          ? error.message
          : `The linked folder is gone or unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'}).`;
    }
    return {
      id: entry.id,
      name: manifest?.name ?? entry.id,
      description: manifest?.description ?? '',
      licence: manifest?.licence ?? '',
      path: dir,
      default: isDefault,
      builtin: entry.builtin,
      linked: entry.linked,
      sizeBytes: problem ? 0 : await sizeOnDisk(dir),
      ...(problem ? { problem } : {}),
    };
  }

  /** Every model, the default first: the one the user chose, else the first usable built-in, else any usable one. */
  async list(): Promise<Array<Model>> {
    const entries = await this.#entries();
    const chosen = (await this.#readSettings()).default;
    const models = await Promise.all(entries.map((entry) => this.#describe(entry, false)));
    const usable = models.filter((m) => m.problem === undefined);
    const fallback = usable.find((m) => m.builtin) ?? usable[0];
    const defaultId = usable.some((m) => m.id === chosen) ? chosen : (fallback?.id ?? null);
    return models
      .map((m) => ({ ...m, default: m.id === defaultId }))
      .sort((a, b) => Number(b.default) - Number(a.default) || a.name.localeCompare(b.name));
  }

  /** The model to run: `id`, or the default when none is given. Throws MODEL_NOT_FOUND, or MODEL_INVALID when broken. */
  async resolve(id?: string | null): Promise<Model> {
    const models = await this.list();
    const model = id ? models.find((m) => m.id === id) : models.find((m) => m.default);
    if (!model) {
      throw id
        ? notFound(id)
        : new StudioError('MODEL_NOT_FOUND', 'No model is installed: import or download one in Models.');
    }
    if (model.problem) throw new StudioError('MODEL_INVALID', `${model.name}: ${model.problem}`);
    return model;
  }

  setDefault(id: string): Promise<Model> {
    return this.#exclusive(async () => {
      const model = await this.resolve(id);
      await this.#writeSettings({ default: model.id });
      return { ...model, default: true };
    });
  }

  /** Refuses an id that is already installed or built in. */
  async checkIdFree(id: string): Promise<void> {
    const taken = (await this.#entries()).find((entry) => entry.id === id);
    if (taken) {
      throw new StudioError(
        'MODEL_EXISTS',
        taken.builtin
          ? `${id} ships with the app already.`
          : `A model with id ${id} is installed already; remove it first to replace it.`,
      );
    }
  }

  /** A fresh folder next to the installed models, on the same disk, so moving it into place is one rename. */
  async stagingDir(prefix: string): Promise<string> {
    const dir = path.join(this.modelsDir, `.${prefix}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * Validates a complete bundle in a staging folder and moves it into place as <models>/<manifest id>.
   * `hashesVerified`: the caller checked every file's sha256 just now (the downloader), so only the rest is checked.
   */
  install(staged: string, hashesVerified = false): Promise<Model> {
    return this.#exclusive(async () => {
      const manifest = await readBundleManifest(staged);
      await this.checkIdFree(manifest.id);
      await this.#validate(staged, { hashes: hashesVerified ? 'skip' : 'verify' });
      await rename(staged, path.join(this.modelsDir, manifest.id));
      return this.resolve(manifest.id);
    });
  }

  /** Imports a bundle folder: a validated copy under the data folder, or a link to it (the user keeps the files). */
  async import(source: string, mode: ImportMode, signal?: AbortSignal): Promise<Model> {
    let dir: string;
    try {
      dir = await realpath(path.resolve(source));
    } catch {
      throw new StudioError('NOT_FOUND', `No folder at ${source}.`);
    }
    if (!(await stat(dir)).isDirectory()) throw new StudioError('MODEL_INVALID', `${source} is not a folder.`);
    const manifest = await readBundleManifest(dir);
    await this.checkIdFree(manifest.id);
    await mkdir(this.modelsDir, { recursive: true });
    if (mode === 'link') {
      return this.#exclusive(async () => {
        await this.checkIdFree(manifest.id);
        await this.#validate(dir, { hashes: 'verify' });
        // A junction on Windows needs no privileges; elsewhere the type is ignored.
        await symlink(dir, path.join(this.modelsDir, manifest.id), 'junction');
        return this.resolve(manifest.id);
      });
    }
    await ensureFreeDisk(this.modelsDir, bundleBytes(manifest));
    const staged = await this.stagingDir('import');
    try {
      // Only the manifest and the files it lists: stray files (or symlinks) in the user's folder stay behind.
      for (const name of [MANIFEST_NAME, ...Object.keys(manifest.files)]) {
        signal?.throwIfAborted();
        await mkdir(path.dirname(path.join(staged, name)), { recursive: true });
        await copyFile(path.join(dir, name), path.join(staged, name), constants.COPYFILE_FICLONE);
      }
      return await this.install(staged);
    } catch (error) {
      if (signal?.aborted) throw new StudioError('CANCELLED', 'The import was cancelled.');
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StudioError('MODEL_INVALID', `A file the manifest lists is missing: ${(error as Error).message}`);
      }
      throw error;
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }

  /** Removes an installed model: its files for a copy, only the link for a linked folder. Built-ins stay. */
  remove(id: string): Promise<{ removed: string; freedBytes: number }> {
    return this.#exclusive(async () => {
      const entry = (await this.#entries()).find((e) => e.id === id);
      if (!entry) throw notFound(id);
      if (entry.builtin) throw new StudioError('FORBIDDEN', `${id} ships with the app and cannot be removed.`);
      if (entry.linked) {
        await unlink(entry.dir);
        return { removed: id, freedBytes: 0 };
      }
      const freedBytes = await sizeOnDisk(entry.dir);
      // Renamed first, so a crash half-way never leaves a half-deleted bundle that still lists as installed.
      const trash = path.join(this.modelsDir, `.trash-${randomBytes(6).toString('hex')}`);
      await rename(entry.dir, trash);
      await rm(trash, { recursive: true, force: true });
      return { removed: id, freedBytes };
    });
  }
}
