// The LM's token sequence during one sampling run (sampler.ts): after `[text | <img>]`, a list of items — `q` (the
// position query of a cell) or `z` (a sampled or known latent of a cell, through latent_in) — with their embeds, RoPE
// positions and attention masks. Rows are [cond_0 … cond_{B-1}, uncond_0 … uncond_{B-1}] (uncond only when cfg > 1).
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import { positionWidth, type Graphs, type ModelTables, type SamplePlan, type SampleState } from './sampler';

type Item = Readonly<{ kind: 'q' | 'z'; cell: number }>;

/** The columns one LM call feeds: embeds [rows, length, hidden] and positions [rows, length] ([rows, length, 2] under 2-D RoPE). */
export type Feed = Readonly<{ embeds: Float32Array; positions: BigInt64Array; length: number }>;

export class TokenSequence {
  /** Images (B) and LM rows (R: 2B with CFG). */
  readonly images: number;
  readonly rows: number;
  /** Tokens per group. */
  readonly sizes: ReadonlyArray<number>;
  readonly #graphs: Graphs;
  readonly #model: ModelTables;
  readonly #plan: SamplePlan;
  readonly #state: SampleState;
  readonly #starts: ReadonlyArray<number>;
  /** k > 1 refeeds each sampled latent after its probe query, so the queries stay in the cache as in the reference. */
  readonly #refeed: boolean;
  /** Text rows before padding, their padded length (T) and each row's mask over it (1 = real token). */
  readonly #rowsIds: ReadonlyArray<ReadonlyArray<number>>;
  readonly #T: number;
  readonly #textMask: ReadonlyArray<ReadonlyArray<number>>;
  /** Real tokens before the image part, per row: where `grid` positions start. */
  readonly #imageBase: ReadonlyArray<number>;
  /** Each row's last position so far; `sequence` positions continue from it. */
  readonly #lastPos: Array<number>;
  /** Numbers per position: 1, or 2 under 2-D RoPE. */
  readonly #D: number;

  constructor(graphs: Graphs, model: ModelTables, plan: SamplePlan, state: SampleState, sizes: ReadonlyArray<number>) {
    this.#graphs = graphs;
    this.#model = model;
    this.#plan = plan;
    this.#state = state;
    const B = plan.orders.length;
    const R = plan.sampling.cfg > 1 ? 2 * B : B;
    this.images = B;
    this.rows = R;
    this.sizes = sizes;
    this.#starts = sizes.map((_, g) => sizes.slice(0, g).reduce((a, b) => a + b, 0));
    this.#refeed = plan.sampling.tokensPerStep > 1;
    // Text rows, right-padded; positions are cumsum(mask) − 1 per row, whether later calls see the pads or not.
    this.#rowsIds = Array.from({ length: R }, (_, r) => (r < B ? plan.cond : plan.uncond));
    const T = Math.max(...this.#rowsIds.map((ids) => ids.length));
    this.#T = T;
    this.#textMask = this.#rowsIds.map((ids) => Array.from({ length: T }, (_, i) => (i < ids.length ? 1 : 0)));
    this.#imageBase = this.#textMask.map((m) => m.reduce<number>((a, b) => a + b, 0) + model.imgTokenIds.length);
    this.#lastPos = new Array<number>(R).fill(-1);
    this.#D = positionWidth(model.imagePositions);
  }

  /** The attention mask over `total` columns: the text's pads masked unless `padsVisible`; every other column real. */
  mask(total: number, padsVisible: boolean): BigInt64Array {
    const R = this.rows;
    const T = this.#T;
    const mask = new BigInt64Array(R * total);
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < total; i++) mask[r * total + i] = i < T && !padsVisible ? BigInt(this.#textMask[r]![i]!) : 1n;
    }
    return mask;
  }

  /** Image b's cells of group g, in its order. */
  groupCells(b: number, g: number): Int32Array {
    const start = this.#starts[g]!;
    return this.#plan.orders[b]!.subarray(start, start + this.sizes[g]!);
  }

  /** The columns up to group 0's queries (text, <img>, teacher-forced pairs, the queries): a `prefill` resume's first call. */
  firstGroupColumns(): number {
    return this.#T + this.#model.imgTokenIds.length + 2 * this.#plan.fed.length + this.sizes[0]!;
  }

  /** Prefill: text, <img>, teacher-forced pairs, replayed groups (resume), then the queries of group `first`. */
  async prefill(first: number): Promise<Feed> {
    const items = Array.from({ length: this.images }, (_, b) => [
      ...this.#plan.fed.flatMap((cell): Array<Item> => [
        { kind: 'q', cell },
        { kind: 'z', cell },
      ]),
      ...Array.from({ length: first }, (_, g) => [...this.#queriesOf(b, g), ...this.#afterGroup(b, g)]).flat(),
      ...this.#queriesOf(b, first),
    ]);
    const itemEmbeds = await this.#embedItems(items);
    const length = this.#T + this.#model.imgTokenIds.length + items[0]!.length;
    return {
      embeds: this.#prefillEmbeds(itemEmbeds, length),
      positions: this.#prefillPositions(items, length),
      length,
    };
  }

