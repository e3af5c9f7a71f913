// An image leaves the studio: copied to the clipboard, or dragged out to the desktop or another app. The desktop app
// does both natively through the host (the page cannot read vgt-file: images, and its session grants no
// permissions); a browser page copies with the async clipboard and drags a download (Chrome's DownloadURL).
import type { StudioApi } from '../../../electron/common/contract';

export type ImageRef = Readonly<{
  /** The library id; null for an image only shown (not saved). */
  id: number | null;
  /** What the page shows: a file URL or a data: URL. */
  src: string;
  /** The file name a download gets. */
  name: string;
}>;

function inApp(): boolean {
  return typeof window !== 'undefined' && 'vgt' in window && window.vgt !== undefined;
}

/** A PNG blob of what `src` shows (library files are PNGs; the clipboard wants the type said exactly). */
async function pngBlob(src: string, fetcher: typeof fetch): Promise<Blob> {
  const data = /^data:image\/png;base64,(.*)$/s.exec(src);
  if (data) return new Blob([Uint8Array.from(atob(data[1] ?? ''), (c) => c.charCodeAt(0))], { type: 'image/png' });
  const response = await fetcher(src);
  if (!response.ok) throw new Error(`The image could not be read (HTTP ${response.status}).`);
  return new Blob([await response.arrayBuffer()], { type: 'image/png' });
}

export type ClipboardLike = Pick<Clipboard, 'write'>;

/** Copies the image; throws an Error whose message says why it could not, in words for people. */
export async function copyImage(
  api: StudioApi,
  image: ImageRef,
  env: Readonly<{ clipboard?: ClipboardLike; fetch?: typeof fetch; app?: boolean }> = {},
): Promise<void> {
  if ((env.app ?? inApp()) && image.id !== null) {
    await api.call('library.copyImage', { id: image.id });
    return;
  }
  const clipboard = env.clipboard ?? (typeof navigator !== 'undefined' ? navigator.clipboard : undefined);
  if (!clipboard?.write || typeof ClipboardItem === 'undefined') {
    throw new Error(
      'This page cannot put images on the clipboard: browsers allow it only on a secure page (the app, https, or localhost).',
    );
  }
  try {
    // The blob as a promise: the write starts inside the click, as Safari requires.
    await clipboard.write([new ClipboardItem({ 'image/png': pngBlob(image.src, env.fetch ?? fetch) })]);
  } catch (error) {
    if ((error as Error).name === 'NotAllowedError') {
      throw new Error('The browser refused the clipboard. Allow clipboard access for this page, then try again.');
    }
    throw error;
  }
}

/**
 * Starts dragging the image out. The app hands the drag to the host (a real file); a browser drags a download of
 * the image, so dropping it on the desktop saves the file.
 */
export function dragImage(event: DragEvent, api: StudioApi, image: ImageRef, app = inApp()): void {
  if (app) {
    if (image.id === null) return;
    event.preventDefault();
    void api.call('library.startDrag', { id: image.id }).catch(() => undefined);
    return;
  }
  const transfer = event.dataTransfer;
  if (!transfer) return;
  draggingOut = true;
  // dragend comes after the drop, wherever it lands.
  event.target?.addEventListener('dragend', () => (draggingOut = false), { once: true });
  const url = new URL(image.src, window.location.href).href;
  transfer.effectAllowed = 'copy';
  transfer.setData('DownloadURL', `image/png:${image.name}:${url}`);
  transfer.setData('text/uri-list', url);
}

/** Whether one of the page's own images is being dragged out (a drop back on the page is then no import). */
let draggingOut = false;

/** A drop of the page's own drag-out: nothing to import (the browser drags a download, not a file). */
export function isOwnImageDrop(): boolean {
  return draggingOut;
}
