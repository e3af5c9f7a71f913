// Prompt history for the prompt box's completion, on a real library: prompts that start with the text first, then
// those that contain it, newest use first; negative prompts and prompts only in the trash stay out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLibrary, type Library } from '../../electron/store/library';
import { params, png, tempHome } from './helpers';

let cleanup: () => void;
let library: Library;
let clock = Date.UTC(2026, 0, 1);
let n = 0;

beforeEach(async () => {
  let home: string;
  ({ home, cleanup } = tempHome());
  library = await openLibrary(home, { now: () => clock });
});
afterEach(() => {
  library.close();
  cleanup();
});

async function record(prompt: string, negativePrompt: string | null = null): Promise<number> {
  clock += 1000;
  n += 1;
  return (await library.recordGeneration(params({ prompt, negativePrompt, seed: n }), await png(n))).id;
}

const texts = async (text?: string, limit?: number) => (await library.prompts(text, limit)).map((p) => p.text);

describe('prompt history', () => {
  it('puts prompts that start with the text first, then those containing it, newest first either way', async () => {
    await record('a red circle');
    await record('two shapes, a red one');
    await record('a red square');
    await record('A RED star');
    await record('a blue square');
    expect(await texts('a red')).toEqual(['A RED star', 'a red square', 'a red circle', 'two shapes, a red one']);
    expect(await texts('  SQUARE ')).toEqual(['a blue square', 'a red square']);
    expect(await texts('')).toEqual([
      'a blue square',
      'A RED star',
      'a red square',
      'two shapes, a red one',
      'a red circle',
    ]);
    expect(await texts('', 2)).toEqual(['a blue square', 'A RED star']);
    expect(await texts('green')).toEqual([]);
  });

  it('lists a prompt once, moved up by its latest use, with its count and when it was last used', async () => {
    await record('a red circle');
    await record('a green circle');
    await record('a red circle');
    const prompts = await library.prompts('circle');
    expect(prompts).toEqual([
      { text: 'a red circle', uses: 2, lastUsedAt: new Date(clock).toISOString() },
      { text: 'a green circle', uses: 1, lastUsedAt: new Date(clock - 1000).toISOString() },
    ]);
  });

  it('leaves out negative prompts and prompts whose images are all in the trash', async () => {
    await record('a red circle', 'blurry circle');
    const trashed = await record('a secret circle');
    await library.trash([trashed]);
    expect(await texts('circle')).toEqual(['a red circle']);
    await library.restore([trashed]);
    expect(await texts('circle')).toEqual(['a secret circle', 'a red circle']);
  });

  it('treats quotes, percent signs and SQL as plain text', async () => {
    await record('50% "red" circle');
    expect(await texts('50% "red"')).toEqual(['50% "red" circle']);
    expect(await texts("'; DROP TABLE prompts; --")).toEqual([]);
    expect(await texts('_')).toEqual([]);
  });
});
