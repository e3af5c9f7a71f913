// Model downloads as the Models view shows them: the host's list (running ones, and stopped ones whose files wait on
// disk, also after a restart) merged with the live `models.download` events. Each row knows what can be done with it:
// pause a running one, resume or cancel (discard) a stopped one. Verifying is a phase of its own with its own bar, so a
// long checksum pass of a big file never looks like a hang.
import type { StudioApi, StudioEvent } from '../../../../electron/common/contract';
import type { DownloadPhase, DownloadProgress, DownloadState, Model } from '../../../../electron/common/api/models';
import { codeOf, messageOf } from '../errors';

export type DownloadStatus = 'running' | 'paused' | 'failed' | 'interrupted';

export type DownloadRow = Readonly<{
  downloadId: string;
  url: string;
  /** Null only for a download another window started, until the host's list names it. */
  sha256: string | null;
  name: string | null;
  status: DownloadStatus;
  /** The phase of a running download; null for a stopped one. */
  phase: DownloadPhase | null;
  /** What the row says: the phase, or how it stopped. */
  label: string;
  /** Bytes of the whole bundle on disk, of its size (null until the manifest is in). */
  receivedBytes: number;
  totalBytes: number | null;
  /** 0–1 of the whole bundle; null while its size is unknown. */
  fraction: number | null;
  /** While verifying: the file being checked and how far. */
  verifying: Readonly<{ file: string | null; fraction: number }> | null;
  bytesPerSecond: number;
  attempt: number;
  /** Bytes an earlier session had kept of the current file (a resume). */
  resumedFromBytes: number;
  message: string | null;
  canPause: boolean;
  canResume: boolean;
  canCancel: boolean;
  /** An action on this row is in flight. */
  pending: boolean;
}>;

export const PHASE_LABELS: Record<DownloadPhase, string> = {
  preparing: 'Preparing',
  downloading: 'Downloading',
  retrying: 'Retrying',
  verifying: 'Verifying checksums',
  installing: 'Installing',
  done: 'Installed',
  failed: 'Failed',
  cancelled: 'Paused',
};

const STOPPED_LABELS: Record<Exclude<DownloadStatus, 'running'>, string> = {
  paused: 'Paused',
  failed: 'Failed',
  interrupted: 'Interrupted: the studio closed while it ran',
};

const ENDED: ReadonlyArray<DownloadPhase> = ['done', 'failed', 'cancelled'];

type Bytes = Readonly<{ received: number; total: number | null }>;

export class DownloadsState {
  /** The host's list, as of the last load. */
  states = $state.raw<ReadonlyArray<DownloadState>>([]);
  /** The newest event per download. */
  progress = $state.raw<Readonly<Record<string, DownloadProgress>>>({});
  /** Bundle bytes per download from the newest event that carried them (verifying events carry one file's). */
  #bytes = $state.raw<Readonly<Record<string, Bytes>>>({});
  #pending = $state.raw<ReadonlyArray<string>>([]);
  error = $state<string | null>(null);
  /** The last thing that finished well ("Installed …", "Paused …"). */
  message = $state<string | null>(null);

