// The Sweep view's state: the form (prompt, two axes and their values), the running sweep and its cells as they
// finish. It belongs to the app, so a sweep keeps filling in while another view is open.
import type {
  StudioApi,
  SweepAxis,
  SweepAxisName,
  SweepCell,
  SweepProgress,
  SweepRequest,
} from '../../../../electron/common/contract';
import { detailsOf, messageOf } from '../errors';
import { fileUrl } from '../api/files';

export const AXIS_CHOICES: ReadonlyArray<{ id: SweepAxisName; label: string; example: string }> = [
  { id: 'tokensPerStep', label: 'Tokens per step', example: '1, 2, 4, 8, 16' },
  { id: 'seed', label: 'Seed', example: '0, 1, 2, 3' },
  { id: 'cfg', label: 'CFG', example: '1, 2, 3, 5' },
  { id: 'steps', label: 'Sampling steps', example: '5, 10, 20' },
  { id: 'orderSeed', label: 'Order seed', example: '0, 1, 2' },
];

export const axisLabel = (axis: SweepAxisName): string =>
  AXIS_CHOICES.find((a) => a.id === axis)?.label ?? String(axis);

/** "1, 2, 4" → [1, 2, 4]; a message when a value is not a number. */
export function parseValues(text: string): Array<number> | string {
  const parts = text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return 'Give at least one value, separated by commas.';
  const values = parts.map(Number);
  const bad = parts.find((_, i) => !Number.isFinite(values[i]));
  return bad === undefined ? values : `“${bad}” is not a number.`;
}

export type ShownCell = SweepCell & Readonly<{ src: string | null }>;

export type SweepPlan = Readonly<{
  x: SweepAxis;
  y: SweepAxis | null;
  total: number;
  scored: boolean;
  model: string;
  prompt: string;
}>;

export class SweepState {
  prompt = $state('a red circle left of a blue square');
  xAxis = $state<SweepAxisName>('tokensPerStep');
  xValues = $state('1, 2, 4, 8, 16');
  /** '' is no second axis (one row). */
  yAxis = $state<SweepAxisName | ''>('seed');
  yValues = $state('0, 1, 2, 3');
  /**
   * Settings of every cell the axes leave alone; blank: the model's default (one random seed). Number fields bind
   * numbers, or null when empty.
   */
  seed = $state<number | string | null>('');
  steps = $state<number | string | null>('');
  cfg = $state<number | string | null>('');
  tokensPerStep = $state<number | string | null>('');

  sweepId = $state<string | null>(null);
  starting = $state(false);
  running = $state(false);
  plan = $state.raw<SweepPlan | null>(null);
  cells = $state.raw<ReadonlyArray<ShownCell>>([]);
  grid = $state.raw<Readonly<{ file: string; src: string }> | null>(null);
  outcome = $state<'done' | 'cancelled' | 'error' | null>(null);
  seconds = $state<number | null>(null);
  error = $state<string | null>(null);
  details = $state<string | null>(null);

  readonly #api: StudioApi;
  #early: Array<SweepProgress> = [];
  readonly #unsubscribe: () => void;

