// The live generation canvas: which token of the latent grid was committed in which group, the latest partial decode,
// and the overlay drawn over it. Committed tokens are final (an autoregressive model never revisits them), so the
// canvas shows them as they are and veils the rest, which the decoder only guesses.
import { heatmapPixels } from '../colormap';

export type Overlay = 'none' | 'committed' | 'order';

export type Rgb = readonly [number, number, number];

/** How strongly the not-yet-committed cells are veiled, and how the newest group is marked (alpha 0–255). */
const VEIL_ALPHA = 200;
const NEWEST_ALPHA = 110;
const ORDER_ALPHA = 170;
export const FIXED = -2;

export class LiveCanvasState {
  rows = $state(0);
  cols = $state(0);
  totalGroups = $state(0);
  /**
   * Per token (row-major): the 0-based group that committed it, FIXED for a token given before the first group (kept by
   * an edit, committed before a resume), or -1. Replaced, never mutated, so views react.
   */
  order = $state.raw<Int32Array>(new Int32Array(0));
  /** Groups committed so far. */
  groups = $state(0);
  /** The newest partial (or final) decode, as an image URL; null before the first one. */
  preview = $state.raw<string | null>(null);
  overlay = $state<Overlay>('committed');
  /** The tokens of the newest group, which the 'committed' overlay marks. */
  newest = $state.raw<ReadonlyArray<number>>([]);

  committed = $derived(this.order.reduce((n, group) => (group !== -1 ? n + 1 : n), 0));
  tokens = $derived(this.rows * this.cols);

  /** Starts a canvas for a rows×cols grid generated in `totalGroups` groups. */
  reset(rows: number, cols: number, totalGroups: number): void {
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
      throw new RangeError(`A token grid is at least 1×1, not ${rows}×${cols}.`);
    }
    this.rows = rows;
    this.cols = cols;
    this.totalGroups = Math.max(1, totalGroups);
    this.order = new Int32Array(rows * cols).fill(-1);
    this.groups = 0;
    this.preview = null;
    this.newest = [];
  }

  /**
   * Records group `group` (0-based) committing `positions` (row-major token indexes) and, when the engine sent one, the
   * decode of everything committed so far. Positions outside the grid are ignored; a token keeps its first group.
   */
  commit(group: number, positions: ReadonlyArray<number>, preview?: string | null): void {
    const order = this.order.slice();
    const fresh: Array<number> = [];
    for (const p of positions) {
      if (Number.isInteger(p) && p >= 0 && p < order.length && order[p] === -1) {
        order[p] = group;
        fresh.push(p);
      }
    }
    this.order = order;
    this.groups = Math.max(this.groups, group + 1);
    this.newest = fresh;
    if (preview) this.preview = preview;
  }

  /** Tokens that are final before generation starts; they keep any group they already have. */
  fix(positions: ReadonlyArray<number>): void {
    const order = this.order.slice();
    for (const p of positions) if (Number.isInteger(p) && order[p] === -1) order[p] = FIXED;
    this.order = order;
  }

  /** The finished image: every token is final, so the overlay has nothing left to mark. */
  finish(image: string | null): void {
    if (image) this.preview = image;
    this.newest = [];
  }

  /**
   * The overlay as one RGBA pixel per token (cols×rows), to be scaled up over the preview without smoothing:
   * uncommitted tokens veiled in `veil`, and either the newest group tinted in `accent` or every committed token
   * coloured by when it was committed.
   */
  overlayPixels(veil: Rgb, accent: Rgb): Uint8ClampedArray {
    const n = this.order.length;
    const out =
      this.overlay === 'order'
        ? heatmapPixels(this.order, ORDER_ALPHA, this.totalGroups - 1)
        : new Uint8ClampedArray(n * 4);
    if (this.overlay === 'none') return out;
    for (let i = 0; i < n; i++) if (this.order[i] === -1) out.set([...veil, VEIL_ALPHA], i * 4);
    if (this.overlay === 'committed') for (const p of this.newest) out.set([...accent, NEWEST_ALPHA], p * 4);
    return out;
  }
}
