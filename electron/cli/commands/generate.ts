// `vgt generate`: text to image through the studio's queue (recorded in the library unless --no-history).
import { copyFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { GenerationDefaults } from '../../common/api/settings';
import type { GenerateRequest, GeneratedImage, GenerationProgress, ResolvedSampling } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { readSettingsOrDefaults } from '../../core/settings';
import type { Studio } from '../../core/studio';
import { call, type CliIo, type Command, type CommandContext } from '../command';

export type GenerateResult = Readonly<{
  images: ReadonlyArray<GeneratedImage>;
  model: string;
  ep: string;
  seconds: number;
  warnings: ReadonlyArray<string>;
  /** The settings the images were made with: flags, then the saved defaults, then the model's own. */
  sampling?: ResolvedSampling;
}>;

/** A whole-number option, or a USAGE error naming it. */
export function intOption(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value))
    throw new StudioError('USAGE', `--${name} takes a whole number, not ${JSON.stringify(raw)}.`);
  return value;
}

export function numberOption(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new StudioError('USAGE', `--${name} takes a number, not ${JSON.stringify(raw)}.`);
  return value;
}

/** An option that takes one of a few words, or a USAGE error naming them (and the usage line, when given). */
export function choiceOption<T extends string>(
  values: Record<string, unknown>,
  name: string,
  choices: ReadonlyArray<T>,
  usage?: string,
): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(choices as ReadonlyArray<string>).includes(raw)) {
    const usageText = usage ? ` Usage: ${usage}` : '';
    throw new StudioError('USAGE', `--${name} is ${choices.join(' or ')}, not ${JSON.stringify(raw)}.${usageText}`);
  }
  return raw as T;
}

export function requiredString(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw new StudioError('USAGE', `--${name} is required. Usage: ${usage}`);
  return value;
}

