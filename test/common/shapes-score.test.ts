// The TypeScript ShapesEval scorer must agree exactly with the Python one (native-models/vgt/shapes/score.py)
// on a fixture the Python side writes: `cd native-models && /usr/bin/python3 -m vgt.shapes.make_fixture`.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  detectShapes,
  evaluateShapes,
  parseShapesPrompt,
  scoreShapesImage,
  type ShapesImage,
} from '../../electron/common/shapes/score';

type FixtureCase = {
  name: string;
  prompt: string;
  category: string;
  width: number;
  height: number;
  channels: number;
  offset: number;
  passed: boolean;
  objects: Array<{ color: string; shape: string; area: number; cx: number; cy: number; box: number[] }>;
};
type Fixture = {
  evaluation: { overall: number; categories: Record<string, number>; n: number };
  cases: FixtureCase[];
};

const dir = fileURLToPath(new URL('../fixtures/shapes-agreement/', import.meta.url));
const fixture = JSON.parse(readFileSync(dir + 'cases.json', 'utf8')) as Fixture;
const blob = new Uint8Array(gunzipSync(readFileSync(dir + 'images.bin.gz')));
const imageOf = (c: FixtureCase): ShapesImage => ({
  width: c.width,
  height: c.height,
  channels: c.channels,
  data: blob.subarray(c.offset, c.offset + c.width * c.height * c.channels),
});

describe('ShapesEval scorer: agreement with Python', () => {
  it('has a fixture with passing and failing cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(60);
    expect(fixture.cases.some((c) => c.passed)).toBe(true);
    expect(fixture.cases.filter((c) => !c.passed).length).toBeGreaterThanOrEqual(10);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s: same verdict and objects', (_name, c) => {
    const image = imageOf(c);
    expect(scoreShapesImage(image, c.prompt)).toBe(c.passed);
    expect(detectShapes(image)).toEqual(c.objects);
  });

  it('gives identical overall and per-category numbers', () => {
    const results = fixture.cases.map((c) => ({
      passed: scoreShapesImage(imageOf(c), c.prompt),
      category: c.category,
    }));
    const ev = evaluateShapes(results);
    expect(ev.n).toBe(fixture.evaluation.n);
    expect(ev.overall).toBe(fixture.evaluation.overall);
    expect(ev.categories).toEqual(fixture.evaluation.categories);
    expect(Object.keys(ev.categories)).toEqual(Object.keys(fixture.evaluation.categories));
  });
});

describe('parseShapesPrompt', () => {
  it.each([
    ['a red circle', 'object'],
    ['an orange triangle on a black background', 'object'],
    ['a blue square and a yellow triangle', 'and'],
    ['three green circles', 'count'],
    ['four orange triangles on a white background', 'count'],
    ['a red circle left of a blue triangle', 'position'],
    ['a purple circle below an orange circle', 'position'],
  ])('parses %s', (prompt, kind) => {
    expect(parseShapesPrompt(prompt)?.kind).toBe(kind);
  });

  it('reads the parts of a prompt', () => {
    expect(parseShapesPrompt('an orange square right of a purple circle on a black background')).toEqual({
      kind: 'position',
      objects: [
        ['orange', 'square'],
        ['purple', 'circle'],
      ],
      count: null,
      relation: 'right of',
      background: 'black',
    });
    expect(parseShapesPrompt('two red triangles')).toMatchObject({
      kind: 'count',
      count: 2,
      objects: [['red', 'triangle']],
    });
  });

  it.each(['a orange circle', 'an red circle', 'a red circle and a red circle', 'five red circles', 'a cat', ''])(
    'rejects %j',
    (prompt) => {
      expect(parseShapesPrompt(prompt)).toBeNull();
      expect(() => scoreShapesImage({ width: 4, height: 4, channels: 3, data: new Uint8Array(48) }, prompt)).toThrow();
    },
  );
});

describe('evaluateShapes', () => {
  it('averages per category, then over categories', () => {
    const ev = evaluateShapes([
      { passed: true, category: 'counting' },
      { passed: false, category: 'counting' },
      { passed: true, category: 'single_object' },
    ]);
    expect(ev).toEqual({ overall: 0.75, categories: { single_object: 1, counting: 0.5 }, n: 3 });
  });
});
