// Library and queue calls: thin adapters from the contract to the library service (electron/store/library.ts).
import type { ExportResult, ExportTarget } from '../../common/api/library';
import { StudioError } from '../../common/errors';
import type { Library, LibraryChange } from '../../store/library';
import type { Handlers } from '../dispatch';
import type { EventHub } from '../events';
import { collectExport, exportFileName, exportManifest, saveZip, writeFolder } from '../export';
import { resolveInside } from '../paths';
import type { DesktopCapabilities, Services } from '../services';

type LibraryCalls = Extract<keyof Handlers, `library.${string}` | `queue.${string}`>;

const OK = { ok: true } as const;

export function libraryHandlers(services: Services): Pick<Handlers, LibraryCalls> {
  const library = () => services.library.get();
  /** For calls that answer only "done". */
  const act = async (run: (library: Library) => Promise<unknown>) => {
    await run(await library());
    return OK;
  };
  /** A generation's image file, checked to lie inside the data folder. */
  const imageFile = async (id: number): Promise<string> => {
    const record = await (await library()).get(id);
    if (record.file === null) throw new StudioError('NOT_FOUND', `Generation ${id} has no image file.`);
    return resolveInside(services.home, record.file);
  };
  return {
    'library.list': async (request) => (await library()).list(request),
    'library.search': async (request) => (await library()).search(request),
    'library.get': async ({ id }) => (await library()).get(id),
    'library.update': async ({ ids, favorite, rating }) => ({
      updated: await (await library()).update(ids, { favorite, rating }),
    }),
    'library.delete': async ({ ids }) => (await library()).delete(ids),
    'library.trash': async ({ ids }) => (await library()).trash(ids),
    'library.restore': async ({ ids }) => (await library()).restore(ids),
    'library.trash.empty': async ({ ids }) => (await library()).emptyTrash(ids),
    'library.tag': ({ ids, add, remove }) => act((l) => l.tag(ids, add, remove)),
    'library.tags': async ({ prefix, limit }) => ({ tags: [...(await (await library()).tags(prefix, limit))] }),
    'library.prompts': async ({ text, limit }) => ({ prompts: [...(await (await library()).prompts(text, limit))] }),
    'library.tags.rename': ({ from, to }) => act((l) => l.renameTag(from, to)),
    'library.tags.delete': ({ name }) => act((l) => l.deleteTag(name)),
    'library.boards': async () => ({ boards: [...(await (await library()).boards())] }),
    'library.boards.create': async ({ name }) => (await library()).createBoard(name),
    'library.boards.rename': ({ id, name }) => act((l) => l.renameBoard(id, name)),
    'library.boards.delete': ({ id }) => act((l) => l.deleteBoard(id)),
    'library.boards.add': ({ boardId, ids }) => act((l) => l.addToBoard(boardId, ids)),
    'library.boards.remove': ({ boardId, ids }) => act((l) => l.removeFromBoard(boardId, ids)),
    'library.import': async ({ png }) => (await library()).importPng(Buffer.from(png, 'base64')),
    'library.reveal': async ({ id }) => {
      needDesktop(services, 'Open file location').revealFile(await imageFile(id));
      return OK;
    },
    'library.copyImage': async ({ id }) => {
      needDesktop(services, 'Copying an image this way').copyImage(await imageFile(id));
      return OK;
    },
    'library.startDrag': async ({ id }) => {
      needDesktop(services, 'Dragging a file out').startDrag(await imageFile(id));
      return OK;
    },
    'library.export': ({ ids, to }) => exportImages(services, ids, to),
    'library.repair': async () => (await library()).repair(),
    'library.recover': () => services.library.recover(),
    'queue.list': async () => ({ items: [...(await (await library()).queue())] }),
    'queue.move': ({ id, before }) => act((l) => l.moveJob(id, before)),
    'queue.cancel': async ({ id }) => (await library()).cancel(id),
    'queue.retry': async ({ id }) => (await library()).retry(id),
  };
}

const HOST_NAMES = { web: 'web mode', cli: 'the command line', app: 'this app build' } as const;

function needDesktop(services: Services, what: string): DesktopCapabilities {
  if (services.desktop === null) {
    throw new StudioError('UNSUPPORTED', `${what} needs the desktop app; ${HOST_NAMES[services.mode]} cannot do it.`);
  }
  return services.desktop;
}

async function exportImages(services: Services, ids: ReadonlyArray<number>, to: ExportTarget): Promise<ExportResult> {
  if (to === 'download') {
    if (services.mode !== 'web') {
      throw new StudioError(
        'UNSUPPORTED',
        'Export downloads are served in web mode; the app saves to a place you pick.',
      );
    }
    const collected = await collectExport(services, ids);
    const ready = await services.exports.prepare(collected);
    return {
      status: 'ready',
      downloadId: ready.id,
      fileName: ready.fileName,
      expiresAt: ready.expiresAt.toISOString(),
      count: collected.entries.length,
      skipped: collected.skipped,
      bytes: ready.bytes,
    };
  }
  const desktop = needDesktop(services, 'Exporting to a file or folder');
  // Checked before the dialog: nothing to export is said at once, not after the user picked a place.
  const collected = await collectExport(services, ids);
  const { entries, skipped } = collected;
  const count = entries.length;
  const target =
    to === 'zip'
      ? await desktop.chooseSaveFile(`Export ${count} image${count === 1 ? '' : 's'}`, exportFileName(count), {
          name: 'Zip archive',
          extensions: ['zip'],
        })
      : await desktop.chooseFolder(`Export ${count} image${count === 1 ? '' : 's'} into a folder`);
  if (target === null) return { status: 'cancelled' };
  const bytes =
    to === 'zip' ? await saveZip(entries, exportManifest(entries), target) : await writeFolder(entries, target);
  return { status: 'saved', path: target, count, skipped, bytes };
}

/** The library's change feed as studio events (`library.changed`, `queue.changed`) for the renderer. */
export function forwardLibraryChange(events: EventHub, change: LibraryChange): void {
  if (change.kind === 'queue') {
    events.emit({
      type: 'queue.changed',
      data: { id: change.id, status: change.status, cancelRequested: change.cancelRequested },
    });
    return;
  }
  // A change to very many items is announced as "reload" (no ids) rather than as a huge event.
  const ids = change.ids.length <= 500 ? [...change.ids] : [];
  events.emit({ type: 'library.changed', data: { change: change.change, ids } });
}
