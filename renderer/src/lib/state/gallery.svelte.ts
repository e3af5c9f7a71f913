// The gallery's data: pages of items from the library (keyset pagination: each page continues from the last one's
// cursor), the query that produced them, the selection, the grid's scroll and the detail panel. The app holds one
// for its whole life, so search, filters, selection and scroll survive a switch to another view and back; it follows
// the library's changes meanwhile. A new query starts over; stale answers are dropped.
import type { StudioApi } from '../../../../electron/common/contract';
import type { GalleryFilters, GalleryItem, GallerySort } from '../../../../electron/common/api/library';
import { SvelteSet } from 'svelte/reactivity';
import { messageOf } from '../errors';
import { GalleryDetailState } from './gallery-detail.svelte';
import { VirtualGridState } from './virtual-grid.svelte';

const PAGE = 120;

export class GalleryState {
  items = $state.raw<ReadonlyArray<GalleryItem>>([]);
  total = $state(0);
  /** False when the library stopped counting (a large search): `total` is then a lower bound. */
  totalExact = $state(true);
  text = $state('');
  filters = $state<GalleryFilters>({});
  sort = $state<GallerySort>('newest');
  loading = $state(false);
  error = $state<string | null>(null);
  /** Selected item ids, and the item the detail panel shows. */
  readonly selected = new SvelteSet<number>();
  anchor = $state<number | null>(null);
  /** True once the first page was asked for: a view that mounts again keeps what is here. */
  started = $state(false);
  readonly grid = new VirtualGridState();
  readonly detail: GalleryDetailState;

