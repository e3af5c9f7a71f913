// The window's security settings and the checks main applies to every renderer request.
// Kept free of Electron imports so tests can read exactly what the app ships.
import { contentSecurityPolicy } from '../common/csp';

/** Custom scheme that serves the built renderer: a real origin, so CSP 'self' means "our files". */
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** Custom scheme for images in the library folder, confined to it (core/paths.resolveInside). */
export const FILE_SCHEME = 'vgt-file';

export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  spellcheck: false,
  // A middle click must not open links in new windows (the window-open handler refuses them too).
  disableBlinkFeatures: 'Auxclick',
} as const;

/** The CSP main adds to every response of the app scheme (the page also carries it as a meta tag). */
export const APP_CSP = contentSecurityPolicy([`${FILE_SCHEME}:`]);

/** IPC is answered only for the top frame of our own page (or the Vite dev server during `npm start` in development). */
export function isTrustedSenderUrl(url: string, devServerUrl?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return true;
  if (devServerUrl) {
    try {
      return parsed.origin === new URL(devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}

/** Links the user clicks open in the system browser only if they are plain https. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}
