// The Generate form: what the user typed, turned into a request (or a preset, and back); and the follow-ups a result
// offers (reuse its settings, a variation with the same order and a new seed, a re-order with the same seed and a new
// order).
import type {
  CfgSchedule,
  GenerateRequest,
  ResolvedSampling,
  TokenOrder,
} from '../../../../electron/common/api/generation';
import type { PromptPreset } from '../../../../electron/common/api/settings';
import type { Result } from './generation.svelte';
import type { Defaults } from './generation-defaults.svelte';
import { randomSeed } from '../seeds';

export type ReuseParams = Partial<ResolvedSampling> &
  Readonly<{ prompt: string; seed: number; orderSeed: number; modelId: string }>;

export class GenerateForm {
  prompt = $state('');
  /** Empty means a random seed per run. */
  seed = $state<number | null>(null);
  orderSeed = $state<number | null>(null);
  tokensPerStep = $state<number | null>(null);
  steps = $state<number | null>(null);
  cfg = $state<number | null>(null);
  cfgSchedule = $state<CfgSchedule | ''>('');
  order = $state<TokenOrder | ''>('');
  count = $state(1);
  model = $state('');

  canSubmit = $derived(this.prompt.trim().length > 0);

  constructor(defaults: Defaults) {
    this.applyDefaults(defaults);
  }

  applyDefaults(d: Defaults): void {
    this.tokensPerStep = d.tokensPerStep ?? null;
    this.steps = d.steps ?? null;
    this.cfg = d.cfg ?? null;
    this.cfgSchedule = d.cfgSchedule ?? '';
    this.order = d.order ?? '';
    this.count = d.count;
    this.model = d.model ?? '';
  }

  randomiseSeed(): void {
    this.seed = randomSeed();
  }

  /** The request for the engine: fields left empty take the model's defaults (or a random seed). */
  toRequest(): GenerateRequest {
    const request: GenerateRequest = { prompt: this.prompt.trim(), count: clampInt(this.count, 1, 16) };
    if (this.seed !== null) request.seed = this.seed;
    if (this.orderSeed !== null) request.orderSeed = this.orderSeed;
    if (this.tokensPerStep !== null) request.tokensPerStep = this.tokensPerStep;
    if (this.steps !== null) request.steps = this.steps;
    if (this.cfg !== null) request.cfg = this.cfg;
    if (this.cfgSchedule) request.cfgSchedule = this.cfgSchedule;
    if (this.order) request.order = this.order;
    if (this.model) request.model = this.model;
    return request;
  }

  /** The prompt and every setting the form pins, saved under a name; what it leaves empty stays empty. */
  toPreset(name: string): PromptPreset {
    const { prompt, ...settings } = this.toRequest();
    return { name: name.trim(), prompt, settings };
  }

  /** Fills the form from a preset: its prompt and settings, the rest back to the model's defaults. */
  applyPreset(preset: PromptPreset): void {
    const s = preset.settings;
    this.prompt = preset.prompt;
    this.seed = s.seed ?? null;
    this.orderSeed = s.orderSeed ?? null;
    this.tokensPerStep = s.tokensPerStep ?? null;
    this.steps = s.steps ?? null;
    this.cfg = s.cfg ?? null;
    this.cfgSchedule = s.cfgSchedule ?? '';
    this.order = s.order ?? '';
    this.count = s.count ?? 1;
    this.model = s.model ?? '';
  }

  /** Fills the form with exactly what produced a result, so generating again reproduces it. */
  reuse(result: Result): void {
    const r = result.request;
    this.reuseParams({
      ...r,
      ...result.sampling,
      seed: result.image.seed,
      orderSeed: result.image.orderSeed,
      modelId: r.model ?? '',
    });
  }

  /** The same from a library record's replay parameters. */
  reuseParams(p: Readonly<ReuseParams>): void {
    this.prompt = p.prompt;
    this.seed = p.seed;
    this.orderSeed = p.orderSeed;
    this.tokensPerStep = p.tokensPerStep ?? null;
    this.steps = p.steps ?? null;
    this.cfg = p.cfg ?? null;
    this.cfgSchedule = p.cfgSchedule ?? '';
    this.order = p.order ?? '';
    this.model = p.modelId;
    this.count = 1;
  }

  /**
   * Same order, new noise seed: a request built from the result's own settings. The form (the prompt being typed
   * included) is left alone, and fields the result left to the model stay unset.
   */
  variation(result: Result, seed = randomSeed()): GenerateRequest {
    return {
      ...followUp(result),
      seed: seed === result.image.seed ? seed + 1 : seed,
      orderSeed: result.image.orderSeed,
    };
  }

  /** Same noise seed, new order (a random order even if the result was raster: raster has only one order). */
  reorder(result: Result, orderSeed = randomSeed()): GenerateRequest {
    const request: GenerateRequest = {
      ...followUp(result),
      seed: result.image.seed,
      orderSeed: orderSeed === result.image.orderSeed ? orderSeed + 1 : orderSeed,
    };
    if ((result.sampling?.order ?? result.request.order) === 'raster') request.order = 'random';
    return request;
  }
}

/** One image from what the user asked for when the result was made (its seeds are set by the caller). */
function followUp(result: Result): GenerateRequest {
  const { seed: _seed, orderSeed: _orderSeed, ...rest } = result.request;
  return { ...rest, count: 1 };
}

function clampInt(value: number, lo: number, hi: number): number {
  return Number.isFinite(value) ? Math.min(hi, Math.max(lo, Math.round(value))) : lo;
}