/** The sampling options every generating command shares. */
export const SAMPLING_OPTIONS = {
  prompt: { type: 'string' },
  seed: { type: 'string' },
  'order-seed': { type: 'string' },
  'tokens-per-step': { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  'cfg-schedule': { type: 'string' },
  order: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  'no-history': { type: 'boolean' },
} as const;

export function samplingRequest(values: Record<string, unknown>): Omit<GenerateRequest, 'prompt'> {
  const schedule = choiceOption(values, 'cfg-schedule', ['linear', 'constant'] as const);
  const order = choiceOption(values, 'order', ['random', 'raster'] as const);
  const request: Omit<GenerateRequest, 'prompt'> = {
    seed: intOption(values, 'seed'),
    orderSeed: intOption(values, 'order-seed'),
    tokensPerStep: intOption(values, 'tokens-per-step'),
    steps: intOption(values, 'steps'),
    cfg: numberOption(values, 'cfg'),
    cfgSchedule: schedule,
    order,
    model: values.model as string | undefined,
    history: values['no-history'] !== true,
    previews: false,
  };
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as typeof request;
}

/**
 * The generation defaults saved in Settings (shared with the app), or none. Read without creating a library, and a
 * library that cannot be opened reads as none: the job itself reports that.
 */
export async function savedDefaults(studio: Studio): Promise<GenerationDefaults | undefined> {
  return (await readSettingsOrDefaults(studio.services)).defaults;
}

/** The saved sampling defaults (and model) under the flags: a flag given wins. */
export function withDefaults<T extends Partial<GenerateRequest>>(
  request: T,
  defaults: GenerationDefaults | undefined,
): T {
  if (!defaults) return request;
  const { count: _count, ...sampling } = defaults;
  return { ...sampling, ...request };
}

/**
 * Starts a job and waits for its end, printing progress for people on stderr; Ctrl-C cancels the job.
 * Resolves with the `done` event, or throws the job's typed error (CANCELLED included).
 */
export async function runJob(
  studio: Studio,
  context: CommandContext,
  start: () => Promise<{ jobId: string }>,
): Promise<Extract<GenerationProgress, { status: 'done' }> & { sampling?: ResolvedSampling }> {
  const seen: Array<GenerationProgress> = [];
  let sampling: ResolvedSampling | undefined;
  let jobId: string | null = null;
  let settle: ((event: GenerationProgress) => void) | null = null;
  let lastShown = -1;
  const stop = studio.events.subscribe((event) => {
    if (event.type !== 'generation.progress') return;
    if (jobId === null) seen.push(event.data);
    else if (event.data.jobId === jobId) handle(event.data);
  });
  const handle = (event: GenerationProgress): void => {
    if (event.status === 'prefill') {
      sampling = event.sampling;
      for (const warning of event.warnings) context.progress(`warning: ${warning}`);
      context.progress(`generating on ${event.ep}: ${event.groups} groups of ~${event.sampling.tokensPerStep} tokens`);
    } else if (event.status === 'group') {
      const tenth = Math.floor((10 * event.group) / event.groups);
      if (tenth !== lastShown) {
        lastShown = tenth;
        context.progress(`  group ${event.group}/${event.groups} (${event.committed}/${event.total} tokens)`);
      }
    } else if (event.status === 'done' || event.status === 'error' || event.status === 'cancelled') settle?.(event);
  };
  const onInterrupt = (): void => {
    if (jobId !== null) void call(studio, 'generation.cancel', { jobId }).catch(() => undefined);
  };
  process.once('SIGINT', onInterrupt);
  try {
    const end = new Promise<GenerationProgress>((resolve) => (settle = resolve));
    jobId = (await start()).jobId;
    for (const event of seen.filter((e) => e.jobId === jobId)) handle(event);
    const event = await end;
    if (event.status === 'done') return sampling ? { ...event, sampling } : event;
    if (event.status === 'error') throw new StudioError(event.error.code as never, event.error.message);
    throw new StudioError('CANCELLED', `Cancelled after ${'committed' in event ? event.committed : 0} tokens.`);
  } finally {
    stop();
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** Where each image goes: --out (FILE.png, or FILE-2.png … for more images), else the library file or ./vgt-SEED.png. */
export async function placeImages(
  images: ReadonlyArray<GeneratedImage>,
  out: string | undefined,
  history: boolean,
): Promise<Array<GeneratedImage>> {
  const placed: Array<GeneratedImage> = [];
  for (const [i, image] of images.entries()) {
    let target: string | null = null;
    if (out) {
      const ext = path.extname(out) || '.png';
      target = path.resolve(i === 0 ? out : `${out.slice(0, out.length - path.extname(out).length)}-${i + 1}${ext}`);
    } else if (!history) target = path.resolve(`vgt-${image.seed}-${image.orderSeed}.png`);
    if (target === null) placed.push(image);
    else {
      // Without history the scratch file is moved; a library image is copied and stays in the library.
      await (history
        ? copyFile(image.file, target)
        : rename(image.file, target).catch(() => copyFile(image.file, target)));
      placed.push({ ...image, file: target });
    }
  }
  return placed;
}

const USAGE =
  'vgt generate --prompt TEXT [--seed N] [--order-seed N] [--tokens-per-step K] [--steps N] [--cfg F] ' +
  '[--cfg-schedule linear|constant] [--order random|raster] [--model ID] [--count N] [--out FILE.png] [--no-history]';

export const generate: Command = {
  summary: 'Generate images from a prompt (recorded in the library unless --no-history)',
  usage: USAGE,
  options: { ...SAMPLING_OPTIONS, count: { type: 'string' } },
  async run(values, _positionals, context): Promise<GenerateResult> {
    const prompt = requiredString(values, 'prompt', USAGE);
    const studio = context.studio();
    const defaults = await savedDefaults(studio);
    const request: GenerateRequest = withDefaults(
      { ...samplingRequest(values), prompt, count: intOption(values, 'count') ?? defaults?.count ?? 1 },
      defaults,
    );
    const started = performance.now();
    const done = await runJob(studio, context, () => call(studio, 'generation.generate', request));
    return {
      images: await placeImages(done.images, values.out as string | undefined, request.history !== false),
      model: done.model,
      ep: done.ep,
      seconds: (performance.now() - started) / 1000,
      warnings: done.warnings,
      ...(done.sampling ? { sampling: done.sampling } : {}),
    };
  },
  print(result, io: CliIo) {
    const r = result as GenerateResult;
    const lines = r.images.map((i) => `${i.file}  (seed ${i.seed}, order seed ${i.orderSeed}, ${i.width}×${i.height})`);
    io.stdout([...lines, `${r.model} on ${r.ep} in ${r.seconds.toFixed(2)} s`].join('\n') + '\n');
  },
};