  rows = $derived(this.#rows());

  readonly #api: StudioApi;
  readonly #onInstalled: (model: Model) => void;
  readonly #unsubscribe: () => void;
  #loads = 0;

  constructor(api: StudioApi, options: Readonly<{ onInstalled?: (model: Model) => void }> = {}) {
    this.#api = api;
    this.#onInstalled = options.onInstalled ?? (() => undefined);
    this.#unsubscribe = api.subscribe((event: StudioEvent) => {
      if (event.type === 'models.download') this.handle(event.data);
    });
  }

  dispose(): void {
    this.#unsubscribe();
  }

  /** Reads the host's list; the newest answer wins when loads overlap. */
  async load(): Promise<void> {
    const ticket = ++this.#loads;
    try {
      const { downloads } = await this.#api.call('models.downloads', {});
      if (ticket !== this.#loads) return;
      this.states = downloads;
      // Events of downloads the host no longer lists (installed, discarded) have nothing left to show.
      const listed = downloads.map((d) => d.downloadId);
      this.progress = Object.fromEntries(Object.entries(this.progress).filter(([id]) => listed.includes(id)));
    } catch (error) {
      if (ticket === this.#loads) this.error = messageOf(error);
    }
  }

  /** Applies one progress event. */
  handle(event: DownloadProgress): void {
    this.progress = { ...this.progress, [event.downloadId]: event };
    if (event.phase !== 'verifying') {
      this.#bytes = {
        ...this.#bytes,
        [event.downloadId]: { received: event.receivedBytes, total: event.totalBytes },
      };
    }
    const known = this.states.some((d) => d.downloadId === event.downloadId);
    // A download started elsewhere (another window, the CLI) or one that just ended: the list says the rest.
    if (!known || ENDED.includes(event.phase)) void this.load();
  }

  /** Starts a download (or resumes one: the same URL and sha256 find its files); answers once it is installed. */
  start(url: string, sha256: string): Promise<void> {
    return this.#download(url.trim(), sha256.trim());
  }

  /** Continues a stopped download from the bytes on disk. */
  resume(downloadId: string): Promise<void> {
    const row = this.rows.find((r) => r.downloadId === downloadId);
    if (!row?.canResume || row.sha256 === null) return Promise.resolve();
    return this.#download(row.url, row.sha256, downloadId);
  }

  /** Stops a running download; its files stay for a resume, also after a restart. */
  pause(downloadId: string): Promise<void> {
    return this.#act(downloadId, async () => {
      await this.#api.call('models.cancelDownload', { downloadId, discard: false });
      this.message = 'Paused; the downloaded part is kept, also when the studio restarts.';
    });
  }

  /** Stops a download if it runs and deletes what it downloaded. */
  cancel(downloadId: string): Promise<void> {
    return this.#act(downloadId, async () => {
      await this.#api.call('models.cancelDownload', { downloadId, discard: true });
      const { [downloadId]: _gone, ...rest } = this.progress;
      this.progress = rest;
      this.states = this.states.filter((d) => d.downloadId !== downloadId);
      this.message = 'Cancelled; its files were deleted.';
    });
  }

  async #download(url: string, sha256: string, downloadId?: string): Promise<void> {
    this.error = null;
    this.message = null;
    if (downloadId) {
      // The row runs again from here: drop the old ending so it does not flash "Paused" until the first event.
      const { [downloadId]: _old, ...rest } = this.progress;
      this.progress = rest;
      this.states = this.states.map((d) =>
        d.downloadId === downloadId ? { ...d, active: true, stopped: null, message: undefined } : d,
      );
    }
    try {
      // The call answers when the bundle is installed; progress arrives as events meanwhile.
      const { model } = await this.#api.call('models.download', { url, sha256 });
      this.message = `Downloaded and verified ${model.name}.`;
      this.#onInstalled(model);
    } catch (error) {
      await this.load();
      // A pause ends the call with CANCELLED: that is what the user asked for, not an error. A failure that kept its
      // files shows in its row; one that kept nothing (a wrong URL or sha256) shows here.
      const listed = this.states.some((d) => d.url === url && d.sha256 === sha256.toLowerCase());
      if (codeOf(error) !== 'CANCELLED' && !listed) this.error = messageOf(error);
      return;
    }
    await this.load();
  }

  async #act(downloadId: string, action: () => Promise<void>): Promise<void> {
    this.error = null;
    this.message = null;
    this.#pending = [...this.#pending, downloadId];
    try {
      await action();
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.#pending = this.#pending.filter((id) => id !== downloadId);
    }
    await this.load();
  }

  #rows(): Array<DownloadRow> {
    const rows: Array<DownloadRow> = [];
    const ids = [
      ...this.states.map((d) => d.downloadId),
      ...Object.keys(this.progress).filter((id) => !this.states.some((d) => d.downloadId === id)),
    ];
    for (const id of ids) {
      const state = this.states.find((d) => d.downloadId === id);
      const event = this.progress[id];
      // Installed, or ended with nothing listed (a failure that kept nothing): no row.
      if (event?.phase === 'done' || (!state && (!event || ENDED.includes(event.phase)))) continue;
      const running = event ? !ENDED.includes(event.phase) : (state?.active ?? false);
      const status: DownloadStatus = running
        ? 'running'
        : event?.phase === 'cancelled'
          ? 'paused'
          : event?.phase === 'failed'
            ? 'failed'
            : (state?.stopped ?? 'interrupted');
      const bytes = this.#bytes[id];
      const received = running && bytes ? bytes.received : (state?.receivedBytes ?? bytes?.received ?? 0);
      const total = state?.totalBytes ?? bytes?.total ?? null;
      const verifying =
        running && event?.phase === 'verifying'
          ? {
              file: event.file,
              fraction: event.totalBytes ? Math.min(1, event.receivedBytes / event.totalBytes) : 0,
            }
          : null;
      const message = (running ? event?.message : event?.phase === 'failed' ? event.message : state?.message) ?? null;
      const pending = this.#pending.includes(id);
      rows.push({
        downloadId: id,
        url: state?.url ?? event?.url ?? '',
        sha256: state?.sha256 ?? null,
        name: state?.name ?? null,
        status,
        phase: running ? (event?.phase ?? null) : null,
        // A running download listed before its next event (the page was reloaded) is just "Running" for a moment.
        label: running
          ? event
            ? PHASE_LABELS[event.phase]
            : 'Running'
          : STOPPED_LABELS[status as Exclude<DownloadStatus, 'running'>],
        receivedBytes: received,
        totalBytes: total,
        fraction: total ? Math.min(1, received / total) : null,
        verifying,
        bytesPerSecond: running && event?.phase === 'downloading' ? event.bytesPerSecond : 0,
        attempt: running ? (event?.attempt ?? 1) : 1,
        resumedFromBytes: running ? (event?.resumedFromBytes ?? 0) : 0,
        message,
        canPause: running && !pending,
        canResume: !running && !pending && (state?.sha256 ?? null) !== null,
        canCancel: !pending,
        pending,
      });
    }
    return rows;
  }
}
