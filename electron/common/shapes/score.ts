// ShapesEval: the Shapes World v1 scorer (native-models/vgt/shapes/SHAPES_WORLD.md, "Scoring").
// A line-for-line port of native-models/vgt/shapes/{grammar,score}.py; both must give identical verdicts,
// which test/common/shapes-score.test.ts checks on a fixture written by the Python side.
// Pure: no Node or Electron imports, so the engine, the CLI and the renderer can all use it.
//
// Choices the spec leaves open (the same in Python):
//  - S is min(height, width);
//  - "the background" is both background colours: a pixel nearer to white (245) or black (25) than to
//    a palette colour is background, whatever the prompt's suffix;
//  - an unparseable prompt throws (it cannot be scored).
// Every measurement is an integer (pixel counts, coordinate sums) and the float comparisons are the same
// IEEE double expressions as in Python, so the two scorers cannot drift apart by rounding.

export const SHAPES_COLORS = {
  red: [220, 50, 47],
  green: [60, 170, 70],
  blue: [38, 110, 220],
  yellow: [240, 200, 40],
  purple: [140, 70, 180],
  orange: [245, 130, 40],
} as const;
export type ShapesColor = keyof typeof SHAPES_COLORS;
export const SHAPES_COLOR_NAMES = Object.keys(SHAPES_COLORS) as ShapesColor[];
export const SHAPES_SHAPES = ['circle', 'square', 'triangle'] as const;
export type ShapesShape = (typeof SHAPES_SHAPES)[number];
export const SHAPES_BACKGROUNDS = { white: [245, 245, 245], black: [25, 25, 25] } as const;
export type ShapesBackground = keyof typeof SHAPES_BACKGROUNDS;
export const SHAPES_RELATIONS = ['left of', 'right of', 'above', 'below'] as const;
export type ShapesRelation = (typeof SHAPES_RELATIONS)[number];
export const SHAPES_CATEGORIES = [
  'single_object',
  'two_object',
  'counting',
  'colors',
  'position',
  'color_attr',
] as const;
const NUMBERS: Readonly<Record<string, number>> = { two: 2, three: 3, four: 4 };

export type ShapesPair = readonly [ShapesColor, ShapesShape];
export type ParsedShapesPrompt = Readonly<{
  kind: 'object' | 'and' | 'count' | 'position';
  objects: readonly ShapesPair[];
  count: number | null;
  relation: ShapesRelation | null;
  background: ShapesBackground | null;
}>;

export type ShapesImage = Readonly<{ width: number; height: number; channels: number; data: Uint8Array }>;

export type ShapesObject = Readonly<{
  color: ShapesColor;
  shape: ShapesShape | 'unknown';
  area: number;
  cx: number;
  cy: number;
  box: readonly [number, number, number, number];
}>;

export type ShapesResult = Readonly<{ passed: boolean; category: string }>;
export type ShapesEvaluation = { overall: number; categories: Record<string, number>; n: number };

const C = SHAPES_COLOR_NAMES.join('|');
const SH = SHAPES_SHAPES.join('|');
const OBJ = `(a|an) (${C}) (${SH})`;
const PATTERNS: ReadonlyArray<readonly [ParsedShapesPrompt['kind'], RegExp]> = [
  ['object', new RegExp(`^${OBJ}$`)],
  ['and', new RegExp(`^${OBJ} and ${OBJ}$`)],
  ['count', new RegExp(`^(${Object.keys(NUMBERS).join('|')}) (${C}) (${SH})s$`)],
  ['position', new RegExp(`^${OBJ} (${SHAPES_RELATIONS.join('|')}) ${OBJ}$`)],
];
const SUFFIX = /^(.*) on a (white|black) background$/;

const article = (color: string): string => (color === 'orange' ? 'an' : 'a');

