// A finished sweep as one grid PNG: cells at their place, axis labels, ms and pass/fail marks per cell, a legend, and
// the settings in its `vgt-sweep` text chunk. The layout is pure; drawing goes through the image codec.
import type { ResolvedSampling } from '../common/contract';
import type { SweepAxis, SweepAxisName, SweepCell } from '../common/api/sweep';
import { composePng, type ComposeLayer } from '../platform/image';
import { embedPngText } from '../store/png';
import { AXIS_LABELS } from './sweep-axes';

/** The keyword of the grid PNG's settings (generated images carry theirs under `vgt`). */
export const SWEEP_PNG_KEYWORD = 'vgt-sweep';

export type GridInput = Readonly<{
  prompt: string;
  model: string;
  x: SweepAxis;
  y: SweepAxis | null;
  /** The settings no axis changes (the first cell's), for the legend. */
  fixed: ResolvedSampling & Readonly<{ seed: number | null; orderSeed: number | null }>;
  cells: ReadonlyArray<SweepCell & Readonly<{ png: Uint8Array }>>;
  /** Whether cells were scored by ShapesEval. */
  scored: boolean;
}>;

const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export const formatAxisValue = (axis: SweepAxisName, value: number): string =>
  axis === 'cfg' ? String(Math.round(value * 100) / 100) : String(value);

