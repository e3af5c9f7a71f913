// `vgt bench` (`npm run bench`): the performance figures of docs/reference.md on the default model of this machine.
// Generation runs through the studio's own runner and worker thread, so the host's event-loop lag is what the app
// would see; the PyTorch reference sampler of native-models runs in the same run on the same settings and on the same
// weights: the model it rebuilds from the bundle's own graphs and tables (vgt.rebuild), so no checkpoint is needed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { StudioError } from '../../common/errors';
import { readManifest } from '../../engine/bundle';
import { benchLibrary, type LibraryBench } from '../../bench/library';
import type { Services } from '../../core/services';
import type { CliIo, Command } from '../command';
import { intOption } from './generate';

const run = promisify(execFile);
const NATIVE_MODELS = path.resolve(import.meta.dirname, '..', '..', '..', 'native-models');
const PROMPT = 'a red circle left of a blue square';

/** The Python with PyTorch for the reference sampler: VGT_PYTHON (as the tests), else Debian's, else PATH's. */
export function pythonExecutable(env: NodeJS.ProcessEnv = process.env, exists = existsSync): string {
  if (env.VGT_PYTHON) return env.VGT_PYTHON;
  return exists('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

type ByK = Record<string, number>;

/** The generation figures, measured on one model. */
export type GenerationBench = Readonly<{
  model: string;
  ep: string;
  steps: number;
  grid: [number, number];
  prompt: string;
  runs: number;
  threads: number | null;
  msPerImage: ByK;
  /** Time to the first preview, and its share of that run's total (previews on); the first may be an instant one. */
  firstPreviewMs: ByK;
  firstPreviewFraction: ByK;
  /** The same for the first preview the decoder made. */
  firstDecodedPreviewMs: ByK;
  firstDecodedPreviewFraction: ByK;
  /** msPerImage at k = 1 over msPerImage at k. */
  speedupVsK1: ByK;
  /** Where msPerImage goes: mean wall time and runs per image in each graph (the rest is JavaScript and waiting). */
  graphMsPerImage: Readonly<Record<string, Readonly<Record<string, Readonly<{ ms: number; runs: number }>>>>>;
  peakRssMB: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** The same measure with the engine idle, for comparison (a loaded machine delays every process). */
  eventLoopLagIdleP99Ms: number;
  torchReference: Readonly<{ msPerImage: ByK; threads: number | null; skipped?: string }>;
  speedupVsTorch: ByK;
}>;

/** With no model installed the generation figures are skipped (and say why); the library is measured regardless. */
export type BenchResult = (GenerationBench | Readonly<{ model: null; generation: Readonly<{ skipped: string }> }>) &
  Readonly<{ library: LibraryBench | Readonly<{ skipped: string }> }>;

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const at = (i: number): number => sorted[i] ?? NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}

/** The host's event-loop delay over `ms` with nothing of ours running: the machine's own noise floor. */
async function idleLagP99(ms: number): Promise<number> {
  const idle = monitorEventLoopDelay({ resolution: 5 });
  idle.enable();
  await new Promise((resolve) => setTimeout(resolve, ms));
  idle.disable();
  return idle.percentile(99) / 1e6;
}

function list(raw: unknown, fallback: ReadonlyArray<number>): Array<number> {
  if (raw === undefined) return [...fallback];
  const values = String(raw)
    .split(',')
    .map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1))
    throw new StudioError('USAGE', '--k takes whole numbers, e.g. 1,4,16.');
  return values;
}

