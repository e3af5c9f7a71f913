// When a decoded preview is worth its cost during a run: the decoder's expected time must stay under a share of the
// sampling time since the last decoded preview, and there are at least a few groups between two of them. The decoder's
// time is measured (the warm-up's decode, then every decode the engine runs) and kept as a running estimate per image.

/** A running estimate of the decoder's time for one image, in ms (null until the first decode is measured). */
export class DecodeCost {
  #msPerImage: number | null = null;

  get msPerImage(): number | null {
    return this.#msPerImage;
  }

  /** One decode of `images` images took `ms`. */
  record(ms: number, images: number): void {
    if (!Number.isFinite(ms) || ms < 0 || images < 1) return;
    const per = ms / images;
    // Smoothed: one decode slowed by a busy machine holds previews back for a while, not for the rest of the run.
    this.#msPerImage = this.#msPerImage === null ? per : 0.5 * this.#msPerImage + 0.5 * per;
  }
}

export type PacerOptions = Readonly<{
  /** The share of the sampling time decoded previews may take (0: none). */
  budget: number;
  /** The fewest groups between two decoded previews. */
  minGroups: number;
}>;

export const DEFAULT_PACER: PacerOptions = { budget: 0.2, minGroups: 3 };

/** One job's decoded previews: told each group's sampling time, it says after which groups to decode. */
export class PreviewPacer {
  readonly #options: PacerOptions;
  readonly #cost: DecodeCost;
  readonly #images: number;
  #groups = 0;
  #ms = 0;

  constructor(options: PacerOptions, cost: DecodeCost, images: number) {
    this.#options = options;
    this.#cost = cost;
    this.#images = images;
  }

  /** A group was sampled in `ms` (previews not included). */
  group(ms: number): void {
    this.#groups += 1;
    this.#ms += Math.max(0, ms);
  }

  /** The expected decode of this job's images, or null before any decode was measured. */
  get expectedMs(): number | null {
    const per = this.#cost.msPerImage;
    return per === null ? null : per * this.#images;
  }

  /** Decode now? Enough groups since the last decoded preview, and the decode cheaper than budget × their time. */
  due(): boolean {
    const { budget, minGroups } = this.#options;
    if (!(budget > 0) || this.#groups < minGroups) return false;
    const expected = this.expectedMs;
    return expected === null || expected < budget * this.#ms;
  }

  /** A decoded preview was sent: the count starts again. */
  decoded(): void {
    this.#groups = 0;
    this.#ms = 0;
  }
}