export const formatMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** Words into lines of at most `max` characters. */
function wrap(text: string, max: number): Array<string> {
  const lines: Array<string> = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The legend: what was varied, the settings every cell shares, and how to read the marks. */
export function legendText(input: GridInput): Array<string> {
  const f = input.fixed;
  const varied = new Set([input.x.axis, input.y?.axis]);
  const shared = [
    !varied.has('seed') && f.seed !== null ? `seed ${f.seed}` : null,
    varied.has('orderSeed') ? null : f.orderSeed !== null ? `order seed ${f.orderSeed}` : 'order seed = seed',
    !varied.has('tokensPerStep') ? `tokens per step ${f.tokensPerStep}` : null,
    !varied.has('steps') ? `steps ${f.steps}` : null,
    !varied.has('cfg') ? `CFG ${f.cfg}` : null,
    `CFG schedule ${f.cfgSchedule}`,
    `order ${f.order}`,
  ].filter((p): p is string => p !== null);
  const axes = `${AXIS_LABELS[input.x.axis]}${input.y ? ` × ${AXIS_LABELS[input.y.axis]}` : ''}`;
  return [
    `Sweep of ${axes} on ${input.model}; every image: ${shared.join(', ')}.`,
    'Under each image: its time per image on this machine, measured as vgt bench measures it.',
    input.scored
      ? 'ShapesEval: ✓ pass (green frame), ✗ fail (red frame).'
      : 'Not a Shapes World prompt, so no ShapesEval verdict.',
  ];
}

/** Where everything of a grid goes; pure, so the layout is tested without drawing it. */
export function gridLayout(input: GridInput, imageSize: number) {
  const cols = input.x.values.length;
  const rows = input.y?.values.length ?? 1;
  const cell = Math.min(512, Math.max(160, imageSize));
  const margin = 16;
  const gap = 10;
  const caption = 24;
  const header = 58; // the prompt, then the x axis's name and values
  const labels = input.y ? 120 : 0;
  const left = margin + labels;
  const top = margin + header;
  const gridWidth = cols * cell + (cols - 1) * gap;
  const gridHeight = rows * (cell + caption) + (rows - 1) * gap;
  const width = Math.max(left + gridWidth + margin, 560);
  // About 7.5 px a character at 13 px.
  const legend = legendText(input).flatMap((line) => wrap(line, Math.floor((width - 2 * margin) / 7.5)));
  const legendTop = top + gridHeight + 12;
  const height = legendTop + 8 + legend.length * 20 + margin;
  const at = (col: number, row: number) => ({
    left: left + col * (cell + gap),
    top: top + row * (cell + caption + gap),
  });
  return { cols, rows, cell, margin, gap, caption, left, top, width, height, legend, legendTop, at };
}

function gridSvg(input: GridInput, layout: ReturnType<typeof gridLayout>): string {
  const { cell, caption, margin, width, height, at } = layout;
  const text = (x: number, y: number, body: string, attrs = ''): string =>
    `<text x="${x}" y="${y}" ${attrs}>${escapeXml(body)}</text>`;
  const parts: Array<string> = [];
  parts.push(text(margin, margin + 16, `“${clip(input.prompt, 90)}”`, 'font-size="16" font-weight="bold"'));
  parts.push(text(layout.left, margin + 38, `${AXIS_LABELS[input.x.axis]} →`, 'font-size="13" fill="#555"'));
  for (const [col, value] of input.x.values.entries()) {
    const p = at(col, 0);
    parts.push(
      text(p.left + cell / 2, p.top - 6, formatAxisValue(input.x.axis, value), 'font-size="14" text-anchor="middle"'),
    );
  }
  if (input.y) {
    parts.push(text(margin, margin + 38, `${AXIS_LABELS[input.y.axis]} ↓`, 'font-size="13" fill="#555"'));
    for (const [row, value] of input.y.values.entries()) {
      const p = at(0, row);
      parts.push(text(margin, p.top + cell / 2 + 5, formatAxisValue(input.y.axis, value), 'font-size="14"'));
    }
  }
  for (const c of input.cells) {
    const p = at(c.col, c.row);
    const mark = c.pass === null ? '' : c.pass ? '  ✓ pass' : '  ✗ fail';
    const colour = c.pass === null ? '#222' : c.pass ? '#1a7f37' : '#c0262d';
    if (c.pass !== null) {
      parts.push(
        `<rect x="${p.left - 2}" y="${p.top - 2}" width="${cell + 4}" height="${cell + 4}" fill="none" ` +
          `stroke="${colour}" stroke-width="3"/>`,
      );
    }
    const label = `${formatMs(c.msPerImage)}${mark}`;
    parts.push(text(p.left + 2, p.top + cell + caption - 7, label, `font-size="13" fill="${colour}"`));
  }
  for (const [i, line] of layout.legend.entries()) {
    parts.push(text(margin, layout.legendTop + 16 + i * 20, line, 'font-size="13" fill="#333"'));
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="DejaVu Sans, Helvetica, Arial, sans-serif" fill="#222">${parts.join('')}</svg>`
  );
}

/** The settings a grid PNG carries, as JSON (fixed key order). */
export function sweepMetadata(input: GridInput): string {
  return JSON.stringify({
    vgt: 1,
    kind: 'sweep',
    // As much of the prompt as the library keeps of a generation's.
    prompt: input.prompt.slice(0, 4096),
    modelId: input.model,
    x: input.x,
    y: input.y,
    fixed: input.fixed,
    cells: input.cells.map((c) => ({
      col: c.col,
      row: c.row,
      x: c.x,
      y: c.y,
      id: c.id,
      seed: c.seed,
      orderSeed: c.orderSeed,
      sampling: c.sampling,
      msPerImage: Math.round(c.msPerImage * 10) / 10,
      pass: c.pass,
    })),
  });
}

/** The grid PNG of a sweep: cells at their place, labels, ms and pass/fail per cell, a legend; settings inside. */
export async function composeSweepGrid(input: GridInput, imageSize: number): Promise<Buffer> {
  const layout = gridLayout(input, imageSize);
  const layers: Array<ComposeLayer> = input.cells.map((c) => ({
    input: c.png,
    ...layout.at(c.col, c.row),
    width: layout.cell,
    height: layout.cell,
  }));
  layers.push({ input: Buffer.from(gridSvg(input, layout)), left: 0, top: 0 });
  const png = await composePng(layout.width, layout.height, '#ffffff', layers);
  return embedPngText(png, SWEEP_PNG_KEYWORD, sweepMetadata(input));
}
