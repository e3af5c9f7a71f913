// The desktop shell's abilities the core asks for (core/services.ts DesktopCapabilities): reveal a file in the OS
// file manager, and the native dialogs that pick where an export goes. Built from the Electron objects main passes in,
// so tests can drive it with fakes; the core never imports Electron.
import path from 'node:path';
import type { BrowserWindow, Dialog, Shell } from 'electron';
import type { DesktopCapabilities } from '../core/services';

export type DesktopDeps = Readonly<{
  shell: Pick<Shell, 'showItemInFolder'>;
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  /** The window a dialog belongs to (modal to it), if any is open. */
  window: () => BrowserWindow | null;
  /** Where a save dialog starts (the user's Downloads folder). */
  downloadsDir: () => string;
}>;

export function desktopCapabilities(deps: DesktopDeps): DesktopCapabilities {
  return {
    revealFile: (file) => deps.shell.showItemInFolder(file),
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
