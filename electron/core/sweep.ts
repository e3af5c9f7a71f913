// Sweeps: one job over one or two sampling axes. The planner expands the axes into cells, each an ordinary generate
// job of the runner (so every cell is a library item with its settings in its PNG, cancellable like any job); each
// cell's time per image is the runner's own measure of the job (totalMs: model lookup and the engine's run, the span
// `vgt bench` times around an image), after one untimed warm-up image as bench makes. Shapes World prompts are scored
// by ShapesEval. The finished sweep is one grid PNG (cells, axis labels, ms and pass/fail marks, a legend) whose
// `vgt-sweep` text chunk holds the settings.
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GenerateRequest, GenerationProgress, ResolvedSampling } from '../common/contract';
import {
  SWEEP_AXES,
  SWEEP_LIMITS,
  type SweepAxis,
  type SweepAxisName,
  type SweepCell,
  type SweepProgress,
  type SweepRequest,
} from '../common/api/sweep';
import { StudioError, toErrorPayload } from '../common/errors';
import { parseShapesPrompt, scoreShapesImage } from '../common/shapes/score';
import { readManifest } from '../engine/bundle';
import { resolveSampling } from '../engine/engine';
import { composePng, decodeRgb, type ComposeLayer } from '../engine/image';
import { embedPngText, pngSize } from '../store/png';
import type { EventHub } from './events';
import { generationRunner } from './generation-runner';
import type { Services } from './services';

/** The keyword of the grid PNG's settings (generated images carry theirs under `vgt`). */
export const SWEEP_PNG_KEYWORD = 'vgt-sweep';
export const SWEEPS_DIR = 'sweeps';

// ---- axes ----

/** The CLI's spelling of each axis. */
export const AXIS_FLAGS: Readonly<Record<SweepAxisName, string>> = {
  seed: 'seed',
  tokensPerStep: 'tokens-per-step',
  cfg: 'cfg',
  steps: 'steps',
  orderSeed: 'order-seed',
};

/** How a person reads each axis (labels and legend). */
export const AXIS_LABELS: Readonly<Record<SweepAxisName, string>> = {
  seed: 'seed',
  tokensPerStep: 'tokens per step',
  cfg: 'CFG',
  steps: 'steps',
  orderSeed: 'order seed',
};

/** `AXIS=V1,V2,…` (the CLI's --x and --y) → an axis; USAGE when it is not one. Ranges are checked by `checkAxis`. */
export function parseAxisOption(text: string): SweepAxis {
  const eq = text.indexOf('=');
  const flag = eq < 0 ? text : text.slice(0, eq).trim();
  const axis = SWEEP_AXES.find((a) => AXIS_FLAGS[a] === flag || a === flag);
  const names = SWEEP_AXES.map((a) => AXIS_FLAGS[a]).join(', ');
  if (eq < 0 || !axis) {
    throw new StudioError('USAGE', `An axis is AXIS=V1,V2,… with AXIS one of ${names}; not ${JSON.stringify(text)}.`);
  }
  const raw = text.slice(eq + 1).split(',');
  const values = raw.map((v) => (v.trim() === '' ? NaN : Number(v)));
  const bad = raw.find((_, i) => !Number.isFinite(values[i]));
  if (bad !== undefined) throw new StudioError('USAGE', `${flag} takes numbers, not ${JSON.stringify(bad.trim())}.`);
  return { axis, values };
}

