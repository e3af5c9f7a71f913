// `vgt eval shapes`: the Shapes World score (native-models/vgt/shapes/SHAPES_WORLD.md) of a model.
import path from 'node:path';
import { EvalRequestSchema, type EvalResult } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { runShapesEval } from '../../core/shapes-eval';
import type { CliIo, Command } from '../command';
import { SAMPLING_OPTIONS, intOption, samplingRequest } from './generate';

const USAGE =
  'vgt eval shapes [--prompts FILE.jsonl] [--tokens-per-step K] [--steps N] [--cfg F] [--cfg-schedule linear|constant] ' +
  '[--order random|raster] [--seeds N] [--limit N] [--model ID]';

export const evalCommand: Command = {
  summary: 'Score a model on Shapes World prompts (overall and per category)',
  usage: USAGE,
  options: {
    prompts: { type: 'string' },
    'tokens-per-step': SAMPLING_OPTIONS['tokens-per-step'],
    steps: SAMPLING_OPTIONS.steps,
    cfg: SAMPLING_OPTIONS.cfg,
    'cfg-schedule': SAMPLING_OPTIONS['cfg-schedule'],
    order: SAMPLING_OPTIONS.order,
    seeds: { type: 'string' },
    limit: { type: 'string' },
    model: { type: 'string' },
  },
  async run(values, positionals, context): Promise<EvalResult> {
    if (positionals.join(' ') !== 'shapes') throw new StudioError('USAGE', `Usage: ${USAGE}`);
    const studio = context.studio();
    const seeds = intOption(values, 'seeds');
    const limit = intOption(values, 'limit');
    // The generate options eval takes; samplingRequest leaves out what was not given.
    const { tokensPerStep, steps, cfg, cfgSchedule, order } = samplingRequest(values);
    const request = {
      tokensPerStep,
      steps,
      cfg,
      cfgSchedule,
      order,
      ...(values.prompts ? { prompts: path.resolve(values.prompts as string) } : {}),
      ...(seeds !== undefined ? { seeds } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(values.model ? { model: values.model as string } : {}),
    };
    // Through the contract's schema, then straight to the evaluator so progress can be shown.
    const checked = EvalRequestSchema.safeParse(request);
    if (!checked.success)
      throw new StudioError('USAGE', `${checked.error.issues[0]?.message ?? 'bad options'}. Usage: ${USAGE}`);
    return runShapesEval(studio.services, checked.data, undefined, (done, total) => {
      if (done === total || done % 10 === 0) context.progress(`  ${done}/${total} prompts`);
    });
  },
  print(result, io: CliIo) {
    const r = result as EvalResult;
    const lines = Object.entries(r.categories).map(([name, score]) => `  ${name.padEnd(14)} ${score.toFixed(3)}`);
    const s = r.sampling;
    const settings = s ? `, k ${s.tokensPerStep}, ${s.steps} steps, cfg ${s.cfg} ${s.cfgSchedule}, ${s.order}` : '';
    io.stdout(
      [
        `overall ${r.overall.toFixed(3)} (${r.n} images, ${r.model}${settings}, ${r.seconds.toFixed(1)} s)`,
        ...lines,
      ].join('\n') + '\n',
    );
  },
};