/** Parse a prompt of the Shapes World grammar, or return null when it is not one (mirrors grammar.py). */
export function parseShapesPrompt(prompt: string): ParsedShapesPrompt | null {
  // Python's str.strip() and JS trim() differ only on exotic whitespace; prompts are ASCII.
  let text = prompt.trim().toLowerCase();
  let background: ShapesBackground | null = null;
  const suffix = SUFFIX.exec(text);
  if (suffix) {
    text = suffix[1] ?? '';
    background = suffix[2] as ShapesBackground;
  }
  for (const [kind, pattern] of PATTERNS) {
    const m = pattern.exec(text);
    if (!m) continue;
    const g = m.slice(1) as string[];
    const pair = (c: number, s: number): ShapesPair => [g[c] as ShapesColor, g[s] as ShapesShape];
    if (kind === 'count') {
      return { kind, objects: [pair(1, 2)], count: NUMBERS[g[0] as string] ?? null, relation: null, background };
    }
    const arts = [g[0]];
    const objects: ShapesPair[] = [pair(1, 2)];
    let relation: ShapesRelation | null = null;
    if (kind === 'and') {
      arts.push(g[3]);
      objects.push(pair(4, 5));
    } else if (kind === 'position') {
      relation = g[3] as ShapesRelation;
      arts.push(g[4]);
      objects.push(pair(5, 6));
    }
    if (objects.some(([c], i) => arts[i] !== article(c))) return null;
    if (kind === 'and' && objects[0]?.[0] === objects[1]?.[0] && objects[0]?.[1] === objects[1]?.[1]) return null;
    return { kind, objects, count: null, relation, background };
  }
  return null;
}

const PALETTE: ReadonlyArray<readonly number[]> = [
  ...SHAPES_COLOR_NAMES.map((c) => SHAPES_COLORS[c]),
  SHAPES_BACKGROUNDS.white,
  SHAPES_BACKGROUNDS.black,
];
const MAX_DIST2 = 60 * 60;
const MIN_AREA_FRAC = 0.006;
const MARGIN_FRAC = 0.05;

/** Per-pixel label: 0..5 for a palette colour, -1 for background or unassigned (spec step 1). */
export function segmentShapes(image: ShapesImage): Int8Array {
  const { width, height, channels, data } = image;
  if (channels < 3 || data.length < width * height * channels) {
    throw new Error(`expected an RGB(A) image of ${width}x${height}x${channels}`);
  }
  const labels = new Int8Array(width * height);
  for (let i = 0, p = 0; i < width * height; i++, p += channels) {
    const r = data[p] as number;
    const g = data[p + 1] as number;
    const b = data[p + 2] as number;
    let best = -1;
    let bestD = Infinity;
    let second = Infinity;
    for (let k = 0; k < PALETTE.length; k++) {
      const c = PALETTE[k] as readonly number[];
      const dr = r - (c[0] as number);
      const dg = g - (c[1] as number);
      const db = b - (c[2] as number);
      const d = dr * dr + dg * dg + db * db;
      if (d < bestD) {
        second = bestD;
        bestD = d;
        best = k;
      } else if (d < second) {
        second = d;
      }
    }
    // strictly nearer than every other colour and background; a tie means no label
    labels[i] = best < 6 && bestD < MAX_DIST2 && bestD < second ? best : -1;
  }
  return labels;
}

export function classifyShape(area: number, width: number, height: number): ShapesShape | 'unknown' {
  const aspect = width / height;
  if (aspect < 0.6 || aspect > 1.67) return 'unknown';
  const r = area / (width * height);
  if (r >= 0.88) return 'square';
  if (r >= 0.62) return 'circle';
  return 'triangle';
}

