// Prompt → token ids with the bundle's tokenizer.json (@huggingface/tokenizers) and prompt template, and the
// unconditional prompt for classifier-free guidance (the bundle's, or a negative prompt in the prompt template).
// Over-long prompts are cut at a word so the template stays whole.
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { StudioError } from '../common/errors';
import type { BundleManifest } from './bundle';

/** The longest text row the reference trains on (`prepare_text_batch(max_length=256)`), when a bundle names none. */
export const DEFAULT_MAX_TEXT_TOKENS = 256;

export type EncodedPrompt = Readonly<{
  cond: ReadonlyArray<number>;
  uncond: ReadonlyArray<number>;
  /** The prompt after trimming and truncation, as the model saw it. */
  prompt: string;
  truncated: boolean;
  /** A sentence for the user when something was changed. */
  warning: string | null;
}>;

export class PromptEncoder {
  readonly #tokenizer: Tokenizer;
  readonly #manifest: BundleManifest;
  readonly #uncond: ReadonlyArray<number>;

  private constructor(tokenizer: Tokenizer, manifest: BundleManifest) {
    this.#tokenizer = tokenizer;
    this.#manifest = manifest;
    this.#uncond = this.#ids(manifest.prompt.unconditional);
  }

  static async load(file: string, manifest: BundleManifest): Promise<PromptEncoder> {
    try {
      const json = JSON.parse(await readFile(file, 'utf8')) as object;
      return new PromptEncoder(new Tokenizer(json, {}), manifest);
    } catch (error) {
      throw new StudioError(
        'MODEL_INVALID',
        `The bundle's tokenizer.json cannot be loaded: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  get maxTokens(): number {
    return this.#manifest.prompt.maxTokens ?? DEFAULT_MAX_TEXT_TOKENS;
  }

  #ids(text: string): Array<number> {
    return this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  #row(prompt: string): Array<number> {
    return this.#ids(this.#manifest.prompt.template.split('{prompt}').join(prompt));
  }

  /** The length of a prompt's row (the template included) as the model would see it uncut, and the limit. */
  count(rawPrompt: string): Readonly<{ tokens: number; limit: number }> {
    return { tokens: this.#row(rawPrompt.trim()).length, limit: this.maxTokens };
  }

  /**
   * The conditional row, and the unconditional one: the bundle's own, or with a (non-blank) negative prompt the
   * prompt template around it, so CFG steers away from what it names.
   */
  encode(rawPrompt: string, negativePrompt?: string | null): EncodedPrompt {
    const negative = negativePrompt?.trim() ? this.#fit(negativePrompt) : null;
    const positive = this.#fit(rawPrompt);
    const warnings = [positive.warning, negative?.warning && `Negative prompt: ${negative.warning}`].filter(Boolean);
    return {
      cond: positive.ids,
      uncond: negative ? negative.ids : this.#uncond,
      prompt: positive.prompt,
      truncated: positive.truncated,
      warning: warnings.length > 0 ? warnings.join(' ') : null,
    };
  }

  /** One text in the prompt template, cut at a word to the model's token limit when it is too long. */
  #fit(
    rawPrompt: string,
  ): Readonly<{ ids: Array<number>; prompt: string; truncated: boolean; warning: string | null }> {
    const trimmed = rawPrompt.trim();
    const limit = this.maxTokens;
    let cond = this.#row(trimmed);
    if (cond.length <= limit) return { ids: cond, prompt: trimmed, truncated: false, warning: null };

    // Longest prefix whose row fits (binary search on characters), then back to the last word boundary.
    let lo = 0;
    let hi = Math.min(trimmed.length, limit * 64);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.#row(trimmed.slice(0, mid)).length <= limit) lo = mid;
      else hi = mid - 1;
    }
    const space = trimmed.slice(0, lo + 1).search(/\s\S*$/);
    const prompt = trimmed.slice(0, space > 0 ? space : lo).trimEnd();
    cond = this.#row(prompt);
    const kept = prompt.split(/\s+/).filter(Boolean).length;
    const total = trimmed.split(/\s+/).filter(Boolean).length;
    return {
      ids: cond,
      prompt,
      truncated: true,
      warning: `The prompt is longer than the model's limit of ${limit} tokens; it was cut after ${kept} of its ${total} words.`,
    };
  }
}
