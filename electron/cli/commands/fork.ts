// `vgt fork`: keep a library image's first G token groups and make the rest again with other settings. A setting left
// out is the parent's, not the saved generation defaults: the fork differs from its parent only where asked.
import type { ForkRequest } from '../../common/api/timeline';
import { call, type CliIo, type Command } from '../command';
import { intOption, numberOption, placeImages, requiredString, runJob, type GenerateResult } from './generate';

const USAGE =
  'vgt fork --from ID --group G [--prompt TEXT] [--seed N] [--tokens-per-step K] [--steps N] [--cfg F] [--out FILE.png]';

export type ForkResult = GenerateResult & Readonly<{ parent: number; group: number }>;

export const fork: Command = {
  summary: 'Fork a library image: keep its first G token groups, make the rest with a new seed or settings',
  usage: USAGE,
  options: {
    from: { type: 'string' },
    group: { type: 'string' },
    prompt: { type: 'string' },
    seed: { type: 'string' },
    'tokens-per-step': { type: 'string' },
    steps: { type: 'string' },
    cfg: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values, _positionals, context): Promise<ForkResult> {
    requiredString(values, 'from', USAGE);
    requiredString(values, 'group', USAGE);
    const request: ForkRequest = {
      from: intOption(values, 'from') ?? 0,
      group: intOption(values, 'group') ?? 0,
      previews: false,
      ...Object.fromEntries(
        Object.entries({
          prompt: values.prompt as string | undefined,
          seed: intOption(values, 'seed'),
          tokensPerStep: intOption(values, 'tokens-per-step'),
          steps: intOption(values, 'steps'),
          cfg: numberOption(values, 'cfg'),
        }).filter(([, v]) => v !== undefined),
      ),
    };
    const studio = context.studio();
    const started = performance.now();
    const done = await runJob(studio, context, () => call(studio, 'timeline.fork', request));
    return {
      parent: request.from,
      group: request.group,
      images: await placeImages(done.images, values.out as string | undefined, true),
      model: done.model,
      ep: done.ep,
      seconds: (performance.now() - started) / 1000,
      warnings: done.warnings,
      ...(done.sampling ? { sampling: done.sampling } : {}),
    };
  },
  print(result, io: CliIo) {
    const r = result as ForkResult;
    const lines = r.images.map(
      (i) => `#${i.id ?? '?'} ${i.file}  (forked from #${r.parent} at group ${r.group}, seed ${i.seed})`,
    );
    io.stdout([...lines, `${r.model} on ${r.ep} in ${r.seconds.toFixed(2)} s`].join('\n') + '\n');
  },
};
