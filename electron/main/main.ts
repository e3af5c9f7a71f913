// Electron main: window, protocols and IPC registration. Everything with logic lives in core/ and is tested under Node.
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  nativeImage,
  net,
  Notification,
  protocol,
  session,
  shell,
} from 'electron';
import electronUpdater from 'electron-updater';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StudioEvent } from '../common/contract';
import { resolveHome } from '../core/paths';
import { createStudio, type Studio } from '../core/studio';
import { desktopCapabilities } from './desktop';
import { followJobs } from './job-progress';
import { hardenContents, hardenSession } from './harden';
import { answerIpcCall } from './ipc';
import { resolveAppRequest, resolveLibraryRequest, type ProtocolAnswer } from './protocols';
import { APP_CSP, APP_ORIGIN, APP_SCHEME, FILE_SCHEME, WEB_PREFERENCES } from './security';
import { wireUpdates } from './updater';

declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string;

const devServerUrl = typeof MAIN_WINDOW_VITE_DEV_SERVER_URL === 'string' ? MAIN_WINDOW_VITE_DEV_SERVER_URL : undefined;

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: FILE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

// One instance: a second launch focuses the first instead of opening a second library writer.
if (!app.requestSingleInstanceLock()) app.quit();

let studio: Studio | null = null;

function rendererRoot(): string {
  return path.join(import.meta.dirname, '..', 'renderer', MAIN_WINDOW_VITE_NAME);
}

/** Serves a file the pure resolver allowed, or its refusal. */
async function serve(answer: ProtocolAnswer, headers: Record<string, string> = {}): Promise<Response> {
  if (!('file' in answer)) return new Response(answer.message, { status: answer.status });
  const response = await net.fetch(pathToFileURL(answer.file).toString());
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries({ 'X-Content-Type-Options': 'nosniff', ...headers })) {
    merged.set(name, value);
  }
  return new Response(response.body, { status: response.status, headers: merged });
}

function registerProtocols(home: string): void {
  protocol.handle(APP_SCHEME, (request) =>
    serve(resolveAppRequest(request.url, rendererRoot()), { 'Content-Security-Policy': APP_CSP }),
  );
  protocol.handle(FILE_SCHEME, (request) => serve(resolveLibraryRequest(request.url, home)));
}

function harden(): void {
  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) =>
    hardenContents(contents, { devServerUrl, openExternal: (url) => void shell.openExternal(url) }),
  );
}

function registerIpc(host: Studio): void {
  ipcMain.handle('vgt:call', (event, name: unknown, payload: unknown) =>
    answerIpcCall(host, event.senderFrame, name, payload, devServerUrl),
  );
  host.events.subscribe((studioEvent: StudioEvent) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send('vgt:event', studioEvent);
  });
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    title: 'VGT Studio',
    show: false,
    webPreferences: { ...WEB_PREFERENCES, preload: path.join(import.meta.dirname, 'preload.cjs') },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
}

app.on('second-instance', () => {
  const [window] = BrowserWindow.getAllWindows();
  if (window) {
    if (window.isMinimized()) window.restore();
    window.focus();
  }
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  void studio?.dispose();
});

void app.whenReady().then(() => {
  const home = process.env.VGT_STUDIO_HOME ? resolveHome() : app.getPath('userData');
  studio = createStudio({
    home,
    mode: 'app',
    electronVersion: process.versions.electron,
    desktop: desktopCapabilities({
      shell,
      dialog,
      window: () => BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0] ?? null,
      downloadsDir: () => app.getPath('downloads'),
      clipboard,
      imageFromPath: (file) => nativeImage.createFromPath(file),
    }),
  });
  harden();
  registerProtocols(home);
  registerIpc(studio);
  const events = studio.events;
  followJobs({
    subscribe: (listener) => events.subscribe(listener),
    window: () => BrowserWindow.getAllWindows()[0] ?? null,
    notify: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
  });
  createWindow();
  if (app.isPackaged) {
    void wireUpdates(electronUpdater.autoUpdater, {
      ask: async ({ message, detail, yes, no }) =>
        (await dialog.showMessageBox({ type: 'info', message, detail, buttons: [yes, no], defaultId: 0, cancelId: 1 }))
          .response === 0,
      log: (line) => console.warn(line),
    });
  }
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
