// The prompt template: every {prompt} is filled, so a bundle trained with the echo template (the prompt said twice,
// `ar --echo-prompt`) runs in the engine as it was trained.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest, type BundleManifest } from '../../electron/engine/bundle';
import { PromptEncoder } from '../../electron/engine/tokenizer';

const BUNDLE = path.resolve(import.meta.dirname, '../../native-models/bundles/vgt-shapes');
const ECHO = '<|im_start|>user\nGenerate an image: {prompt}. {prompt}<|im_end|>\n<|im_start|>assistant\n';

describe('prompt template', () => {
  let manifest: BundleManifest;
  beforeAll(async () => {
    manifest = await readManifest(BUNDLE);
  });

  it('fills every {prompt} of an echo template', async () => {
    const tokenizer = path.join(BUNDLE, 'tokenizer.json');
    const plain = await PromptEncoder.load(tokenizer, manifest);
    const echo = await PromptEncoder.load(tokenizer, {
      ...manifest,
      prompt: { ...manifest.prompt, template: ECHO },
    });
    const one = plain.encode('  a red circle left of a blue square ').cond;
    const two = echo.encode('  a red circle left of a blue square ').cond;
    // the body is what the plain row holds between "image :" and its three-token tail
    const body = plain.encode('a red circle left of a blue square').cond.slice(6, -3);
    expect(one).toEqual([...one.slice(0, 6), ...body, ...one.slice(-3)]);
    const dot = two[6 + body.length];
    expect(two).toEqual([...one.slice(0, 6), ...body, dot, ...body, ...one.slice(-3)]);
    expect(echo.encode('a red circle').uncond).toEqual(plain.encode('a red circle').uncond);
  });
});