/** Checks an axis's values against what its setting takes on a model of `tokens` grid tokens. */
export function checkAxis(axis: SweepAxis, tokens: number): void {
  const label = AXIS_LABELS[axis.axis];
  const integer = axis.axis !== 'cfg';
  const [min, max] =
    axis.axis === 'tokensPerStep'
      ? [1, tokens]
      : axis.axis === 'steps'
        ? [1, 1000]
        : axis.axis === 'cfg'
          ? [0, 100]
          : [0, Number.MAX_SAFE_INTEGER];
  if (axis.values.length === 0 || axis.values.length > SWEEP_LIMITS.values) {
    throw new StudioError('INVALID_PAYLOAD', `An axis takes 1 to ${SWEEP_LIMITS.values} values.`);
  }
  for (const value of axis.values) {
    if ((integer && !Number.isSafeInteger(value)) || value < min || value > max) {
      throw new StudioError(
        'INVALID_PAYLOAD',
        `${label} ${value} is out of range: it takes ${integer ? 'whole numbers' : 'numbers'} from ${min} to ${max}.`,
      );
    }
  }
  if (new Set(axis.values).size !== axis.values.length) {
    throw new StudioError('INVALID_PAYLOAD', `The ${label} axis repeats a value.`);
  }
}

/** One planned cell: where it goes and the generate request that makes it. */
export type PlannedCell = Readonly<{
  col: number;
  row: number;
  x: number;
  y: number | null;
  request: GenerateRequest & Readonly<{ seed: number }>;
}>;

const REQUEST_KEYS: Readonly<Record<SweepAxisName, keyof GenerateRequest>> = {
  seed: 'seed',
  tokensPerStep: 'tokensPerStep',
  cfg: 'cfg',
  steps: 'steps',
  orderSeed: 'orderSeed',
};

/**
 * The cells of a sweep, row by row (y outer, x inner): the base settings with each cell's axis values. `seed` is the
 * seed of every cell the axes leave it to (one seed for all, so only the axes change between cells). The order seed
 * follows each cell's seed unless set, as in `generate`.
 */