  /** The step after group g: its latents (with their probe queries when k > 1), then group g + 1's queries. */
  async next(g: number): Promise<Feed> {
    const H = this.#model.hidden;
    const R = this.rows;
    const items = Array.from({ length: this.images }, (_, b) => [
      ...this.#afterGroup(b, g),
      ...this.#queriesOf(b, g + 1),
    ]);
    const fed = await this.#embedItems(items);
    const length = items[0]!.length;
    const embeds = new Float32Array(R * length * H);
    const positions = new BigInt64Array(R * length * this.#D);
    for (let r = 0; r < R; r++) {
      embeds.set(fed[this.#image(r)]!, r * length * H);
      for (let i = 0; i < length; i++) {
        this.#setPosition(positions, r * length + i, r, items[this.#image(r)]![i]!, this.#lastPos[r]! + 1 + i);
      }
      this.#lastPos[r]! += length;
    }
    return { embeds, positions, length };
  }

  #image(row: number): number {
    return row % this.images;
  }

  /**
   * Writes column `at`'s position: an image item's (`item`) from its cell under `grid` and `grid2d`, else the
   * sequence position `seq`; under 2-D RoPE a pair, (base + row, base + col) or (seq, seq).
   */
  #setPosition(out: BigInt64Array, at: number, r: number, item: Item | null, seq: number): void {
    const scheme = this.#model.imagePositions;
    const base = this.#imageBase[r]!;
    if (item === null || scheme === 'sequence') {
      out.fill(BigInt(seq), at * this.#D, (at + 1) * this.#D);
    } else if (scheme === 'grid') {
      out[at] = BigInt(base + item.cell);
    } else {
      const w = this.#model.grid[1];
      out[2 * at] = BigInt(base + Math.floor(item.cell / w));
      out[2 * at + 1] = BigInt(base + (item.cell % w));
    }
  }

  #afterGroup(b: number, g: number): Array<Item> {
    return Array.from(this.groupCells(b, g)).flatMap((cell): Array<Item> =>
      this.#refeed
        ? [
            { kind: 'q', cell },
            { kind: 'z', cell },
          ]
        : [{ kind: 'z', cell }],
    );
  }

  #queriesOf(b: number, g: number): Array<Item> {
    return Array.from(this.groupCells(b, g), (cell): Item => ({ kind: 'q', cell }));
  }

  /** Text (padded) and <img> embeds, then each row's image's item embeds. */
  #prefillEmbeds(itemEmbeds: ReadonlyArray<Float32Array>, length: number): Float32Array {
    const { hidden: H, imgTokenIds: img, embedTokens, padTokenId } = this.#model;
    const T = this.#T;
    const embeds = new Float32Array(this.rows * length * H);
    for (let r = 0; r < this.rows; r++) {
      const base = r * length * H;
      const ids = [...this.#rowsIds[r]!, ...Array<number>(T - this.#rowsIds[r]!.length).fill(padTokenId), ...img];
      ids.forEach((id, i) => embeds.set(embedTokens.subarray(id * H, (id + 1) * H), base + i * H));
      embeds.set(itemEmbeds[this.#image(r)]!, base + (T + img.length) * H);
    }
    return embeds;
  }

  /** Text positions count real tokens only; image items follow (`sequence`) or sit at their cell (`grid`, `grid2d`). */
  #prefillPositions(items: ReadonlyArray<ReadonlyArray<Item>>, length: number): BigInt64Array {
    const T = this.#T;
    const img = this.#model.imgTokenIds;
    const positions = new BigInt64Array(this.rows * length * this.#D);
    for (let r = 0; r < this.rows; r++) {
      let count = 0;
      for (let i = 0; i < length; i++) {
        if (i >= T || this.#textMask[r]![i] === 1) count++;
        const j = i - T - img.length;
        this.#setPosition(
          positions,
          r * length + i,
          r,
          j >= 0 ? items[this.#image(r)]![j]! : null,
          Math.max(0, count - 1),
        );
      }
      this.#lastPos[r] = count - 1;
    }
    return positions;
  }

  /** Embeds of item lists, one list per image (same length for all); latent_in runs once for all `z` items. */
  async #embedItems(lists: ReadonlyArray<ReadonlyArray<Item>>): Promise<Array<Float32Array>> {
    const { hidden: H, dZ } = this.#model;
    const zs: Array<[number, number]> = [];
    lists.forEach((items, b) => items.forEach((item, i) => item.kind === 'z' && zs.push([b, i])));
    const zin = new Map<string, Float32Array>();
    if (zs.length > 0) {
      const z = new Float32Array(zs.length * dZ);
      const pos = new Float32Array(zs.length * H);
      zs.forEach(([b, i], n) => {
        const cell = lists[b]![i]!.cell;
        z.set(this.#state.latents[b]!.subarray(cell * dZ, (cell + 1) * dZ), n * dZ);
        pos.set(this.#model.pos.subarray(cell * H, (cell + 1) * H), n * H);
      });
      const out = await this.#graphs.latentIn(z, pos, zs.length);
      zs.forEach(([b, i], n) => zin.set(`${b}:${i}`, out.subarray(n * H, (n + 1) * H)));
    }
    return lists.map((items, b) => {
      const out = new Float32Array(items.length * H);
      items.forEach((item, i) => {
        const row =
          item.kind === 'q' ? this.#model.queries.subarray(item.cell * H, (item.cell + 1) * H) : zin.get(`${b}:${i}`)!;
        out.set(row, i * H);
      });
      return out;
    });
  }
}

/** Columns [from, to) of a feed over `rows` rows of `width` embed values (and 1 or 2 numbers per position). */
export function cutColumns(feed: Feed, rows: number, width: number, from: number, to: number): Feed {
  const { embeds, positions, length } = feed;
  const D = positions.length / (rows * length);
  const n = to - from;
  const out = { embeds: new Float32Array(rows * n * width), positions: new BigInt64Array(rows * n * D), length: n };
  for (let r = 0; r < rows; r++) {
    out.embeds.set(embeds.subarray((r * length + from) * width, (r * length + to) * width), r * n * width);
    out.positions.set(positions.subarray((r * length + from) * D, (r * length + to) * D), r * n * D);
  }
  return out;
}
