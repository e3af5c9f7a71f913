// Session and window hardening, written against the few Electron methods it uses so tests can hand it fakes and
// check every rule: no permission is granted, no navigation leaves the app, no window opens, no <webview> attaches.
import type { Session, WebContents } from 'electron';
import { isSafeExternalUrl, isTrustedSenderUrl } from './security';

export type HardenOptions = Readonly<{ devServerUrl?: string; openExternal: (url: string) => void }>;

type PreventableEvent = { preventDefault(): void };

/** Camera, microphone, notifications, geolocation, USB/HID/serial devices…: the studio needs none, so all are refused. */
export function hardenSession(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>,
): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

export function hardenContents(
  contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>,
  options: HardenOptions,
): void {
  const on = contents.on.bind(contents) as (event: string, listener: (...args: Array<never>) => void) => void;
  const stayHome = (event: PreventableEvent, url: string) => {
    if (!isTrustedSenderUrl(url, options.devServerUrl)) event.preventDefault();
  };
  on('will-navigate', (event: PreventableEvent & { url: string }) => stayHome(event, event.url));
  // Subframes too: the page has no iframes, so none may be steered anywhere.
  on('will-frame-navigate', (event: PreventableEvent & { url: string }) => stayHome(event, event.url));
  on('will-redirect', (event: PreventableEvent) => event.preventDefault());
  on('will-attach-webview', (event: PreventableEvent, webPreferences: Record<string, unknown>) => {
    // Belt and braces: webviewTag is off, and a webview that slipped through would get no preload and no Node.
    delete webPreferences.preload;
    webPreferences.nodeIntegration = false;
    webPreferences.contextIsolation = true;
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) options.openExternal(url);
    return { action: 'deny' };
  });
}
