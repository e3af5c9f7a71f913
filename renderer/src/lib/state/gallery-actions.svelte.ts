// What the Gallery does to its selection: favourite, rate, tag, add to a board, move to the trash (with Undo),
// restore, delete for good. Each action says what it did in a toast (which never moves the grid) and keeps the
// loaded items and the detail panel in step, so nothing on screen shows a state the library no longer has.
import type { StudioApi } from '../../../../electron/common/contract';
import type { Board } from '../../../../electron/common/api/library';
import { detailsOf, messageOf } from '../errors';
import type { GalleryState } from './gallery.svelte';
import type { ToastState } from './toasts.svelte';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class GalleryActions {
  boards = $state.raw<ReadonlyArray<Board>>([]);
  readonly #api: StudioApi;
  readonly #gallery: GalleryState;
  readonly #toasts: ToastState;

  constructor(api: StudioApi, gallery: GalleryState, toasts: ToastState) {
    this.#api = api;
    this.#gallery = gallery;
    this.#toasts = toasts;
  }

  async loadBoards(): Promise<void> {
    try {
      this.boards = (await this.#api.call('library.boards', {})).boards;
    } catch {
      this.boards = [];
    }
  }

  /** Runs one action; its failure becomes an error toast with the technical text behind Details. */
  async #run(action: () => Promise<string | null>): Promise<boolean> {
    try {
      const done = await action();
      if (done) this.#toasts.show({ message: done });
      return true;
    } catch (error) {
      this.#toasts.show({ message: messageOf(error), tone: 'error', details: detailsOf(error), timeoutMs: 0 });
      return false;
    }
  }

  #ids(): Array<number> {
    return [...this.#gallery.selected];
  }

  favorite(value: boolean): Promise<boolean> {
    const ids = this.#ids();
    return this.#run(async () => {
      await this.#api.call('library.update', { ids, favorite: value });
      this.#gallery.patch(ids, { favorite: value });
      this.#gallery.detail.patch({ favorite: value });
      return value
        ? `Marked ${plural(ids.length, 'image')} as favorite.`
        : `Removed ${plural(ids.length, 'favorite')}.`;
    });
  }

  rate(id: number, rating: number): Promise<boolean> {
    return this.#run(async () => {
      this.#gallery.detail.patch({ rating });
      await this.#api.call('library.update', { ids: [id], rating });
      this.#gallery.patch([id], { rating });
      return null;
    });
  }

  tag(text: string): Promise<boolean> {
    const names = text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const ids = this.#ids();
    if (names.length === 0 || ids.length === 0) return Promise.resolve(false);
    return this.#run(async () => {
      await this.#api.call('library.tag', { ids, add: names });
      return `Tagged ${plural(ids.length, 'image')} “${names.join(', ')}”.`;
    });
  }

  addToBoard(raw: string): Promise<boolean> {
    const name = raw.trim();
    const ids = this.#ids();
    if (!name || ids.length === 0) return Promise.resolve(false);
    return this.#run(async () => {
      const board =
        this.boards.find((b) => b.name.toLowerCase() === name.toLowerCase()) ??
        (await this.#api.call('library.boards.create', { name }));
      await this.#api.call('library.boards.add', { boardId: board.id, ids });
      await this.loadBoards();
      return `Added ${plural(ids.length, 'image')} to ${board.name}.`;
    });
  }

  /** Moves the selection to the trash at once (no dialog) with an Undo in the toast. */
  trash(): Promise<boolean> {
    const ids = this.#ids();
    if (ids.length === 0) return Promise.resolve(false);
    return this.#run(async () => {
      await this.#api.call('library.trash', { ids });
      this.#gallery.remove(ids);
      this.#toasts.show({
        message: `Moved ${plural(ids.length, 'image')} to the trash.`,
        action: { label: 'Undo', run: () => void this.restore(ids) },
      });
      await this.loadBoards();
      return null;
    });
  }

  restore(ids: ReadonlyArray<number> = this.#ids()): Promise<boolean> {
    if (ids.length === 0) return Promise.resolve(false);
    return this.#run(async () => {
      const { restored } = await this.#api.call('library.restore', { ids: [...ids] });
      if (this.#gallery.inTrash) this.#gallery.remove(ids);
      else void this.#gallery.refresh();
      await this.loadBoards();
      return `Restored ${plural(restored, 'image')}.`;
    });
  }

  /** In the trash: deletes the selection, or all of it, for good (files included). */
  deleteForever(all: boolean): Promise<boolean> {
    const ids = this.#ids();
    return this.#run(async () => {
      const { deleted } = await this.#api.call('library.trash.empty', all ? {} : { ids });
      if (all) void this.#gallery.refresh();
      else this.#gallery.remove(ids);
      return `Deleted ${plural(deleted, 'image')} for good.`;
    });
  }

  copy(text: string, done: string): Promise<boolean> {
    return this.#run(async () => {
      await navigator.clipboard.writeText(text);
      return done;
    });
  }
}
