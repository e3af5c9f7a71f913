// The desktop shell's abilities the core asks for (core/services.ts DesktopCapabilities): reveal a file in the OS
// file manager, the native dialogs that pick where an export goes, and an image put on the clipboard or dragged out.
// Built from the Electron objects main passes in, so tests can drive it with fakes; the core never imports Electron.
import path from 'node:path';
import type { BrowserWindow, Clipboard, Dialog, NativeImage, Shell } from 'electron';
import { StudioError } from '../common/errors';
import type { DesktopCapabilities } from '../core/services';

export type DesktopDeps = Readonly<{
  shell: Pick<Shell, 'showItemInFolder'>;
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  /** The window a dialog belongs to (modal to it), if any is open. */
  window: () => BrowserWindow | null;
  /** Where a save dialog starts (the user's Downloads folder). */
  downloadsDir: () => string;
  clipboard: Pick<Clipboard, 'writeImage'>;
  /** Electron's nativeImage.createFromPath. */
  imageFromPath: (file: string) => NativeImage;
}>;

/** The picture under the pointer while a file is dragged out. */
const DRAG_ICON_PX = 64;

export function desktopCapabilities(deps: DesktopDeps): DesktopCapabilities {
  return {
    revealFile: (file) => deps.shell.showItemInFolder(file),
    copyImage: (file) => {
      const image = deps.imageFromPath(file);
      if (image.isEmpty()) throw new StudioError('IMAGE_INVALID', 'The image file could not be read.');
      deps.clipboard.writeImage(image);
    },
    startDrag: (file) => {
      const window = deps.window();
      if (!window) return;
      const icon = deps.imageFromPath(file);
      // Electron wants a non-empty icon (macOS throws without one).
      window.webContents.startDrag({ file, icon: icon.isEmpty() ? icon : icon.resize({ width: DRAG_ICON_PX }) });
    },
    chooseFolder: async (title) => {
      const options = { title, buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] } as const;
      const window = deps.window();
      const answer = window
        ? await deps.dialog.showOpenDialog(window, { ...options, properties: [...options.properties] })
        : await deps.dialog.showOpenDialog({ ...options, properties: [...options.properties] });
      return answer.canceled ? null : (answer.filePaths[0] ?? null);
    },
    chooseSaveFile: async (title, defaultName, filter) => {
      const options = {
        title,
        defaultPath: path.join(deps.downloadsDir(), defaultName),
        filters: [{ name: filter.name, extensions: [...filter.extensions] }],
      };
      const window = deps.window();
      const answer = window
        ? await deps.dialog.showSaveDialog(window, options)
        : await deps.dialog.showSaveDialog(options);
      return answer.canceled || !answer.filePath ? null : answer.filePath;
    },
  };
}