  constructor(api: StudioApi) {
    this.#api = api;
    this.#unsubscribe = api.subscribe((event) => {
      if (event.type !== 'sweep.progress') return;
      if (this.starting && this.sweepId === null) this.#early.push(event.data);
      else if (event.data.sweepId === this.sweepId) this.#handle(event.data);
    });
  }

  dispose(): void {
    this.#unsubscribe();
  }

  /** The request the form describes, or a message saying what to fix. */
  request(): SweepRequest | string {
    const xValues = parseValues(this.xValues);
    if (typeof xValues === 'string') return `${axisLabel(this.xAxis)}: ${xValues}`;
    const request: SweepRequest = { prompt: this.prompt, x: { axis: this.xAxis, values: xValues } };
    if (this.yAxis !== '') {
      if (this.yAxis === this.xAxis) return 'Choose two different settings for the columns and the rows.';
      const yValues = parseValues(this.yValues);
      if (typeof yValues === 'string') return `${axisLabel(this.yAxis)}: ${yValues}`;
      request.y = { axis: this.yAxis, values: yValues };
    }
    const fixed = { seed: this.seed, steps: this.steps, cfg: this.cfg, tokensPerStep: this.tokensPerStep } as const;
    for (const [key, raw] of Object.entries(fixed)) {
      const text = String(raw ?? '').trim();
      if (text === '') continue;
      const value = Number(text);
      if (!Number.isFinite(value)) return `${key}: “${text}” is not a number.`;
      Object.assign(request, { [key]: value });
    }
    return request;
  }

  async start(): Promise<void> {
    const request = this.request();
    this.error = null;
    this.details = null;
    if (typeof request === 'string') {
      this.error = request;
      return;
    }
    this.starting = true;
    this.sweepId = null;
    this.#early = [];
    this.cells = [];
    this.grid = null;
    this.outcome = null;
    this.seconds = null;
    this.plan = null;
    try {
      const accepted = await this.#api.call('sweep.start', request);
      this.sweepId = accepted.sweepId;
      this.running = true;
      this.plan ??= {
        x: request.x,
        y: request.y ?? null,
        total: accepted.total,
        scored: false,
        model: '',
        prompt: request.prompt,
      };
      for (const event of this.#early.filter((e) => e.sweepId === accepted.sweepId)) this.#handle(event);
    } catch (failure) {
      this.error = messageOf(failure);
      this.details = detailsOf(failure);
    } finally {
      this.starting = false;
      this.#early = [];
    }
  }

  async cancel(): Promise<void> {
    if (!this.sweepId || !this.running) return;
    try {
      await this.#api.call('sweep.cancel', { sweepId: this.sweepId });
    } catch (failure) {
      this.error = messageOf(failure);
    }
  }

  #handle(event: SweepProgress): void {
    if (event.status === 'started') {
      this.plan = {
        x: event.x,
        y: event.y,
        total: event.total,
        scored: event.scored,
        model: event.model,
        prompt: event.prompt,
      };
    } else if (event.status === 'cell') {
      this.cells = [...this.cells, { ...event.cell, src: null }];
      void this.#useLibraryFile(event.cell);
    } else {
      this.running = false;
      this.outcome = event.status;
      if (event.status === 'done') {
        this.seconds = event.seconds;
        void this.#loadGrid(event.sweepId);
      } else if (event.status === 'error') {
        this.error = event.error.message;
        this.details = event.error.code;
      }
    }
  }

  async #useLibraryFile(cell: SweepCell): Promise<void> {
    if (cell.id === null) return;
    try {
      const record = await this.#api.call('library.get', { id: cell.id });
      if (!record.file) return;
      const src = fileUrl(record.file);
      this.cells = this.cells.map((c) => (c.id === cell.id ? { ...c, src } : c));
    } catch {
      // The cell stays without its picture (it was deleted meanwhile, say); its figures still show.
    }
  }

  async #loadGrid(sweepId: string): Promise<void> {
    try {
      const grid = await this.#api.call('sweep.grid', { sweepId });
      if (this.sweepId === sweepId) this.grid = { file: grid.file, src: `data:image/png;base64,${grid.png}` };
    } catch (failure) {
      this.error = messageOf(failure);
    }
  }

  /** The cell at a column and row, once finished. */
  cellAt(col: number, row: number): ShownCell | undefined {
    return this.cells.find((c) => c.col === col && c.row === row);
  }

  /** Per column: mean time per image and ShapesEval passes of its finished cells. */
  columnSummary(col: number): Readonly<{ ms: number | null; passed: number; scored: number }> {
    const cells = this.cells.filter((c) => c.col === col);
    const ms = cells.length ? cells.reduce((sum, c) => sum + c.msPerImage, 0) / cells.length : null;
    const scored = cells.filter((c) => c.pass !== null);
    return { ms, passed: scored.filter((c) => c.pass).length, scored: scored.length };
  }
}
