// The renderer's one client. In the desktop app the preload exposes `window.vgt`; in web mode calls go over HTTP.
// Views get a StudioApi and cannot tell which transport carries it.
import type { PreloadBridge, StudioApi } from '../../../../electron/common/contract';
import { createHttpApi } from './http';
import { createPreloadApi } from './preload';

declare global {
  interface Window {
    vgt?: PreloadBridge;
  }
}

export function createClient(): StudioApi {
  if (window.vgt) return createPreloadApi(window.vgt);
  const token = document.querySelector<HTMLMetaElement>('meta[name="vgt-token"]')?.content ?? '';
  return createHttpApi({ baseUrl: new URL('./api/', window.location.href).toString(), token });
}
