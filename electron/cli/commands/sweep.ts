// `vgt sweep`: one job over one or two sampling axes (core/sweep.ts); every cell goes into the library, the grid PNG
// to the data folder's sweeps/ (or --out).
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { SweepAxis, SweepCell, SweepProgress, SweepRequest } from '../../common/contract';
import { StudioError } from '../../common/errors';
import type { Studio } from '../../core/studio';
import { AXIS_LABELS, parseAxisOption } from '../../core/sweep-axes';
import { formatAxisValue, formatMs } from '../../core/sweep-grid';
import { call, type CliIo, type Command, type CommandContext } from '../command';
import { requiredString, SAMPLING_OPTIONS, samplingRequest } from './generate';

export type SweepResult = Readonly<{
  grid: string;
  cells: ReadonlyArray<SweepCell>;
  prompt: string;
  model: string;
  x: SweepAxis;
  y: SweepAxis | null;
  seconds: number;
}>;

const USAGE =
  'vgt sweep --prompt TEXT --x AXIS=V1,V2,… [--y AXIS=V1,V2,…] [--seed N] [--order-seed N] [--tokens-per-step K] ' +
  '[--steps N] [--cfg F] [--cfg-schedule linear|constant] [--order random|raster] [--model ID] [--out GRID.png] ' +
  '(AXIS: seed, tokens-per-step, cfg, steps, order-seed)';

/** Starts a sweep and waits for its end, telling people each cell on stderr; Ctrl-C cancels it. */
async function runSweep(
  studio: Studio,
  context: CommandContext,
  request: SweepRequest,
): Promise<Extract<SweepProgress, { status: 'done' }>> {
  const early: Array<SweepProgress> = [];
  let sweepId: string | null = null;
  let settle: ((event: SweepProgress) => void) | null = null;
  const handle = (event: SweepProgress): void => {
    if (event.status === 'started') {
      context.progress(`sweep: ${event.total} images on ${event.model}${event.scored ? ', scored by ShapesEval' : ''}`);
    } else if (event.status === 'cell') {
      const { cell } = event;
      const at = `${AXIS_LABELS[request.x.axis]} ${formatAxisValue(request.x.axis, cell.x)}`;
      const by =
        request.y && cell.y !== null
          ? `, ${AXIS_LABELS[request.y.axis]} ${formatAxisValue(request.y.axis, cell.y)}`
          : '';
      const verdict = cell.pass === null ? '' : cell.pass ? ', pass' : ', fail';
      context.progress(`  ${event.done}/${event.total} ${at}${by}: ${formatMs(cell.msPerImage)}${verdict}`);
    } else settle?.(event);
  };
  const stop = studio.events.subscribe((event) => {
    if (event.type !== 'sweep.progress') return;
    if (sweepId === null) early.push(event.data);
    else if (event.data.sweepId === sweepId) handle(event.data);
  });
  const onInterrupt = (): void => {
    if (sweepId !== null) void call(studio, 'sweep.cancel', { sweepId }).catch(() => undefined);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const end = new Promise<SweepProgress>((resolve) => (settle = resolve));
    sweepId = (await call<{ sweepId: string }>(studio, 'sweep.start', request)).sweepId;
    for (const event of early.filter((e) => e.sweepId === sweepId)) handle(event);
    const event = await end;
    if (event.status === 'done') return event;
    if (event.status === 'error') throw new StudioError(event.error.code as never, event.error.message);
    throw new StudioError(
      'CANCELLED',
      `Cancelled after ${event.status === 'cancelled' ? event.cells.length : 0} images (they stay in the library).`,
    );
  } finally {
    stop();
    process.removeListener('SIGINT', onInterrupt);
  }
}

// Every cell is kept in the library: the generating commands' options without --no-history.
const { 'no-history': _noHistory, ...CELL_OPTIONS } = SAMPLING_OPTIONS;

export const sweep: Command = {
  summary: 'Generate a grid over one or two settings (e.g. tokens per step × seed): time per image, ShapesEval',
  usage: USAGE,
  options: { ...CELL_OPTIONS, x: { type: 'string' }, y: { type: 'string' } },
  async run(values, _positionals, context): Promise<SweepResult> {
    const prompt = requiredString(values, 'prompt', USAGE);
    const x = parseAxisOption(requiredString(values, 'x', USAGE));
    const y = values.y === undefined ? undefined : parseAxisOption(String(values.y));
    const { history: _history, previews: _previews, ...sampling } = samplingRequest(values);
    const request: SweepRequest = { ...sampling, prompt, x, ...(y ? { y } : {}) };
    const studio = context.studio();
    const done = await runSweep(studio, context, request);
    let grid = done.grid;
    if (typeof values.out === 'string' && values.out !== '') {
      grid = path.resolve(values.out);
      await copyFile(done.grid, grid);
    }
    const model = (await studio.services.models.resolve(sampling.model)).id;
    return { grid, cells: done.cells, prompt, model, x, y: y ?? null, seconds: done.seconds };
  },
  print(result, io: CliIo) {
    const r = result as SweepResult;
    const label = (axis: SweepAxis, value: number | null): string =>
      value === null ? '' : `${AXIS_LABELS[axis.axis]} ${formatAxisValue(axis.axis, value)}`;
    const lines = r.cells.map((c) => {
      const at = [label(r.x, c.x), r.y ? label(r.y, c.y) : ''].filter(Boolean).join(', ');
      const verdict = c.pass === null ? '' : c.pass ? '  pass' : '  fail';
      return `#${c.id ?? '?'} ${at}: ${formatMs(c.msPerImage)}${verdict}  ${c.file}`;
    });
    const scored = r.cells.filter((c) => c.pass !== null);
    const passed = scored.filter((c) => c.pass).length;
    io.stdout(
      [
        ...lines,
        `grid: ${r.grid}`,
        ...(scored.length ? [`ShapesEval: ${passed}/${scored.length} passed`] : []),
        `${r.cells.length} images on ${r.model} in ${r.seconds.toFixed(1)} s`,
      ].join('\n') + '\n',
    );
  },
};
