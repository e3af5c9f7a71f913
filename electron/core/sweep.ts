// Sweeps: one job over one or two sampling axes. The planner (sweep-axes.ts) expands the axes into cells, each an
// ordinary generate job of the runner (so every cell is a library item with its settings in its PNG, cancellable like
// any job); each cell's time per image is the engine's own time for it (engineMs; a queued job's total also holds its
// per-group progress and cancel checks, which `vgt bench` does not time), after one untimed warm-up image as bench makes. Shapes World
// prompts are scored by ShapesEval. The finished sweep is one grid PNG (sweep-grid.ts) whose `vgt-sweep` text chunk
// holds the settings.
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GenerationProgress, ResolvedSampling } from '../common/contract';
import type { SweepAxisName, SweepCell, SweepProgress, SweepRequest } from '../common/api/sweep';
import { StudioError, toErrorPayload } from '../common/errors';
import { parseShapesPrompt, scoreShapesImage } from '../common/shapes/score';
import { readManifest } from '../engine/bundle';
import { resolveSampling } from '../engine/engine';
import { decodeRgb } from '../platform/image';
import type { Library } from '../store/library';
import { pngSize } from '../store/png';
import type { EventHub } from './events';
import type { GenerationRunner } from './generation-runner';
import type { Services } from './services';
import { checkAxis, planSweep, type PlannedCell } from './sweep-axes';
import { composeSweepGrid, type GridInput } from './sweep-grid';

export const SWEEPS_DIR = 'sweeps';

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

type DoneCell = SweepCell & { png: Uint8Array };
const publicCell = ({ png: _png, ...cell }: DoneCell): SweepCell => cell;

/** What every cell of one sweep shares. */
type CellRun = Readonly<{
  runner: GenerationRunner;
  library: Library;
  modelId: string;
  prompt: string;
  scored: boolean;
}>;

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
    if (active.jobId !== null) await this.#services.runner.cancel(active.jobId).catch(() => undefined);
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
    const done: Array<DoneCell> = [];
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
      const { runner } = this.#services;
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
        const result = await this.#runCell(active, cell, { runner, library, modelId, prompt: request.prompt, scored });
        done.push(result);
        this.#emit({ sweepId: active.id, status: 'cell', cell: publicCell(result), done: i + 1, total: plan.length });
      }
      const grid = await composeSweepGrid(gridInput(request, modelId, firstSampling, done, scored), imageSize);
      active.grid = await this.#saveGrid(active, grid);
      this.#emit({
        sweepId: active.id,
        status: 'done',
        grid: active.grid,
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

  /** One cell: its generate job, awaited; its time per image from the library's record; its ShapesEval verdict. */
  async #runCell(active: Active, cell: PlannedCell, run: CellRun): Promise<DoneCell> {
    const event = await awaitJob(
      this.#services.events,
      () => run.runner.generate({ ...cell.request, model: run.modelId, count: 1, history: true, previews: false }),
      (jobId) => (active.jobId = jobId),
    );
    const image = event.images[0];
    if (!image || image.id === null) throw new StudioError('INTERNAL', 'A sweep cell was not recorded.');
    const record = await run.library.get(image.id);
    const msPerImage = record.timings?.engineMs ?? event.seconds * 1000;
    const png = await readFile(image.file);
    return {
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
      pass: run.scored ? await shapesVerdict(png, run.prompt) : null,
      png,
    };
  }

  /** Writes the grid under the data folder's sweeps/; returns its path. */
  async #saveGrid(active: Active, grid: Uint8Array): Promise<string> {
    const dir = path.join(this.#services.home, SWEEPS_DIR);
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `sweep-${stamp}-${active.id.slice(0, 8)}.png`);
    await writeFile(file, grid);
    return file;
  }
}

/** What the grid draws of a finished sweep; the fixed settings are the first cell's. */
function gridInput(
  request: SweepRequest,
  modelId: string,
  firstSampling: ResolvedSampling,
  done: ReadonlyArray<DoneCell>,
  scored: boolean,
): GridInput {
  const firstCell = done[0];
  return {
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
  };
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
