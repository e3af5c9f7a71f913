// The studio's model downloads, one bundle each: the manifest (pinned by the sha256 the user gives), then every file
// it lists (each pinned by its own sha256, fetched by download-file.ts), into <models>/.downloads/<downloadId>/, then
// validation and one rename into place. Everything a resume needs is on disk, so running the same download again
// (after a cancel, a crash or a restart) continues.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DownloadPhase, DownloadProgress, DownloadState, DownloadStop, Model } from '../common/api/models';
import { StudioError, toErrorPayload } from '../common/errors';
import {
  DEFAULT_POLICY,
  downloadFile,
  type FileDownloadReport,
  type FileProgress,
  type RetryPolicy,
} from './download-file';
import { MANIFEST_NAME, bundleBytes, readBundleManifest, type BundleManifest } from './manifest';
import { fileSize, partialPath } from './partial-file';
import { ensureFreeDisk, sizeOnDisk, type ModelRegistry } from './registry';

export type DownloadManagerOptions = Readonly<{
  registry: ModelRegistry;
  onProgress: (progress: DownloadProgress) => void;
  policy?: RetryPolicy;
  fetch?: typeof fetch;
}>;

/** Manifests are a few KB; a manifest URL that serves more names something else. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

type Active = { controller: AbortController; done: Promise<Model>; state: DownloadState };

/** One run of a download: where it is, for its progress events. */
type Run = {
  readonly active: Active;
  readonly rate: Rate;
  phase: DownloadPhase;
  /** The bundle file being fetched, null for the manifest and after the files. */
  file: string | null;
  attempt: number;
  resumedFromBytes: number;
};

/** `<downloadId>.json` beside the staging folder: what a resume needs, and how the download last stopped. */
type SavedState = { url: string; sha256: string; stopped?: Exclude<DownloadStop, 'interrupted'>; message?: string };

/** Stable per (URL, sha256): the same download asked for again finds its partial files. */
export function downloadIdOf(url: string, sha256: string): string {
  return createHash('sha256').update(`${url}\n${sha256.toLowerCase()}`).digest('hex').slice(0, 16);
}

/** The manifest's URL: `hf:owner/repo[@rev]` → the repo's resolve URL; a folder URL gets `vgt-bundle.json`. */
export function manifestUrl(source: string): string {
  const hf = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/.exec(source);
  if (hf) return `https://huggingface.co/${hf[1]}/resolve/${encodeURIComponent(hf[2] ?? 'main')}/${MANIFEST_NAME}`;
  return source.endsWith('/') ? `${source}${MANIFEST_NAME}` : source;
}

/** Bytes of a bundle already on disk in a staging folder: finished files plus partial ones. */
async function bytesPresent(stage: string, manifest: BundleManifest): Promise<number> {
  let sum = 0;
  for (const name of Object.keys(manifest.files)) {
    const file = path.join(stage, name);
    sum += (await fileSize(file)) || (await fileSize(partialPath(file)));
  }
  return sum;
}

/** Bytes per second over the last few seconds. */
class Rate {
  #samples: Array<Readonly<{ time: number; bytes: number }>> = [];

  add(bytes: number): number {
    const now = Date.now();
    this.#samples = [...this.#samples.filter((s) => now - s.time <= 5000), { time: now, bytes }];
    const [first] = this.#samples;
    return first && now > first.time ? Math.max(0, ((bytes - first.bytes) * 1000) / (now - first.time)) : 0;
  }
}

export class DownloadManager {
  readonly #options: DownloadManagerOptions;
  readonly #root: string;
  readonly #active = new Map<string, Active>();

  constructor(options: DownloadManagerOptions) {
    this.#options = options;
    this.#root = path.join(options.registry.modelsDir, '.downloads');
  }

  #stage(downloadId: string): string {
    return path.join(this.#root, downloadId);
  }

  #stateFile(downloadId: string): string {
    return path.join(this.#root, `${downloadId}.json`);
  }

