// The edit mask: one flag per latent token, because the model regenerates whole tokens. Tools paint with a round
// brush (diameter in tokens), erase, or fill a rectangle, always snapped to the token grid; every finished stroke is
// one undo step. The mask exports as an image: white where tokens are regenerated, black where they are kept.

export type MaskTool = 'brush' | 'eraser' | 'rectangle';

/** A point over the image in 0..1 coordinates (x to the right, y down). */
export type Point = Readonly<{ x: number; y: number }>;

export type Rect = Readonly<{ row0: number; col0: number; row1: number; col1: number }>;

const HISTORY_LIMIT = 100;
export const BRUSH_SIZES = [1, 2, 3, 4, 6, 8] as const;

export class MaskEditorState {
  rows = $state(0);
  cols = $state(0);
  cells = $state.raw<Uint8Array>(new Uint8Array(0));
  tool = $state<MaskTool>('brush');
  brushSize = $state(2);
  /** The rectangle being dragged, for the view to outline; null otherwise. */
  pending = $state.raw<Rect | null>(null);
  #undo = $state.raw<ReadonlyArray<Uint8Array>>([]);
  #redo = $state.raw<ReadonlyArray<Uint8Array>>([]);
  #stroke: { before: Uint8Array; last: Readonly<{ row: number; col: number }>; anchor: Point } | null = null;

