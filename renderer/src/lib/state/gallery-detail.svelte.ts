// The Gallery's detail panel: the full record of the item the user last picked, loaded by id and kept in step with
// the library. A change to it (tags, boards, rating, favourite, here or in another window) reloads it; when it is
// deleted or moved to the trash the panel empties at once, so no button acts on an image that is gone.
import type { StudioApi } from '../../../../electron/common/contract';
import type { GenerationRecord } from '../../../../electron/common/api/library';
import { messageOf } from '../errors';

export class GalleryDetailState {
  record = $state.raw<GenerationRecord | null>(null);
  error = $state<string | null>(null);
  /** Why opening the current item's folder failed; cleared when another item is shown. */
  revealError = $state<string | null>(null);
  /** The id the panel should show; answers for any other id are dropped. */
  #want: number | null = null;
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  get id(): number | null {
    return this.#want;
  }

  /** Shows the generation `id` (null: nothing). A reload of the same id keeps the old record on screen meanwhile. */
  async show(id: number | null): Promise<void> {
    if (id !== this.#want) {
      this.record = null;
      this.revealError = null;
    }
    this.#want = id;
    this.error = null;
    if (id === null) return;
    try {
      const record = await this.#api.call('library.get', { id });
      if (this.#want === id) this.record = record;
    } catch (error) {
      if (this.#want !== id) return;
      this.record = null;
      this.error = messageOf(error);
    }
  }

  /** A library change: `ids` empty means "many, reload". */
  changed(change: 'added' | 'updated' | 'removed', ids: ReadonlyArray<number>): void {
    const id = this.#want;
    if (id === null) return;
    if (change === 'removed' && ids.includes(id)) {
      this.#want = null;
      this.record = null;
      this.error = null;
    } else if (change !== 'removed' && (ids.length === 0 || ids.includes(id))) {
      void this.show(id);
    }
  }

  /** Shows the current item's file in the system's file manager (where the host can). */
  async reveal(): Promise<void> {
    if (!this.record) return;
    this.revealError = null;
    try {
      await this.#api.call('library.reveal', { id: this.record.id });
    } catch (error) {
      this.revealError = messageOf(error);
    }
  }

  /** Applies a change made here before the library confirms it (a rating click shows at once). */
  patch(change: Partial<Pick<GenerationRecord, 'rating' | 'favorite'>>): void {
    if (this.record) this.record = { ...this.record, ...change };
  }
}
