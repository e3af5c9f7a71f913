// The Generate form's follow-ups: Variation and Re-order run from the result's own settings, never from (or into) the
// form the user is typing in, and leave what the result left to the model unpinned.
import { describe, expect, it } from 'vitest';
import { GenerateForm } from '../../renderer/src/lib/state/generate-form.svelte';
import type { Result } from '../../renderer/src/lib/state/generation.svelte';

const result: Result = {
  image: { id: 3, file: '/x.png', seed: 12, orderSeed: 12, width: 8, height: 8 },
  // The second image of a batch of 4 made with seed 11 and no explicit order seed.
  request: { prompt: 'a blue square', count: 4, seed: 11, tokensPerStep: 4 },
  sampling: { tokensPerStep: 4, steps: 20, cfg: 3, cfgSchedule: 'linear', order: 'random' },
  src: null,
  kind: 'generate',
  favorite: false,
};

function typing(): GenerateForm {
  const f = new GenerateForm({ count: 3 });
  f.prompt = 'something new I am typing';
  f.seed = 99;
  return f;
}

describe('generate form follow-ups', () => {
  it('variation: the result image’s order seed, a new noise seed, its prompt, one image; the form untouched', () => {
    const f = typing();
    const before = f.toRequest();
    expect(f.variation(result, 500)).toEqual({
      prompt: 'a blue square',
      count: 1,
      seed: 500,
      orderSeed: 12,
      tokensPerStep: 4,
    });
    expect(f.variation(result, 12).seed).toBe(13);
    expect(f.toRequest()).toEqual(before);
  });

  it('re-order: the result image’s seed, a new order seed; random order only where the result was raster', () => {
    const f = typing();
    const before = f.toRequest();
    const request = f.reorder(result, 7);
    expect(request).toEqual({ prompt: 'a blue square', count: 1, seed: 12, orderSeed: 7, tokensPerStep: 4 });
    expect(f.reorder(result, 12).orderSeed).toBe(13);
    const raster: Result = { ...result, sampling: { ...result.sampling!, order: 'raster' } };
    expect(f.reorder(raster, 7).order).toBe('random');
    expect(f.toRequest()).toEqual(before);
  });

  it('an empty order seed is left to the engine (it follows the seed)', () => {
    const f = new GenerateForm({ count: 1 });
    f.prompt = 'x';
    f.seed = 42;
    expect(f.toRequest()).toEqual({ prompt: 'x', count: 1, seed: 42 });
  });
});
