// A job's previews after each group: a decoded one when the pacer says it is due (decodes take a bounded share of the
// sampling time), otherwise an instant latent → RGB one when the bundle has that map. None after the last group.
import type { InlinePng } from '../common/contract';
import { latentRgbPreview, type LatentRgb } from '../platform/image';
import type { Grid } from './bundle';
import { toInlinePng } from './outputs';
import type { PreviewPacer } from './preview-pacer';
import type { GroupReport } from './sampler';

/** Instant (latent → RGB) previews cost ~1 ms; more than ~30 per second would only load the UI. */
const INSTANT_PREVIEW_INTERVAL_MS = 33;

export type GroupPreview = Readonly<{ previews: Array<InlinePng>; previewKind: 'decoded' | 'approximate' }>;

export type PreviewOptions = Readonly<{
  /** The job asked for previews. */
  enabled: boolean;
  pacer: PreviewPacer;
  latentRgb: LatentRgb | null;
  dZ: number;
  grid: Grid;
  /** When the job started (performance.now()), for the first previews' times. */
  started: number;
  /** The committed latents decoded as they are (the others left at zero), as "decode as is" after a cancel. */
  decode: (latents: ReadonlyArray<Float32Array>) => Promise<Array<InlinePng>>;
}>;

export class GroupPreviews {
  readonly #options: PreviewOptions;
  #firstPreviewMs: number | null = null;
  #firstDecodedPreviewMs: number | null = null;
  #lastInstantAt = -Infinity;
  /** Sampling time of each group: from the end of the previous group's previews (or the start) to its report. */
  #groupStart = performance.now();

  constructor(options: PreviewOptions) {
    this.#options = options;
  }

  /** The first preview of any kind, and the first decoded one, in ms since the start. */
  get firstPreviewMs(): number | null {
    return this.#firstPreviewMs;
  }

  get firstDecodedPreviewMs(): number | null {
    return this.#firstDecodedPreviewMs;
  }

  /** A group was committed: its sampling time feeds the pacer; returns the previews to show, if any. */
  async after(report: GroupReport, latents: ReadonlyArray<Float32Array>): Promise<GroupPreview | null> {
    const { enabled, pacer, latentRgb, dZ, grid, started } = this.#options;
    const now = performance.now();
    pacer.group(now - this.#groupStart);
    const last = report.group + 1 === report.groups;
    if (!enabled || last) return null;
    if (pacer.due()) {
      const previews = await this.#options.decode(latents);
      pacer.decoded();
      this.#firstDecodedPreviewMs ??= performance.now() - started;
      this.#firstPreviewMs ??= this.#firstDecodedPreviewMs;
      return { previews, previewKind: 'decoded' };
    }
    if (latentRgb && now - this.#lastInstantAt >= INSTANT_PREVIEW_INTERVAL_MS) {
      const rgbs = latents.map((lat) => latentRgbPreview(lat, dZ, grid, latentRgb));
      const previews = await Promise.all(rgbs.map(toInlinePng));
      this.#lastInstantAt = performance.now();
      this.#firstPreviewMs ??= this.#lastInstantAt - started;
      return { previews, previewKind: 'approximate' };
    }
    return null;
  }

  /** The group's report went out: the next group's sampling time starts now. */
  nextGroup(): void {
    this.#groupStart = performance.now();
  }
}