  #api: StudioApi;
  #cursor: string | null = null;
  #done = false;
  /** The next page starts a new query: it replaces the items instead of extending them (no flash of "nothing"). */
  #replace = false;
  #generation = 0;
  #searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(api: StudioApi) {
    this.#api = api;
    this.detail = new GalleryDetailState(api);
  }

  /** True while the gallery shows the trash instead of the library. */
  get inTrash(): boolean {
    return this.filters.trashed === true;
  }

  /**
   * Follows the library while the app runs: removed items leave at once (and the detail panel with them), added
   * ones reload the first page, a change to the item in the detail panel reloads it. Returns the unsubscribe.
   */
  follow(): () => void {
    return this.#api.subscribe((event) => {
      if (event.type !== 'library.changed') return;
      const { change, ids } = event.data;
      if (change === 'removed' && ids.length > 0) this.remove(ids);
      else if (change !== 'updated' && this.started) void this.refresh();
      this.detail.changed(change, ids);
    });
  }

  /** Whether a search or a filter narrows what is shown (the trash is a place, not a filter). */
  get filtered(): boolean {
    return Boolean(this.text) || Object.keys(this.filters).some((k) => k !== 'trashed');
  }

  /** Sets one filter (undefined takes it away) and runs the query from the top. */
  setFilter<K extends keyof GalleryFilters>(key: K, value: GalleryFilters[K] | undefined): void {
    const rest = Object.fromEntries(Object.entries(this.filters).filter(([k]) => k !== key));
    this.filters = value === undefined ? rest : { ...rest, [key]: value };
    this.grid.scrollTop = 0;
    void this.refresh();
  }

  /** Drops the search and every filter, staying in the library or the trash. */
  clearFilters(): void {
    this.text = '';
    this.filters = this.inTrash ? { trashed: true } : {};
    void this.refresh();
  }

  /** The search box changed: the query runs once typing pauses. */
  search(): void {
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => void this.refresh(), 200);
  }

  /** The two selected images, the older first, when exactly two are selected outside the trash; else null. */
  get comparable(): readonly [number, number] | null {
    const [a, b, ...rest] = this.inTrash ? [] : [...this.selected];
    return a !== undefined && b !== undefined && rest.length === 0 ? [Math.min(a, b), Math.max(a, b)] : null;
  }

  /** Runs the current query from its first page. */
  async refresh(): Promise<void> {
    this.started = true;
    this.#generation++;
    this.#cursor = null;
    this.#done = false;
    this.#replace = true;
    await this.more();
  }

  /** Fetches the next page, unless one is on its way or there is none. */
  async more(): Promise<void> {
    if (this.loading || this.#done) return;
    const generation = this.#generation;
    this.loading = true;
    this.error = null;
    const base = {
      filters: Object.keys(this.filters).length > 0 ? this.filters : undefined,
      sort: this.sort,
      limit: PAGE,
      ...(this.#cursor ? { cursor: this.#cursor } : {}),
    };
    try {
      const text = this.text.trim();
      const page = text
        ? await this.#api.call('library.search', { ...base, text })
        : await this.#api.call('library.list', base);
      if (generation === this.#generation) {
        this.items = this.#replace ? page.items : [...this.items, ...page.items];
        this.#replace = false;
        this.total = page.total;
        this.totalExact = page.totalExact;
        this.#cursor = page.nextCursor;
        this.#done = page.nextCursor === null;
      }
    } catch (error) {
      if (generation === this.#generation) {
        this.error = messageOf(error);
        if (this.#replace) this.items = [];
      }
    } finally {
      this.loading = false;
    }
    // The query changed while this page was loading (its answer was dropped): fetch the new query's first page.
    if (generation !== this.#generation) await this.more();
  }

  /** Click semantics of file managers: plain selects one, Ctrl/Cmd toggles, Shift extends from the anchor. */
  select(index: number, mode: 'one' | 'toggle' | 'range'): void {
    const item = this.items[index];
    if (!item) return;
    if (mode === 'one') {
      this.selected.clear();
      this.selected.add(item.id);
    } else if (mode === 'toggle') {
      if (!this.selected.delete(item.id)) this.selected.add(item.id);
    } else {
      const from = this.items.findIndex((i) => i.id === this.anchor);
      const [lo, hi] = from < 0 ? [index, index] : [Math.min(from, index), Math.max(from, index)];
      for (const i of this.items.slice(lo, hi + 1)) this.selected.add(i.id);
    }
    if (mode !== 'range') this.anchor = item.id;
  }

  isSelected(index: number): boolean {
    const item = this.items[index];
    return item !== undefined && this.selected.has(item.id);
  }

  clearSelection(): void {
    this.selected.clear();
    this.anchor = null;
  }

  /** Switches between the library and its trash: a new query, nothing selected, back at the top. */
  showTrash(on: boolean): void {
    const rest = Object.fromEntries(Object.entries(this.filters).filter(([k]) => k !== 'trashed'));
    this.filters = on ? { ...rest, trashed: true } : rest;
    this.clearSelection();
    this.grid.scrollTop = 0;
    this.grid.focused = -1;
    void this.refresh();
  }

  /** Applies a change to the loaded items without reloading (favorite, rating). */
  patch(ids: ReadonlyArray<number>, change: Partial<Pick<GalleryItem, 'favorite' | 'rating'>>): void {
    this.items = this.items.map((i) => (ids.includes(i.id) ? { ...i, ...change } : i));
  }

  /** Takes items out of the loaded pages and the selection; the detail panel lets go of a removed item. */
  remove(ids: ReadonlyArray<number>): void {
    const before = this.items.length;
    this.items = this.items.filter((i) => !ids.includes(i.id));
    this.total = Math.max(0, this.total - (before - this.items.length));
    for (const id of ids) this.selected.delete(id);
    if (this.anchor !== null && ids.includes(this.anchor)) this.anchor = null;
    this.detail.changed('removed', ids);
    if (this.grid.focused >= this.items.length) this.grid.focused = this.items.length - 1;
  }

  /** The selected items, in gallery order. */
  selectedItems(): ReadonlyArray<GalleryItem> {
    return this.items.filter((i) => this.selected.has(i.id));
  }
}
