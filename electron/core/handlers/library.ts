// Library and queue calls: thin adapters from the contract to the library service (electron/store/library.ts).
import type { LibraryChange } from '../../store/library';
import type { Handlers } from '../dispatch';
import type { EventHub } from '../events';
import type { Services } from '../services';

type LibraryCalls = Extract<keyof Handlers, `library.${string}` | `queue.${string}`>;

const OK = { ok: true } as const;

export function libraryHandlers(services: Services): Pick<Handlers, LibraryCalls> {
  const library = () => services.library.get();
  return {
    'library.list': async (request) => (await library()).list(request),
    'library.search': async (request) => (await library()).search(request),
    'library.get': async ({ id }) => (await library()).get(id),
    'library.update': async ({ ids, favorite, rating }) => ({
      updated: await (await library()).update(ids, { favorite, rating }),
    }),
    'library.delete': async ({ ids }) => (await library()).delete(ids),
    'library.tag': async ({ ids, add, remove }) => {
      await (await library()).tag(ids, add, remove);
      return OK;
    },
    'library.tags': async ({ prefix, limit }) => ({ tags: [...(await (await library()).tags(prefix, limit))] }),
    'library.tags.rename': async ({ from, to }) => {
      await (await library()).renameTag(from, to);
      return OK;
    },
    'library.tags.delete': async ({ name }) => {
      await (await library()).deleteTag(name);
      return OK;
    },
    'library.boards': async () => ({ boards: [...(await (await library()).boards())] }),
    'library.boards.create': async ({ name }) => (await library()).createBoard(name),
    'library.boards.rename': async ({ id, name }) => {
      await (await library()).renameBoard(id, name);
      return OK;
    },
    'library.boards.delete': async ({ id }) => {
      await (await library()).deleteBoard(id);
      return OK;
    },
    'library.boards.add': async ({ boardId, ids }) => {
      await (await library()).addToBoard(boardId, ids);
      return OK;
    },
    'library.boards.remove': async ({ boardId, ids }) => {
      await (await library()).removeFromBoard(boardId, ids);
      return OK;
    },
    'library.import': async ({ png }) => (await library()).importPng(Buffer.from(png, 'base64')),
    'library.repair': async () => (await library()).repair(),
    'library.recover': () => services.library.recover(),
    'queue.list': async () => ({ items: [...(await (await library()).queue())] }),
    'queue.move': async ({ id, before }) => {
      await (await library()).moveJob(id, before);
      return OK;
    },
    'queue.cancel': async ({ id }) => (await library()).cancel(id),
    'queue.retry': async ({ id }) => (await library()).retry(id),
  };
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
