// The Inspect view's state, held by the app so a result survives a visit to another view: the last reconstruction,
// what it was made from (for Try again), the compare mode, and the heatmap switch (off by default: the
// reconstruction itself is what to look at first). A failed run clears the old result, so an error never sits
// above the previous image's figures, and Try again repeats the run that failed.
import type { StudioApi } from '../../../../electron/common/contract';
import type { ImageSource, ReconstructResult } from '../../../../electron/common/api/generation';
import { detailsOf, messageOf } from '../errors';
import { CompareState } from './compare.svelte';

/** The heatmap's fixed scale, as per-token PSNR: at or above GOOD_DB a token is dark, at or below BAD_DB bright. */
export const HEAT_GOOD_DB = 40;
export const HEAT_BAD_DB = 15;

/** Per-token error (mean squared error on the 0–1 pixel scale) → 0 (kept, ≥ 40 dB) … 1 (lost, ≤ 15 dB). */
export function heatLevel(mse: number): number {
  if (!(mse >= 0) || !Number.isFinite(mse)) return -1;
  const db = mse === 0 ? Infinity : -10 * Math.log10(mse);
  return Math.min(1, Math.max(0, (HEAT_GOOD_DB - db) / (HEAT_GOOD_DB - HEAT_BAD_DB)));
}

export class InspectState {
  result = $state.raw<ReconstructResult | null>(null);
  /** The name of the file (or "Generation 12") the result or the error is about. */
  subject = $state<string | null>(null);
  error = $state<string | null>(null);
  details = $state<string | null>(null);
  working = $state(false);
  showHeatmap = $state(false);
  lastSource = $state.raw<ImageSource | null>(null);
  /** The generation id a route asked for last, so coming back to the same route does not run it again. */
  routed: string | null = null;
  readonly compare = new CompareState();
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async run(source: ImageSource, subject: string): Promise<void> {
    this.lastSource = source;
    this.subject = subject;
    this.working = true;
    this.error = null;
    this.details = null;
    try {
      this.result = await this.#api.call('generation.reconstruct', { image: source });
    } catch (failure) {
      this.result = null;
      this.error = messageOf(failure);
      this.details = detailsOf(failure);
    } finally {
      this.working = false;
    }
  }

  /** A file the picker refused before any call (wrong type): its message, and nothing from the previous image. */
  reject(message: string, subject: string | null): void {
    this.result = null;
    this.lastSource = null;
    this.subject = subject;
    this.error = message;
    this.details = null;
  }

  retry(): Promise<void> {
    return this.lastSource ? this.run(this.lastSource, this.subject ?? 'the image') : Promise.resolve();
  }
}
