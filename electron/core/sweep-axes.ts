// Sweep axes: how the CLI spells them and a person reads them, their checks against a model, and the planner that
// expands them into cells (each an ordinary generate request).
import type { GenerateRequest } from '../common/contract';
import { SWEEP_AXES, SWEEP_LIMITS, type SweepAxis, type SweepAxisName, type SweepRequest } from '../common/api/sweep';
import { StudioError } from '../common/errors';

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
