// The live generation canvas: which token of the latent grid was committed in which group, the latest partial decode,
// and the overlay drawn over it. Committed tokens are final (an autoregressive model never revisits them), so the
// canvas shows them as they are and veils the rest, which the decoder only guesses. Decoded previews come every few
// groups (the engine keeps them under a share of the time); quick previews (one colour per token) come in between:
// before the first decoded one they are the picture, after it they only colour the tokens the decode did not have yet.
import { heatmapPixels } from '../colormap';

export type Overlay = 'none' | 'committed' | 'order';

export type Rgb = readonly [number, number, number];

/** How strongly the not-yet-committed cells are veiled (alpha 0–255). */
const VEIL_ALPHA = 200;
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
  /** The picture: the newest decoded preview (quick ones until the first), or the result; null before any. */
  preview = $state.raw<string | null>(null);
  /** Groups the picture holds when it is a decoded preview; null otherwise. */
  decodedGroups = $state<number | null>(null);
  /** One RGBA pixel per token of the newest quick preview since the decoded one (null: none yet). */
  quick = $state.raw<Uint8ClampedArray | null>(null);
  /** The last preview URL received, of either kind (the session repeats it on groups without a new one). */
  #received: string | null = null;
  /** Quick previews load asynchronously: a newer preview, reset or finish makes a pending load stale. */
  #quickSeq = 0;
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
    this.#picture(null, null);
    this.newest = [];
  }

  #picture(url: string | null, decodedGroups: number | null): void {
    this.preview = url;
    this.#received = url;
    this.decodedGroups = decodedGroups;
    this.quick = null;
    this.#quickSeq++;
  }

  /**
   * Records group `group` (0-based) committing `positions` (row-major token indexes) and, when the engine sent one, a
   * preview of everything committed so far: decoded (the default) or quick. Positions outside the grid are ignored; a
   * token keeps its first group.
   */
  commit(
    group: number,
    positions: ReadonlyArray<number>,
    preview?: string | null,
    kind: 'decoded' | 'approximate' = 'decoded',
  ): void {
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
    if (!preview || preview === this.#received) return;
    if (kind === 'decoded') this.#picture(preview, this.groups);
    else if (this.decodedGroups === null) this.#picture(preview, null);
    else {
      this.#received = preview;
      void this.#loadQuick(preview, ++this.#quickSeq);
    }
  }

  async #loadQuick(url: string, seq: number): Promise<void> {
    const pixels = await tokenPixels(url, this.cols, this.rows).catch(() => null);
    if (seq === this.#quickSeq && pixels) this.quick = pixels;
  }

  /** Tokens that are final before generation starts; they keep any group they already have. */
  fix(positions: ReadonlyArray<number>): void {
    const order = this.order.slice();
    for (const p of positions) if (Number.isInteger(p) && order[p] === -1) order[p] = FIXED;
    this.order = order;
  }

  /** The finished image: every token is final, so the overlay has nothing left to mark. */
  finish(image: string | null): void {
    if (image) this.#picture(image, null);
    else this.#quickSeq++;
    this.quick = null;
    this.newest = [];
  }

  /**
   * The tokens committed after the decoded picture, in the quick preview's colours (one RGBA pixel per token, the rest
   * transparent); null when there is nothing to paint.
   */
  patchPixels(): Uint8ClampedArray | null {
    const { quick, decodedGroups, order } = this;
    if (!quick || decodedGroups === null || quick.length !== order.length * 4) return null;
    const out = new Uint8ClampedArray(order.length * 4);
    for (let i = 0; i < order.length; i++) {
      const group = order[i] ?? -1;
      if (group >= decodedGroups)
        out.set([quick[i * 4] ?? 0, quick[i * 4 + 1] ?? 0, quick[i * 4 + 2] ?? 0, 255], i * 4);
    }
    return out;
  }

  /**
   * The outline of the newest group as an SVG path in token units (cols×rows): the edges of its tokens that no other
   * newest token shares, so a block of tokens gets one border.
   */
  newestOutline(): string {
    const cols = this.cols;
    const newest = new Uint8Array(this.order.length);
    for (const p of this.newest) newest[p] = 1;
    const has = (x: number, y: number): boolean =>
      x >= 0 && x < cols && y >= 0 && y < this.rows && newest[y * cols + x] === 1;
    const parts: Array<string> = [];
    for (const p of this.newest) {
      const [x, y] = [p % cols, Math.floor(p / cols)];
      if (!has(x, y - 1)) parts.push(`M${x} ${y}h1`);
      if (!has(x + 1, y)) parts.push(`M${x + 1} ${y}v1`);
      if (!has(x, y + 1)) parts.push(`M${x} ${y + 1}h1`);
      if (!has(x - 1, y)) parts.push(`M${x} ${y}v1`);
    }
    return parts.join('');
  }

  /**
   * The overlay as one RGBA pixel per token (cols×rows), to be scaled up over the preview without smoothing:
   * uncommitted tokens veiled in `veil`, and with 'order' every committed token coloured by when it was committed (the
   * newest group's outline is drawn apart, see newestOutline).
   */
  overlayPixels(veil: Rgb): Uint8ClampedArray {
    const n = this.order.length;
    const out =
      this.overlay === 'order'
        ? heatmapPixels(this.order, ORDER_ALPHA, this.totalGroups - 1)
        : new Uint8ClampedArray(n * 4);
    if (this.overlay === 'none') return out;
    for (let i = 0; i < n; i++) if (this.order[i] === -1) out.set([...veil, VEIL_ALPHA], i * 4);
    return out;
  }
}

/** The pixels of a one-pixel-per-token image (a quick preview); null outside a browser or at another size. */
async function tokenPixels(url: string, width: number, height: number): Promise<Uint8ClampedArray | null> {
  if (typeof Image === 'undefined' || typeof document === 'undefined') return null;
  const image = new Image();
  image.src = url;
  await image.decode();
  if (image.naturalWidth !== width || image.naturalHeight !== height) return null;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(image, 0, 0);
  return context.getImageData(0, 0, width, height).data;
}
