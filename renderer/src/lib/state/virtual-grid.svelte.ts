// A windowed grid: only the rows in view (plus a little overscan) exist in the DOM, so 100,000 items cost what a
// screenful costs. Layout is arithmetic on the item count; items are placed by index, never measured.

export type GridCell = Readonly<{ index: number; x: number; y: number }>;

export class VirtualGridState {
  count = $state(0);
  width = $state(0);
  height = $state(0);
  scrollTop = $state(0);
  /** The smallest a cell may be; columns are as many as fit, then cells stretch to fill the width. */
  minCell = $state(168);
  gap = $state(8);
  overscanRows = 2;
  /** The keyboard cursor (an item index), or -1. */
  focused = $state(-1);

  columns = $derived(Math.max(1, Math.floor((this.width + this.gap) / (this.minCell + this.gap))));
  cellSize = $derived(Math.max(1, (this.width - this.gap * (this.columns - 1)) / this.columns));
  rowHeight = $derived(this.cellSize + this.gap);
  rows = $derived(Math.ceil(this.count / this.columns));
  totalHeight = $derived(Math.max(0, this.rows * this.rowHeight - this.gap));
  firstRow = $derived(Math.max(0, Math.floor(this.scrollTop / this.rowHeight) - this.overscanRows));
  lastRow = $derived(
    Math.min(this.rows - 1, Math.ceil((this.scrollTop + this.height) / this.rowHeight) + this.overscanRows),
  );
  /** The items to render, with their offsets inside the scrolling area. */
  visible = $derived(this.#cells(this.firstRow, this.lastRow));

  #cells(first: number, last: number): ReadonlyArray<GridCell> {
    const out: Array<GridCell> = [];
    for (let row = first; row <= last; row++) {
      for (let col = 0; col < this.columns; col++) {
        const index = row * this.columns + col;
        if (index >= this.count) break;
        out.push({ index, x: col * (this.cellSize + this.gap), y: row * this.rowHeight });
      }
    }
    return out;
  }

  /** The scrollTop that brings item `index` fully into view (the current one if it already is). */
  scrollFor(index: number): number {
    const top = Math.floor(index / this.columns) * this.rowHeight;
    if (top < this.scrollTop) return top;
    const bottom = top + this.cellSize;
    if (bottom > this.scrollTop + this.height) return Math.max(0, bottom - this.height);
    return this.scrollTop;
  }

  /** Moves the keyboard cursor for an arrow, Home/End or Page key; returns the new index, or null if not a grid key. */
  navigate(key: string): number | null {
    if (this.count === 0) return null;
    const page = Math.max(1, Math.floor(this.height / this.rowHeight)) * this.columns;
    const from = Math.max(0, this.focused);
    const moves: Record<string, number> = {
      ArrowRight: from + 1,
      ArrowLeft: from - 1,
      ArrowDown: from + this.columns,
      ArrowUp: from - this.columns,
      PageDown: from + page,
      PageUp: from - page,
      Home: 0,
      End: this.count - 1,
    };
    const target = moves[key];
    if (target === undefined) return null;
    this.focused = this.focused < 0 ? 0 : Math.min(this.count - 1, Math.max(0, target));
    return this.focused;
  }
}