export function planSweep(request: SweepRequest, seed: number): Array<PlannedCell> {
  const { x, y } = request;
  if (y && y.axis === x.axis) throw new StudioError('INVALID_PAYLOAD', 'The x and y axes must be different settings.');
  const rows = y?.values ?? [null];
  if (x.values.length * rows.length > SWEEP_LIMITS.cells) {
    throw new StudioError(
      'INVALID_PAYLOAD',
      `A sweep makes at most ${SWEEP_LIMITS.cells} images; this one would make ${x.values.length * rows.length}.`,
    );
  }
  const base: GenerateRequest & { seed: number } = {
    prompt: request.prompt,
    seed: request.seed ?? seed,
    ...defined({
      model: request.model,
      orderSeed: request.orderSeed,
      tokensPerStep: request.tokensPerStep,
      steps: request.steps,
      cfg: request.cfg,
      cfgSchedule: request.cfgSchedule,
      order: request.order,
    }),
  };
  const cells: Array<PlannedCell> = [];
  for (const [row, yValue] of rows.entries()) {
    for (const [col, xValue] of x.values.entries()) {
      const cell: GenerateRequest & { seed: number } = { ...base, [REQUEST_KEYS[x.axis]]: xValue };
      if (y && yValue !== null) Object.assign(cell, { [REQUEST_KEYS[y.axis]]: yValue });
      cells.push({ col, row, x: xValue, y: yValue, request: cell });
    }
  }
  return cells;
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- the grid PNG ----

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

// ---- running ----

/** ShapesEval's verdict on an image, or null when the prompt is not a Shapes World prompt. */
export async function shapesVerdict(png: Uint8Array, prompt: string): Promise<boolean | null> {
  if (!parseShapesPrompt(prompt)) return null;
  const rgb = await decodeRgb(png);
  return scoreShapesImage({ ...rgb, channels: 3 }, prompt);
}

type Done = Extract<GenerationProgress, { status: 'done' }>;

/** Starts a job and resolves with its `done` event; its error, or CANCELLED, is thrown. */
async function awaitJob(
  events: EventHub,
  start: () => Promise<{ jobId: string }>,
  onJob: (jobId: string | null) => void,
): Promise<Done> {
  const early: Array<GenerationProgress> = [];
  let jobId: string | null = null;
  let settle: ((event: GenerationProgress) => void) | null = null;
  const ended = (e: GenerationProgress): boolean =>
    e.status === 'done' || e.status === 'error' || e.status === 'cancelled';
  const stop = events.subscribe((event) => {
    if (event.type !== 'generation.progress' || !ended(event.data)) return;
    if (jobId === null) early.push(event.data);
    else if (event.data.jobId === jobId) settle?.(event.data);
  });
  try {
    const end = new Promise<GenerationProgress>((resolve) => (settle = resolve));
    jobId = (await start()).jobId;
    onJob(jobId);
    const seen = early.find((e) => e.jobId === jobId);
    const event = seen ?? (await end);
    if (event.status === 'done') return event;
    if (event.status === 'error') throw new StudioError(toErrorPayload(event.error).code, event.error.message);
    throw new StudioError('CANCELLED', 'The sweep was cancelled.');
  } finally {
    onJob(null);
    stop();
  }
}

type Active = {
  readonly id: string;
  cancelled: boolean;
  jobId: string | null;
  grid: string | null;
};

/** This studio's sweeps: one runs at a time; finished ones are remembered for their grid. */
export class Sweeps {
  readonly #services: Services;
  readonly #sweeps = new Map<string, Active>();
  #running: Active | null = null;

  constructor(services: Services) {
    this.#services = services;
  }

  #emit(data: SweepProgress): void {
    this.#services.events.emit({ type: 'sweep.progress', data });
  }

  /** Checks the request (model, axes, values), then runs the sweep in the background. */
  async start(request: SweepRequest): Promise<{ sweepId: string; total: number }> {
    if (this.#running) throw new StudioError('BUSY', 'A sweep is running; cancel it or wait for it to finish.');
    const model = await this.#services.models.resolve(request.model);
    const manifest = await readManifest(model.path);
    const [h, w] = manifest.image.grid;
    checkAxis(request.x, h * w);
    if (request.y) checkAxis(request.y, h * w);
    const cells = planSweep({ ...request, model: model.id }, request.seed ?? randomSeed());
    const sampling = cells.map((c) => resolveSampling(manifest, c.request));
    const active: Active = { id: randomUUID(), cancelled: false, jobId: null, grid: null };
    this.#sweeps.set(active.id, active);
    this.#running = active;
    queueMicrotask(() => {
      void this.#run(active, request, model.id, manifest.image.size, cells, sampling).finally(() => {
        this.#running = null;
      });
    });
    return { sweepId: active.id, total: cells.length };
  }

  async cancel(sweepId: string): Promise<{ cancelled: boolean }> {
    const active = this.#sweeps.get(sweepId);
    if (!active) throw new StudioError('NOT_FOUND', `No sweep ${sweepId} in this session.`);
    if (this.#running !== active) return { cancelled: false };
    active.cancelled = true;
    if (active.jobId !== null)
      await generationRunner(this.#services)
        .cancel(active.jobId)
        .catch(() => undefined);
    return { cancelled: true };
  }

  async grid(sweepId: string): Promise<{ png: string; width: number; height: number; file: string }> {
    const file = this.#sweeps.get(sweepId)?.grid;
    if (!file) throw new StudioError('NOT_FOUND', `Sweep ${sweepId} has no grid (not finished in this session).`);
    const png = await readFile(file);
    const { width, height } = pngSize(png);
    return { png: png.toString('base64'), width, height, file };
  }

  async #run(
    active: Active,
    request: SweepRequest,
    modelId: string,
    imageSize: number,
    plan: ReadonlyArray<PlannedCell>,
    sampling: ReadonlyArray<ResolvedSampling>,
  ): Promise<void> {
    const started = performance.now();
    const scored = parseShapesPrompt(request.prompt) !== null;
    const done: Array<SweepCell & { png: Uint8Array }> = [];
    const publicCell = ({ png: _png, ...cell }: SweepCell & { png: Uint8Array }): SweepCell => cell;
    this.#emit({
      sweepId: active.id,
      status: 'started',
      prompt: request.prompt,
      model: modelId,
      x: request.x,
      y: request.y ?? null,
      scored,
      total: plan.length,
    });
    try {
      const runner = generationRunner(this.#services);
      const library = await this.#services.library.get();
      const first = plan[0];
      const firstSampling = sampling[0];
      if (!first || !firstSampling) throw new StudioError('INTERNAL', 'A sweep without cells.');
      // As `vgt bench`: one untimed image first loads the model and warms every graph, so no cell pays for it.
      await runner.direct({
        prompt: request.prompt,
        model: modelId,
        sampling: firstSampling,
        seeds: [first.request.seed],
        orderSeeds: [first.request.orderSeed ?? first.request.seed],
      });
      for (const [i, cell] of plan.entries()) {
        if (active.cancelled) throw new StudioError('CANCELLED');
        const event = await awaitJob(
          this.#services.events,
          () => runner.generate({ ...cell.request, model: modelId, count: 1, history: true, previews: false }),
          (jobId) => (active.jobId = jobId),
        );
        const image = event.images[0];
        if (!image || image.id === null) throw new StudioError('INTERNAL', 'A sweep cell was not recorded.');
        const record = await library.get(image.id);
        const msPerImage = record.timings?.totalMs ?? event.seconds * 1000;
        const png = await readFile(image.file);
        const result = {
          col: cell.col,
          row: cell.row,
          x: cell.x,
          y: cell.y,
          id: image.id,
          file: image.file,
          seed: image.seed,
          orderSeed: image.orderSeed,
          sampling: {
            tokensPerStep: record.params.tokensPerStep,
            steps: record.params.steps,
            cfg: record.params.cfg,
            cfgSchedule: record.params.cfgSchedule,
            order: record.params.order,
          },
          msPerImage,
          pass: scored ? await shapesVerdict(png, request.prompt) : null,
          png,
        };
        done.push(result);
        this.#emit({ sweepId: active.id, status: 'cell', cell: publicCell(result), done: i + 1, total: plan.length });
      }
      const firstCell = done[0];
      const grid = await composeSweepGrid(
        {
          prompt: request.prompt,
          model: modelId,
          x: request.x,
          y: request.y ?? null,
          fixed: {
            ...(firstCell?.sampling ?? firstSampling),
            seed: firstCell?.seed ?? null,
            // Unset, the order seed follows each cell's seed.
            orderSeed: request.orderSeed ?? (varies(request, 'seed') ? null : (firstCell?.orderSeed ?? null)),
          },
          cells: done,
          scored,
        },
        imageSize,
      );
      const dir = path.join(this.#services.home, SWEEPS_DIR);
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = path.join(dir, `sweep-${stamp}-${active.id.slice(0, 8)}.png`);
      await writeFile(file, grid);
      active.grid = file;
      this.#emit({
        sweepId: active.id,
        status: 'done',
        grid: file,
        cells: done.map(publicCell),
        seconds: (performance.now() - started) / 1000,
      });
    } catch (error) {
      const payload = toErrorPayload(error);
      if (payload.code === 'CANCELLED') {
        this.#emit({ sweepId: active.id, status: 'cancelled', cells: done.map(publicCell) });
      } else this.#emit({ sweepId: active.id, status: 'error', error: payload });
    }
  }
}

const varies = (request: SweepRequest, axis: SweepAxisName): boolean =>
  request.x.axis === axis || request.y?.axis === axis;

function randomSeed(): number {
  return randomInt(0, 2 ** 32);
}

const sweeps = new WeakMap<Services, Sweeps>();

/** The studio's sweeps, created on first use. */
export function sweepsOf(services: Services): Sweeps {
  let s = sweeps.get(services);
  if (!s) {
    s = new Sweeps(services);
    sweeps.set(services, s);
  }
  return s;
}
