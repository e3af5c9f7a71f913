// Model calls over the registry and the download manager; download progress goes out as `models.download` events.
import { DownloadManager } from '../../models/download-manager';
import type { Handlers } from '../dispatch';
import type { Services } from '../services';

export function modelsHandlers(
  services: Services,
): Pick<
  Handlers,
  | 'models.list'
  | 'models.import'
  | 'models.remove'
  | 'models.setDefault'
  | 'models.download'
  | 'models.downloads'
  | 'models.cancelDownload'
> {
  const registry = services.models;
  const downloads = new DownloadManager({
    registry,
    onProgress: (data) => services.events.emit({ type: 'models.download', data }),
  });
  return {
    'models.list': async () => ({ models: await registry.list() }),
    'models.import': async ({ path, mode }, { signal }) => ({ model: await registry.import(path, mode, signal) }),
    'models.remove': ({ id }) => registry.remove(id),
    'models.setDefault': async ({ id }) => ({ model: await registry.setDefault(id) }),
    // Not tied to the request's signal: a download goes on when a page reloads, and stops by models.cancelDownload.
    'models.download': async ({ url, sha256 }) => ({ model: await downloads.download(url, sha256) }),
    'models.downloads': async () => ({ downloads: await downloads.list() }),
    'models.cancelDownload': async ({ downloadId, discard }) => ({
      cancelled: await downloads.cancel(downloadId, discard),
    }),
  };
}