async function torchMsPerImage(
  bundleDir: string,
  k: number,
  count: number,
  threads: number | null,
): Promise<Readonly<{ ms: number; threads: number }>> {
  const args = ['-m', 'vgt.generate', '--bundle', bundleDir, '--prompt', PROMPT, '--seed', '0'];
  // One untimed image first, as the engine's figures leave out its warm-up run too.
  args.push('--tokens-per-step', String(k), '--count', String(count), '--warmup', '1', '--json');
  if (threads) args.push('--threads', String(threads));
  const { stdout } = await run(pythonExecutable(), args, {
    cwd: NATIVE_MODELS,
    timeout: 30 * 60_000,
    maxBuffer: 1 << 20,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { msPerImage?: number; threads?: number };
  if (typeof result.msPerImage !== 'number') throw new Error('no msPerImage in the reference sampler output');
  return { ms: result.msPerImage, threads: result.threads ?? 0 };
}

type Runner = Services['runner'];
type BenchModel = Readonly<{ path: string; id: string }>;

/** The model to measure: --bundle DIR, --model ID, or the default (null when none is installed and none was named). */
async function benchModel(services: Services, values: Record<string, unknown>): Promise<BenchModel | null> {
  const bundleDir = values.bundle as string | undefined;
  if (bundleDir) return { path: path.resolve(bundleDir), id: (await readManifest(path.resolve(bundleDir))).id };
  const explicit = values.model !== undefined;
  return services.models.resolve(values.model as string | undefined).catch((error: unknown) => {
    const e = error as StudioError;
    // No default model: still measure the library, and say why generation was not.
    if (e.code === 'MODEL_NOT_FOUND' && !explicit) return null;
    throw e.code === 'MODEL_NOT_FOUND'
      ? new StudioError(e.code, `${e.message} Or measure a bundle folder: --bundle DIR.`)
      : e;
  });
}

type GraphTimes = Record<string, { ms: number; runs: number }>;
type SpeedFigures = {
  msPerImage: ByK;
  firstPreviewMs: ByK;
  firstPreviewFraction: ByK;
  firstDecodedPreviewMs: ByK;
  firstDecodedPreviewFraction: ByK;
  graphMsPerImage: Record<string, GraphTimes>;
  lag: ReturnType<typeof monitorEventLoopDelay>;
  idleLag: number;
};

/** ms per image (median of `runs`), each graph's share, first previews and event-loop lag, per k. */
async function measureSpeed(
  runner: Runner,
  model: BenchModel,
  ks: ReadonlyArray<number>,
  runs: number,
  progress: (text: string) => void,
): Promise<SpeedFigures> {
  const generate = (k: number, seed: number, previews: boolean) =>
    runner.direct({
      prompt: PROMPT,
      model: { path: model.path, id: model.id },
      sampling: { tokensPerStep: k },
      seeds: [seed],
      orderSeeds: [seed],
      previews,
    });
  await generate(ks[0] ?? 1, 999, false); // loads the model and warms every graph
  const idleLag = await idleLagP99(2000);
  const lag = monitorEventLoopDelay({ resolution: 5 });
  const f: SpeedFigures = {
    msPerImage: {},
    firstPreviewMs: {},
    firstPreviewFraction: {},
    firstDecodedPreviewMs: {},
    firstDecodedPreviewFraction: {},
    graphMsPerImage: {},
    lag,
    idleLag,
  };
  for (const k of ks) {
    lag.enable();
    const times: Array<number> = [];
    const spent: GraphTimes = {};
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const outcome = await generate(k, r, false);
      times.push(performance.now() - t0);
      if (outcome.status !== 'done') continue;
      for (const [role, time] of Object.entries(outcome.graphTime)) {
        const sum = (spent[role] ??= { ms: 0, runs: 0 });
        sum.ms += time.ms / runs;
        sum.runs += time.runs / runs;
      }
    }
    f.graphMsPerImage[k] = Object.fromEntries(
      Object.entries(spent).map(([role, t]) => [role, { ms: round(t.ms), runs: round(t.runs) }]),
    );
    const withPreviews = await generate(k, runs, true);
    lag.disable();
    f.msPerImage[k] = round(median(times));
    if (withPreviews.status === 'done' && withPreviews.firstPreviewMs !== null) {
      f.firstPreviewMs[k] = round(withPreviews.firstPreviewMs);
      f.firstPreviewFraction[k] = round(withPreviews.firstPreviewMs / (withPreviews.seconds * 1000), 3);
    }
    if (withPreviews.status === 'done' && withPreviews.firstDecodedPreviewMs) {
      f.firstDecodedPreviewMs[k] = round(withPreviews.firstDecodedPreviewMs);
      f.firstDecodedPreviewFraction[k] = round(withPreviews.firstDecodedPreviewMs / (withPreviews.seconds * 1000), 3);
    }
    progress(`  k=${k}: ${f.msPerImage[k]} ms per image, first preview ${f.firstPreviewMs[k] ?? '–'} ms`);
  }
  return f;
}

/** The PyTorch reference sampler's ms per image per k, and the engine's speed-up over it. */
async function measureTorch(
  bundle: string,
  ks: ReadonlyArray<number>,
  runs: number,
  o: Readonly<{ threads: number | null; msPerImage: ByK; progress: (text: string) => void }>,
): Promise<{ reference: GenerationBench['torchReference']; speedup: ByK }> {
  const msPerImage: ByK = {};
  const speedup: ByK = {};
  let threads: number | null = null;
  try {
    for (const k of ks) {
      o.progress(`  PyTorch reference, k=${k}…`);
      const t = await torchMsPerImage(bundle, k, runs, o.threads);
      msPerImage[k] = round(t.ms);
      threads = t.threads;
      const engine = o.msPerImage[k];
      if (engine) speedup[k] = round(t.ms / engine, 2);
    }
    return { reference: { msPerImage, threads }, speedup };
  } catch (error) {
    // The sampler says why on its last line of stderr (e.g. the bundle's PyTorch checkpoint is not here).
    const { stderr, message } = error as { stderr?: string; message?: string };
    const why = stderr?.trim().split('\n').at(-1) || (message ?? String(error)).split('\n')[0];
    return { reference: { msPerImage, threads, skipped: `the reference sampler failed: ${why}` }, speedup };
  }
}

const USAGE =
  'vgt bench [--model ID | --bundle DIR] [--k 1,4,16] [--runs N] [--torch-k 1,4] [--torch-runs N] [--no-torch] ' +
  '[--library-rows N] [--no-library] [--threads N] [--json]';

export const bench: Command = {
  summary: 'Measure generation speed (per k), first preview, memory, event-loop lag, PyTorch reference, library',
  usage: USAGE,
  options: {
    model: { type: 'string' },
    bundle: { type: 'string' },
    k: { type: 'string' },
    runs: { type: 'string' },
    'torch-k': { type: 'string' },
    'torch-runs': { type: 'string' },
    'no-torch': { type: 'boolean' },
    'library-rows': { type: 'string' },
    'no-library': { type: 'boolean' },
    threads: { type: 'string' },
  },
  async run(values, _positionals, context): Promise<BenchResult> {
    const studio = context.studio();
    const threads = intOption(values, 'threads') ?? null;
    if (threads !== null) studio.services.env.VGT_THREADS = String(threads);
    const model = await benchModel(studio.services, values);
    const measureLibrary = async (): Promise<BenchResult['library']> => {
      if (values['no-library']) return { skipped: '--no-library' };
      context.progress('  library…');
      return benchLibrary({ rows: intOption(values, 'library-rows') ?? 100_000 });
    };
    if (model === null) {
      const skipped = 'no model is installed (vgt models list); import one or pass --bundle DIR';
      context.progress(`bench: generation skipped: ${skipped}`);
      return { model: null, generation: { skipped }, library: await measureLibrary() };
    }
    const manifest = await readManifest(model.path);
    const [h, w] = manifest.image.grid;
    const ks = list(values.k, [1, 4, 16]).filter((k) => k <= h * w);
    const runs = intOption(values, 'runs') ?? 3;
    const { runner } = studio.services;
    context.progress(`bench: ${model.id} (${h}×${w} tokens, ${manifest.sampling.steps} steps), k = ${ks.join(', ')}`);
    const speed = await measureSpeed(runner, model, ks, runs, context.progress);
    const status = await runner.status();
    const speedupVsK1: ByK = {};
    for (const k of ks) {
      const k1 = speed.msPerImage[1];
      const kk = speed.msPerImage[k];
      if (k1 && kk) speedupVsK1[k] = round(k1 / kk, 2);
    }
    const torchKs = list(values['torch-k'], [1, 4]).filter((x) => x <= h * w);
    const torch = values['no-torch']
      ? { reference: { msPerImage: {}, threads: null, skipped: '--no-torch' }, speedup: {} }
      : await measureTorch(model.path, torchKs, intOption(values, 'torch-runs') ?? Math.max(1, Math.min(runs, 2)), {
          threads,
          msPerImage: speed.msPerImage,
          progress: context.progress,
        });
    const library = await measureLibrary();
    return {
      model: model.id,
      ep: status.ep ?? 'cpu',
      steps: manifest.sampling.steps,
      grid: [h, w],
      prompt: PROMPT,
      runs,
      threads,
      msPerImage: speed.msPerImage,
      firstPreviewMs: speed.firstPreviewMs,
      firstPreviewFraction: speed.firstPreviewFraction,
      firstDecodedPreviewMs: speed.firstDecodedPreviewMs,
      firstDecodedPreviewFraction: speed.firstDecodedPreviewFraction,
      speedupVsK1,
      graphMsPerImage: speed.graphMsPerImage,
      peakRssMB: round(process.resourceUsage().maxRSS / 1024),
      eventLoopLagP99Ms: round(speed.lag.percentile(99) / 1e6, 2),
      eventLoopLagMaxMs: round(speed.lag.max / 1e6, 2),
      eventLoopLagIdleP99Ms: round(speed.idleLag, 2),
      torchReference: torch.reference,
      speedupVsTorch: torch.speedup,
      library,
    };
  },
  print(result, io: CliIo) {
    io.stdout(JSON.stringify(result, null, 2) + '\n');
  },
};
