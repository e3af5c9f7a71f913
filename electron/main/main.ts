// Electron main: window, protocols and IPC registration. Everything with logic lives in core/ and is tested under Node.
import { app, BrowserWindow, ipcMain, net, protocol, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StudioEvent } from '../common/contract';
import { StudioError, toErrorPayload } from '../common/errors';
import { resolveHome, resolveInside } from '../core/paths';
import { createStudio, type Studio } from '../core/studio';
import {
  APP_CSP,
  APP_HOST,
  APP_ORIGIN,
  APP_SCHEME,
  FILE_SCHEME,
  WEB_PREFERENCES,
  isSafeExternalUrl,
  isTrustedSenderUrl,
} from './security';

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

function registerProtocols(home: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('Not found', { status: 404 });
    try {
      const file = resolveInside(rendererRoot(), decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html');
      const response = await net.fetch(pathToFileURL(file).toString());
      const headers = new Headers(response.headers);
      headers.set('Content-Security-Policy', APP_CSP);
      headers.set('X-Content-Type-Options', 'nosniff');
      return new Response(response.body, { status: response.status, headers });
    } catch (error) {
      const payload = toErrorPayload(error);
      return new Response(payload.message, { status: payload.code === 'NOT_FOUND' ? 404 : 403 });
    }
  });
  protocol.handle(FILE_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      const file = resolveInside(home, decodeURIComponent(`${url.host}${url.pathname}`));
      return await net.fetch(pathToFileURL(file).toString());
    } catch (error) {
      const payload = toErrorPayload(error);
      return new Response(payload.message, { status: payload.code === 'NOT_FOUND' ? 404 : 403 });
    }
  });
}

function hardenContents(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isTrustedSenderUrl(url, devServerUrl)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isSafeExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

function registerIpc(host: Studio): void {
  ipcMain.handle('vgt:call', async (event, name: unknown, payload: unknown) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null || !isTrustedSenderUrl(frame.url, devServerUrl)) {
      return { ok: false, error: new StudioError('FORBIDDEN').toPayload() };
    }
    return host.handle(name, payload);
  });
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
  studio = createStudio({ home, mode: 'app', electronVersion: process.versions.electron });
  hardenContents();
  registerProtocols(home);
  registerIpc(studio);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
