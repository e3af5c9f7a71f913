// Exporting the gallery's selection: one image is its PNG (it carries its parameters); several become a zip of PNGs
// plus a manifest. In web mode the host prepares the zip and the page downloads it once by its id; in the app the
// host asks where to save it (a zip file or a folder) with the OS's own dialog. What this host can do comes from
// doctor's `capabilities`, so the UI never offers a button that cannot work here.
import type { Doctor, StudioApi } from '../../../../electron/common/contract';
import type { ExportTarget, GalleryItem } from '../../../../electron/common/api/library';
import { messageOf } from '../errors';
import { formatBytes } from '../format';

export type Capabilities = Doctor['capabilities'];

/** Nothing is offered until the host has said what it can do. */
export const NO_CAPABILITIES: Capabilities = { revealFile: false, chooseLocation: false, downloads: false };

/** Starts a browser download of `href` named `name` (a link click; tests pass a recorder). */
export type Download = (href: string, name: string) => void;

export function linkDownload(href: string, name: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * A PNG's download name that says what it is: `vgt-<id>-<first words of the prompt>.png` (ASCII letters and
 * digits, at most 48 characters of prompt), e.g. `vgt-13-two-red-circles-above-a-blue.png`.
 */
export function exportName(item: Readonly<{ id: number; prompt: string }>): string {
  const words = item.prompt
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // accents off: é → e
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  // Whole words only, as many as fit in 48 characters.
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > 48) break;
    slug = next;
  }
  return slug ? `vgt-${item.id}-${slug}.png` : `vgt-${item.id}.png`;
}

/** Where the web server serves a prepared export (relative to the page, like /files/ images). */
export function exportUrl(downloadId: string): string {
  return `./files/export/${encodeURIComponent(downloadId)}.zip`;
}

export class ExportState {
  busy = $state(false);
  /** What the last export did, for a status line; null while nothing was exported. */
  message = $state<string | null>(null);
  error = $state<string | null>(null);
  capabilities = $state<Capabilities>(NO_CAPABILITIES);

  readonly #api: StudioApi;
  readonly #download: Download;
  readonly #fileUrl: (relative: string) => string;

  constructor(api: StudioApi, options: Readonly<{ download: Download; fileUrl: (relative: string) => string }>) {
    this.#api = api;
    this.#download = options.download;
    this.#fileUrl = options.fileUrl;
  }

  /** The targets to offer for `count` selected images, in order; the first is the "Export" button. */
  targets(count: number): ReadonlyArray<'png' | ExportTarget> {
    if (count <= 0) return [];
    const out: Array<'png' | ExportTarget> = [];
    if (count === 1) out.push('png');
    else if (this.capabilities.downloads) out.push('download');
    else if (this.capabilities.chooseLocation) out.push('zip');
    if (count > 1 && this.capabilities.chooseLocation) out.push('folder');
    return out;
  }

  /**
   * Exports `items` (the selection, in gallery order) to `to`: `png` downloads the one file as it is; the others go
   * through `library.export`. Errors are kept in `error`, never thrown: the toolbar shows them in place.
   */
  async export(items: ReadonlyArray<GalleryItem>, to: 'png' | ExportTarget): Promise<void> {
    const withFile = items.filter((i) => i.file !== null);
    this.error = null;
    this.message = null;
    if (withFile.length === 0) {
      this.error = 'Nothing to export: the selected generations have no finished image.';
      return;
    }
    if (to === 'png') {
      for (const item of withFile) this.#download(this.#fileUrl(item.file ?? ''), exportName(item));
      this.message = withFile.length === 1 ? 'Exported the PNG.' : `Exported ${withFile.length} PNGs.`;
      return;
    }
    this.busy = true;
    try {
      const result = await this.#api.call('library.export', { ids: withFile.map((i) => i.id), to });
      const skipped = 'skipped' in result && result.skipped > 0 ? ` (${result.skipped} without an image skipped)` : '';
      if (result.status === 'ready') {
        this.#download(exportUrl(result.downloadId), result.fileName);
        this.message = `Exported ${result.count} images as ${result.fileName}, ${formatBytes(result.bytes)}${skipped}.`;
      } else if (result.status === 'saved') {
        this.message = `Exported ${result.count} images to ${result.path}${skipped}.`;
      } else {
        this.message = 'Export cancelled: nothing was written.';
      }
    } catch (error) {
      this.error = `Export failed: ${messageOf(error)}`;
    } finally {
      this.busy = false;
    }
  }
}

/**
 * The absolute path of a library file (`images/ab/<hash>.png`, relative to the data folder, forward slashes) on the
 * machine the host runs on: shown where there is no file manager to open.
 */
export function libraryFilePath(dataDir: string, relative: string, platform: string): string {
  const sep = platform === 'win32' ? '\\' : '/';
  const base = dataDir.endsWith(sep) || dataDir.endsWith('/') ? dataDir.slice(0, -1) : dataDir;
  return [base, ...relative.split('/').filter(Boolean)].join(sep);
}
