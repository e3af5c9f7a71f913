// The negative prompt: CFG's unconditional row is the prompt template around the negative text (the shipped
// vgt-shapes tokenizer), the bundle's unconditional prompt without one, and an over-long one is cut like a prompt.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type BundleManifest } from '../../electron/engine/bundle';
import { PromptEncoder } from '../../electron/engine/tokenizer';

const BUNDLE = path.resolve(import.meta.dirname, '../../native-models/bundles/vgt-shapes');

/** Does `row` hold `part` as a contiguous run? */
function contains(row: ReadonlyArray<number>, part: ReadonlyArray<number>): boolean {
  return row.some((_, i) => part.length > 0 && part.every((id, j) => row[i + j] === id));
}

describe('negative prompt', () => {
  let manifest: BundleManifest;
  let encoder: PromptEncoder;
  beforeAll(async () => {
    manifest = await readManifest(BUNDLE);
    encoder = await PromptEncoder.load(path.join(BUNDLE, 'tokenizer.json'), manifest);
  });

  it('puts the negative text in the unconditional row, in the prompt template', () => {
    const plain = encoder.encode('a red circle');
    // "red triangle": one phrase token of this tokenizer, which "a red circle" does not hold.
    const negative = encoder.encode('a red circle', 'red triangle');
    // The same template around "red triangle" as the conditional row has around the prompt.
    expect(negative.uncond).toEqual(encoder.encode('red triangle').cond);
    expect(negative.uncond).not.toEqual(plain.uncond);
    const triangle = encoder.encode('a red triangle').cond.filter((id) => !plain.cond.includes(id));
    expect(triangle.length).toBeGreaterThan(0);
    expect(contains(negative.uncond, triangle)).toBe(true);
    expect(contains(plain.uncond, triangle)).toBe(false);
    expect(negative.cond).toEqual(plain.cond);
  });

  it("keeps the bundle's unconditional prompt without one, or with a blank one", () => {
    const plain = encoder.encode('a red circle');
    expect(encoder.encode('a red circle', '   ').uncond).toEqual(plain.uncond);
    expect(encoder.encode('a red circle', null).uncond).toEqual(plain.uncond);
    expect(plain.uncond).not.toEqual(encoder.encode('').cond);
  });

  it('cuts an over-long negative prompt to the token limit and says so', async () => {
    const short = await PromptEncoder.load(path.join(BUNDLE, 'tokenizer.json'), {
      ...manifest,
      prompt: { ...manifest.prompt, maxTokens: 24 },
    });
    const result = short.encode('a red circle', Array.from({ length: 40 }, () => 'blue square').join(' '));
    expect(result.uncond.length).toBeLessThanOrEqual(24);
    expect(result.truncated).toBe(false);
    expect(result.warning).toMatch(/^Negative prompt: /);
  });
});
