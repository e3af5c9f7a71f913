// Every image of a batch live at once: one LiveCanvasState per image, all on the same token grid and group count, with
// one overlay choice for the lot. Each image has its own order seed, so each canvas gets its own committed cells when
// the engine sends them (imagePositions); otherwise the first image's cells stand for all.
import { LiveCanvasState, type Overlay } from './live-canvas.svelte';

/** The contract's largest batch. */
export const MAX_BATCH = 16;

/** Columns of the live grid for `count` images: one large canvas, then 2×2, 3×3, 4×4 at most. */
export function batchColumns(count: number): number {
  return count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
}

export class LiveBatchState {
  /** The first image's canvas (the only one of a single-image job): the same object for the app's lifetime. */
  readonly first = new LiveCanvasState();
  /** One canvas per image; kept across jobs (reset, not replaced), so overlays and previews never flash. */
  canvases = $state.raw<ReadonlyArray<LiveCanvasState>>([this.first]);
  #overlay = $state<Overlay>('committed');
  /** The kind of the newest preview received (not reactive: only commit reads it). */
  #received: 'decoded' | 'approximate' | null = null;

  count = $derived(this.canvases.length);
  columns = $derived(batchColumns(this.canvases.length));
  rows = $derived(Math.ceil(this.canvases.length / batchColumns(this.canvases.length)));
  /** Tokens committed over the whole batch, of `tokens`. */
  committed = $derived(this.canvases.reduce((n, c) => n + c.committed, 0));
  tokens = $derived(this.canvases.reduce((n, c) => n + c.tokens, 0));
  hasPreview = $derived(this.canvases.some((c) => c.preview !== null));
  /**
   * What the picture is: the decoder's image (once one came: later quick previews only colour newer tokens on it), or
   * the instant per-token colours (null: none, or finished).
   */
  previewKind = $state<'decoded' | 'approximate' | null>(null);

  get overlay(): Overlay {
    return this.#overlay;
  }

  set overlay(value: Overlay) {
    this.#overlay = value;
    for (const canvas of this.canvases) canvas.overlay = value;
  }

  /** Starts `count` canvases on a rows×cols grid generated in `totalGroups` groups. */
  reset(rows: number, cols: number, totalGroups: number, count: number): void {
    const n = Math.min(MAX_BATCH, Math.max(1, Math.floor(count) || 1));
    const canvases = Array.from({ length: n }, (_, i) => this.canvases[i] ?? new LiveCanvasState());
    for (const canvas of canvases) {
      canvas.reset(rows, cols, totalGroups);
      canvas.overlay = this.#overlay;
    }
    this.canvases = canvases;
    this.previewKind = null;
    this.#received = null;
  }

  /** Tokens final before the first group (an edit's kept ones, a resume's committed ones): the same in every image. */
  fix(positions: ReadonlyArray<number>): void {
    for (const canvas of this.canvases) canvas.fix(positions);
  }

  /**
   * Records group `group` (0-based): `positions` are the first image's cells, `perImage` every image's when known;
   * `previews` the newest previews, one per image, and `kind` theirs when this group brought new ones.
   */
  commit(
    group: number,
    positions: ReadonlyArray<number>,
    perImage?: ReadonlyArray<ReadonlyArray<number>>,
    previews?: ReadonlyArray<string | null>,
    kind?: 'decoded' | 'approximate',
  ): void {
    if (kind === 'decoded' || (kind && this.previewKind !== 'decoded')) this.previewKind = kind;
    // Without a new preview the session repeats the last one; its kind is the newest one received.
    const received = kind ?? this.#received;
    if (kind) this.#received = kind;
    this.canvases.forEach((canvas, i) =>
      canvas.commit(group, perImage?.[i] ?? positions, previews?.[i] ?? null, received ?? 'decoded'),
    );
  }

  /** The finished (or decoded-as-is) images, one per canvas; a missing one keeps its last preview. */
  finish(images: ReadonlyArray<string | null>): void {
    this.previewKind = null;
    this.#received = null;
    this.canvases.forEach((canvas, i) => canvas.finish(images[i] ?? null));
  }
}