  masked = $derived(this.cells.reduce((n, c) => n + c, 0));
  canUndo = $derived(this.#undo.length > 0);
  canRedo = $derived(this.#redo.length > 0);

  constructor(rows = 0, cols = 0) {
    if (rows > 0 && cols > 0) this.reset(rows, cols);
  }

  reset(rows: number, cols: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new RangeError(`A token grid is at least 1×1, not ${rows}×${cols}.`);
    }
    this.rows = rows;
    this.cols = cols;
    this.cells = new Uint8Array(rows * cols);
    this.#undo = [];
    this.#redo = [];
    this.#stroke = null;
    this.pending = null;
  }

  /** The token under a point, clamped to the grid. */
  cellAt(point: Point): { row: number; col: number } {
    const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, Math.floor(v * n)));
    return { row: clamp(point.y, this.rows), col: clamp(point.x, this.cols) };
  }

  begin(point: Point): void {
    if (this.rows === 0) return;
    const cell = this.cellAt(point);
    this.#stroke = { before: this.cells, last: cell, anchor: point };
    if (this.tool === 'rectangle') this.pending = rectOf(cell, cell);
    else this.#dab(cell, this.cells.slice());
  }

  move(point: Point): void {
    const stroke = this.#stroke;
    if (!stroke) return;
    const cell = this.cellAt(point);
    if (this.tool === 'rectangle') {
      this.pending = rectOf(this.cellAt(stroke.anchor), cell);
      return;
    }
    // Walk from the previous cell so a fast pointer leaves no gaps.
    const next = this.cells.slice();
    const steps = Math.max(Math.abs(cell.row - stroke.last.row), Math.abs(cell.col - stroke.last.col), 1);
    for (let s = 1; s <= steps; s++) {
      const t = s / steps;
      this.#paint(
        {
          row: Math.round(stroke.last.row + (cell.row - stroke.last.row) * t),
          col: Math.round(stroke.last.col + (cell.col - stroke.last.col) * t),
        },
        next,
      );
    }
    this.cells = next;
    stroke.last = cell;
  }

  end(): void {
    const stroke = this.#stroke;
    if (!stroke) return;
    this.#stroke = null;
    if (this.tool === 'rectangle' && this.pending) {
      this.#apply(fillRect(this.cells, this.cols, this.pending, 1), stroke.before);
      this.pending = null;
      return;
    }
    this.#record(stroke.before);
  }

  /** Abandons the stroke in progress (Escape, pointer cancel). */
  cancel(): void {
    if (!this.#stroke) return;
    this.cells = this.#stroke.before;
    this.#stroke = null;
    this.pending = null;
  }

  /** Sets a rectangle of tokens in one step (keyboard users and tests reach the same state as a drag). */
  setRect(rect: Rect, value: 0 | 1 = 1): void {
    this.#apply(fillRect(this.cells, this.cols, clampRect(rect, this.rows, this.cols), value), this.cells);
  }

  clear(): void {
    if (this.masked > 0) this.#apply(new Uint8Array(this.cells.length), this.cells);
  }

  invert(): void {
    this.#apply(
      this.cells.map((c) => 1 - c),
      this.cells,
    );
  }

  undo(): void {
    const previous = this.#undo.at(-1);
    if (!previous) return;
    this.#redo = [...this.#redo, this.cells];
    this.#undo = this.#undo.slice(0, -1);
    this.cells = previous;
  }

  redo(): void {
    const next = this.#redo.at(-1);
    if (!next) return;
    this.#undo = [...this.#undo, this.cells];
    this.#redo = this.#redo.slice(0, -1);
    this.cells = next;
  }

  /** The mask at image resolution: RGBA, white where tokens are regenerated, black where they are kept. */
  toPixels(width: number, height: number): Uint8ClampedArray {
    const out = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      const row = Math.min(this.rows - 1, Math.floor((y * this.rows) / height));
      for (let x = 0; x < width; x++) {
        const col = Math.min(this.cols - 1, Math.floor((x * this.cols) / width));
        const v = this.cells[row * this.cols + col] ? 255 : 0;
        out.set([v, v, v, 255], (y * width + x) * 4);
      }
    }
    return out;
  }

  #dab(cell: { row: number; col: number }, next: Uint8Array): void {
    this.#paint(cell, next);
    this.cells = next;
  }

  /** A round brush of `brushSize` tokens across, centred on the cell (even sizes lean up and left). */
  #paint(cell: { row: number; col: number }, into: Uint8Array): void {
    const value = this.tool === 'eraser' ? 0 : 1;
    const r = this.brushSize / 2;
    const lo = -Math.floor(this.brushSize / 2);
    const hi = Math.ceil(this.brushSize / 2) - 1;
    const centre = (lo + hi) / 2;
    for (let dr = lo; dr <= hi; dr++) {
      for (let dc = lo; dc <= hi; dc++) {
        if ((dr - centre) ** 2 + (dc - centre) ** 2 > r * r) continue;
        const row = cell.row + dr;
        const col = cell.col + dc;
        if (row >= 0 && row < this.rows && col >= 0 && col < this.cols) into[row * this.cols + col] = value;
      }
    }
  }

  #apply(next: Uint8Array, before: Uint8Array): void {
    this.cells = next;
    this.#record(before);
  }

  #record(before: Uint8Array): void {
    if (sameCells(before, this.cells)) return;
    this.#undo = [...this.#undo, before].slice(-HISTORY_LIMIT);
    this.#redo = [];
  }
}

function rectOf(a: { row: number; col: number }, b: { row: number; col: number }): Rect {
  return {
    row0: Math.min(a.row, b.row),
    col0: Math.min(a.col, b.col),
    row1: Math.max(a.row, b.row),
    col1: Math.max(a.col, b.col),
  };
}

function clampRect(rect: Rect, rows: number, cols: number): Rect {
  const r = (v: number) => Math.min(rows - 1, Math.max(0, Math.round(v)));
  const c = (v: number) => Math.min(cols - 1, Math.max(0, Math.round(v)));
  return rectOf({ row: r(rect.row0), col: c(rect.col0) }, { row: r(rect.row1), col: c(rect.col1) });
}

function fillRect(cells: Uint8Array, cols: number, rect: Rect, value: 0 | 1): Uint8Array {
  const next = cells.slice();
  for (let row = rect.row0; row <= rect.row1; row++)
    next.fill(value, row * cols + rect.col0, row * cols + rect.col1 + 1);
  return next;
}

function sameCells(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