/** Every object in the image: 4-connected components of one colour with area >= 0.006·S² (steps 1-2). */
export function detectShapes(image: ShapesImage): ShapesObject[] {
  const { width, height } = image;
  const S = Math.min(width, height);
  const labels = segmentShapes(image);
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const found: Array<ShapesObject & { start: number }> = [];
  for (let start = 0; start < labels.length; start++) {
    const k = labels[start] as number;
    if (k < 0 || seen[start]) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let area = 0;
    let sx = 0;
    let sy = 0;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    while (top > 0) {
      const i = stack[--top] as number;
      const x = i % width;
      const y = (i - x) / width;
      area++;
      sx += x;
      sy += y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const push = (j: number): void => {
        if (!seen[j] && labels[j] === k) {
          seen[j] = 1;
          stack[top++] = j;
        }
      };
      if (x > 0) push(i - 1);
      if (x < width - 1) push(i + 1);
      if (y > 0) push(i - width);
      if (y < height - 1) push(i + width);
    }
    if (area < MIN_AREA_FRAC * S * S) continue;
    found.push({
      start: k * labels.length + start, // sort key: colour, then first pixel (Python's order)
      color: SHAPES_COLOR_NAMES[k] as ShapesColor,
      shape: classifyShape(area, x1 - x0 + 1, y1 - y0 + 1),
      area,
      cx: sx / area,
      cy: sy / area,
      box: [x0, y0, x1, y1],
    });
  }
  found.sort((a, b) => a.start - b.start);
  return found.map(({ start: _start, ...o }) => o);
}

function holds(a: ShapesObject, b: ShapesObject, relation: ShapesRelation, margin: number): boolean {
  switch (relation) {
    case 'left of':
      return a.cx < b.cx - margin;
    case 'right of':
      return a.cx > b.cx + margin;
    case 'above':
      return a.cy < b.cy - margin;
    case 'below':
      return a.cy > b.cy + margin;
  }
}

/** Pass rule of spec step 4 for detected objects and a parsed prompt. */
export function checkShapes(objects: readonly ShapesObject[], parsed: ParsedShapesPrompt, S: number): boolean {
  const of = (pair: ShapesPair | undefined): ShapesObject[] =>
    pair ? objects.filter((o) => o.color === pair[0] && o.shape === pair[1]) : [];
  const [p0, p1] = parsed.objects;
  switch (parsed.kind) {
    case 'object':
      return of(p0).length >= 1;
    case 'and':
      return of(p0).length >= 1 && of(p1).length >= 1;
    case 'count':
      return of(p0).length === parsed.count;
    case 'position': {
      const margin = MARGIN_FRAC * S;
      const relation = parsed.relation as ShapesRelation;
      const bs = of(p1);
      return of(p0).some((a) => bs.some((b) => holds(a, b, relation, margin)));
    }
  }
}

/** True when the image passes the prompt; throws when the prompt is not of the Shapes World grammar. */
export function scoreShapesImage(image: ShapesImage, prompt: string): boolean {
  const parsed = parseShapesPrompt(prompt);
  if (!parsed) throw new Error(`not a Shapes World prompt: ${JSON.stringify(prompt)}`);
  return checkShapes(detectShapes(image), parsed, Math.min(image.width, image.height));
}

/** Mean pass rate per category, then the mean over categories (the GenEval "overall"; spec step 5). */
export function evaluateShapes(results: Iterable<ShapesResult>): ShapesEvaluation {
  const per = new Map<string, { pass: number; n: number }>();
  let n = 0;
  for (const { passed, category } of results) {
    const c = per.get(category) ?? { pass: 0, n: 0 };
    c.pass += passed ? 1 : 0;
    c.n += 1;
    per.set(category, c);
    n++;
  }
  const known: readonly string[] = SHAPES_CATEGORIES;
  const order = [
    ...SHAPES_CATEGORIES.filter((c) => per.has(c)),
    ...[...per.keys()].filter((c) => !known.includes(c)).sort(),
  ];
  const categories: Record<string, number> = {};
  let sum = 0;
  for (const c of order) {
    const { pass, n: count } = per.get(c) as { pass: number; n: number };
    categories[c] = pass / count;
    sum += pass / count;
  }
  return { overall: order.length ? sum / order.length : 0, categories, n };
}
