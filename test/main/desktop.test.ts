// The desktop capabilities main gives the core, driven with fake Electron objects: reveal goes to
// shell.showItemInFolder, dialogs are modal to the window, and a cancelled dialog answers null.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { desktopCapabilities, type DesktopDeps } from '../../electron/main/desktop';

function fakes(answers: {
  open?: { canceled: boolean; filePaths: Array<string> };
  save?: { canceled: boolean; filePath?: string };
}) {
  const calls: Array<[string, ...Array<unknown>]> = [];
  const window = {
    id: 1,
    webContents: { startDrag: (item: unknown) => void calls.push(['drag', item]) },
  } as unknown as ReturnType<DesktopDeps['window']>;
  /** A fake nativeImage: empty for files named `empty…`. */
  const image = (file: string, width = 128) => ({
    file,
    width,
    isEmpty: () => path.basename(file).startsWith('empty'),
    resize: ({ width }: { width: number }) => image(file, width),
  });
  const deps = {
    clipboard: { writeImage: (img: unknown) => void calls.push(['clipboard', img]) },
    imageFromPath: (file: string) => image(file),
    shell: { showItemInFolder: (file: string) => void calls.push(['reveal', file]) },
    dialog: {
      showOpenDialog: async (...args: Array<unknown>) => (calls.push(['open', ...args]), answers.open),
      showSaveDialog: async (...args: Array<unknown>) => (calls.push(['save', ...args]), answers.save),
    },
    window: () => window,
    downloadsDir: () => '/home/u/Downloads',
  } as unknown as DesktopDeps;
  return { deps, calls, window };
}

describe('desktop capabilities', () => {
  it('reveals a file with the shell', () => {
    const { deps, calls } = fakes({});
    desktopCapabilities(deps).revealFile('/data/images/ab/x.png');
    expect(calls).toEqual([['reveal', '/data/images/ab/x.png']]);
  });

  it('puts an image on the clipboard, and refuses a file that is no image', () => {
    const { deps, calls } = fakes({});
    desktopCapabilities(deps).copyImage('/data/images/ab/x.png');
    expect(calls).toEqual([['clipboard', expect.objectContaining({ file: '/data/images/ab/x.png' })]]);
    expect(() => desktopCapabilities(deps).copyImage('/data/empty.png')).toThrow(
      expect.objectContaining({ code: 'IMAGE_INVALID' }),
    );
    expect(calls).toHaveLength(1);
  });

  it('drags a file out of the window with a small picture of it', () => {
    const { deps, calls } = fakes({});
    desktopCapabilities(deps).startDrag('/data/images/ab/x.png');
    expect(calls).toEqual([
      [
        'drag',
        { file: '/data/images/ab/x.png', icon: expect.objectContaining({ file: '/data/images/ab/x.png', width: 64 }) },
      ],
    ]);
    const none = fakes({});
    desktopCapabilities({ ...none.deps, window: () => null }).startDrag('/data/x.png');
    expect(none.calls).toEqual([]);
  });

  it('asks for a folder in a dialog of the window, and says null when cancelled', async () => {
    const picked = fakes({ open: { canceled: false, filePaths: ['/home/u/out'] } });
    expect(await desktopCapabilities(picked.deps).chooseFolder('Export 2 images')).toBe('/home/u/out');
    expect(picked.calls[0]).toEqual([
      'open',
      picked.window,
      expect.objectContaining({ title: 'Export 2 images', properties: ['openDirectory', 'createDirectory'] }),
    ]);
    const cancelled = fakes({ open: { canceled: true, filePaths: [] } });
    expect(await desktopCapabilities(cancelled.deps).chooseFolder('x')).toBeNull();
  });

  it('asks where to save a zip, starting in Downloads with the suggested name', async () => {
    const saved = fakes({ save: { canceled: false, filePath: '/home/u/a.zip' } });
    const filter = { name: 'Zip archive', extensions: ['zip'] };
    expect(await desktopCapabilities(saved.deps).chooseSaveFile('Export', 'vgt.zip', filter)).toBe('/home/u/a.zip');
    expect(saved.calls[0]).toEqual([
      'save',
      saved.window,
      { title: 'Export', defaultPath: path.join('/home/u/Downloads', 'vgt.zip'), filters: [filter] },
    ]);
    const cancelled = fakes({ save: { canceled: true, filePath: '' } });
    expect(await desktopCapabilities(cancelled.deps).chooseSaveFile('Export', 'vgt.zip', filter)).toBeNull();
  });
});