  /** Downloads and installs a bundle; asking again for a running download joins it. */
  download(source: string, sha256: string): Promise<Model> {
    const downloadId = downloadIdOf(source, sha256);
    const running = this.#active.get(downloadId);
    if (running) return running.done;
    const active: Active = {
      controller: new AbortController(),
      done: Promise.resolve(null as unknown as Model),
      state: {
        downloadId,
        url: source,
        sha256: sha256.toLowerCase(),
        name: null,
        active: true,
        receivedBytes: 0,
        totalBytes: null,
        stopped: null,
      },
    };
    active.done = this.#run(active).finally(() => this.#active.delete(downloadId));
    this.#active.set(downloadId, active);
    return active.done;
  }

  async #run(active: Active): Promise<Model> {
    const { downloadId, url, sha256 } = active.state;
    const stage = this.#stage(downloadId);
    const run: Run = { active, rate: new Rate(), phase: 'preparing', file: null, attempt: 1, resumedFromBytes: 0 };
    try {
      await mkdir(stage, { recursive: true });
      // No `stopped` while it runs: a state file without one after a restart means the studio closed mid-download.
      await this.#writeState(downloadId, { url, sha256 });
      this.#emit(run);
      const manifest = await this.#fetchManifest(run, stage);
      await this.#fetchFiles(run, stage, manifest);
      run.phase = 'installing';
      this.#emit(run);
      const model = await this.#options.registry.install(stage, true);
      await rm(this.#stateFile(downloadId), { force: true });
      run.phase = 'done';
      this.#emit(run);
      return model;
    } catch (error) {
      const payload = toErrorPayload(active.controller.signal.aborted ? new StudioError('CANCELLED') : error);
      run.phase = payload.code === 'CANCELLED' ? 'cancelled' : 'failed';
      this.#emit(run, { message: payload.message.slice(0, 1024) });
      // Bytes on disk stay for a resume; a download with none (a wrong hash, a 404) or that can never install goes.
      const hopeless = payload.code === 'MODEL_EXISTS' || payload.code === 'MODEL_INVALID';
      if (hopeless || (await sizeOnDisk(stage)) === 0) await this.discard(downloadId);
      else
        await this.#writeState(downloadId, {
          url,
          sha256,
          stopped: run.phase === 'cancelled' ? 'paused' : 'failed',
          message: payload.message.slice(0, 1024),
        });
      if (payload.code === 'CANCELLED') {
        throw new StudioError('CANCELLED', 'The download was cancelled; run it again to resume.');
      }
      throw error;
    }
  }

  #emit(run: Run, extra: Partial<DownloadProgress> = {}): void {
    const { state } = run.active;
    this.#options.onProgress({
      downloadId: state.downloadId,
      url: state.url,
      phase: run.phase,
      file: run.file,
      receivedBytes: state.receivedBytes,
      totalBytes: state.totalBytes,
      bytesPerSecond: run.phase === 'downloading' ? run.rate.add(state.receivedBytes) : 0,
      attempt: run.attempt,
      resumedFromBytes: run.resumedFromBytes,
      ...extra,
    });
  }

  /** The manifest (pinned by the user's sha256), then the checks that need it: a free id, room on disk. */
  async #fetchManifest(run: Run, stage: string): Promise<BundleManifest> {
    const { state } = run.active;
    const from = manifestUrl(state.url);
    await this.#fetchOne(run, from, path.join(stage, MANIFEST_NAME), state.sha256, 0, { maxBytes: MAX_MANIFEST_BYTES });
    const manifest = await readBundleManifest(stage);
    state.name = manifest.name;
    await this.#options.registry.checkIdFree(manifest.id);
    const total = bundleBytes(manifest);
    state.totalBytes = total;
    await ensureFreeDisk(stage, total - (await bytesPresent(stage, manifest)));
    return manifest;
  }

  /** Every file the manifest lists, beside it; files already whole are kept. */
  async #fetchFiles(run: Run, stage: string, manifest: BundleManifest): Promise<void> {
    let done = 0;
    for (const [name, entry] of Object.entries(manifest.files)) {
      run.file = name;
      const dest = path.join(stage, name);
      // A finished file was verified before it got its name, in this run or an earlier one.
      const from = new URL(name.split('/').map(encodeURIComponent).join('/'), manifestUrl(run.active.state.url));
      if ((await fileSize(dest)) !== entry.bytes)
        await this.#fetchOne(run, from.toString(), dest, entry.sha256, done, { expectedBytes: entry.bytes });
      done += entry.bytes;
      run.active.state.receivedBytes = done;
    }
    run.file = null;
  }

  /** One file of the bundle; `done` is the bytes of the files before it, for the download's total progress. */
  #fetchOne(
    run: Run,
    from: string,
    dest: string,
    fileSha: string,
    done: number,
    limits: Readonly<{ expectedBytes?: number; maxBytes?: number }>,
  ): Promise<FileDownloadReport> {
    return downloadFile({
      url: from,
      dest,
      sha256: fileSha,
      ...limits,
      signal: run.active.controller.signal,
      policy: this.#options.policy ?? DEFAULT_POLICY,
      fetch: this.#options.fetch,
      onProgress: (p: FileProgress) => {
        run.phase = p.phase;
        run.attempt = p.attempt;
        run.resumedFromBytes = p.resumedFrom;
        if (p.phase === 'verifying') {
          this.#emit(run, { receivedBytes: p.bytes, totalBytes: p.totalBytes });
          return;
        }
        run.active.state.receivedBytes = done + p.bytes;
        this.#emit(run, p.message ? { message: p.message } : {});
      },
    });
  }

  /** Stops a download (its files stay for a resume unless `discard`); false when there was nothing to stop. */
  async cancel(downloadId: string, discard: boolean): Promise<boolean> {
    const active = this.#active.get(downloadId);
    if (active) {
      active.controller.abort();
      await active.done.catch(() => undefined);
    }
    const stopped = await stat(this.#stateFile(downloadId)).then(
      () => true,
      () => false,
    );
    if (discard) await this.discard(downloadId);
    return active !== undefined || (discard && stopped);
  }

  async #writeState(downloadId: string, state: SavedState): Promise<void> {
    await writeFile(this.#stateFile(downloadId), JSON.stringify(state)).catch(() => undefined);
  }

  async discard(downloadId: string): Promise<void> {
    await rm(this.#stage(downloadId), { recursive: true, force: true });
    await rm(this.#stateFile(downloadId), { force: true });
  }

  /** Running downloads, then stopped ones with their bytes on disk. */
  async list(): Promise<Array<DownloadState>> {
    const states: Array<DownloadState> = [...this.#active.values()].map((a) => ({ ...a.state }));
    let names: Array<string>;
    try {
      names = await readdir(this.#root);
    } catch {
      return states;
    }
    for (const name of names.sort()) {
      const downloadId = name.replace(/\.json$/, '');
      if (!/^[0-9a-f]{16}\.json$/.test(name) || this.#active.has(downloadId)) continue;
      try {
        const saved = JSON.parse(await readFile(path.join(this.#root, name), 'utf8')) as Partial<SavedState>;
        const { url, sha256 } = saved;
        if (typeof url !== 'string' || typeof sha256 !== 'string') continue;
        const stopped: DownloadStop =
          saved.stopped === 'paused' || saved.stopped === 'failed' ? saved.stopped : 'interrupted';
        const stage = this.#stage(downloadId);
        const manifest = await readBundleManifest(stage).catch(() => null);
        states.push({
          downloadId,
          url,
          sha256,
          name: manifest?.name ?? null,
          active: false,
          receivedBytes: manifest ? await bytesPresent(stage, manifest) : 0,
          totalBytes: manifest ? bundleBytes(manifest) : null,
          stopped,
          ...(stopped === 'failed' && typeof saved.message === 'string'
            ? { message: saved.message.slice(0, 1024) }
            : {}),
        });
      } catch {
        // A state file we cannot read is not a download anyone can resume.
      }
    }
    return states;
  }
}
