// `vgt edit`: regenerate the tokens under a mask (white = regenerate) with a new prompt.
import path from 'node:path';
import type { EditRequest } from '../../common/contract';
import { call, type CliIo, type Command } from '../command';
import { SAMPLING_OPTIONS, numberOption, placeImages, requiredString, runJob, samplingRequest } from './generate';

type Result = Readonly<{
  file: string;
  keptTokens: number;
  regeneratedTokens: number;
  unmaskedPsnr: number;
  seed: number;
  seconds: number;
}>;

const USAGE =
  'vgt edit --image IN --mask MASK.png --prompt TEXT [--seed N] [--tokens-per-step K] [--steps N] [--cfg F] ' +
  '[--mask-threshold F] [--model ID] [--out FILE.png] [--no-history]';

export const edit: Command = {
  summary: 'Regenerate the masked tokens of an image with a new prompt (the mask is white where tokens change)',
  usage: USAGE,
  options: {
    ...SAMPLING_OPTIONS,
    image: { type: 'string' },
    mask: { type: 'string' },
    'mask-threshold': { type: 'string' },
  },
  async run(values, _positionals, context): Promise<Result> {
    const image = path.resolve(requiredString(values, 'image', USAGE));
    const mask = path.resolve(requiredString(values, 'mask', USAGE));
    const prompt = requiredString(values, 'prompt', USAGE);
    const studio = context.studio();
    const threshold = numberOption(values, 'mask-threshold');
    const request: EditRequest = {
      ...samplingRequest(values),
      image: { kind: 'file', path: image },
      mask: { kind: 'file', path: mask },
      prompt,
      ...(threshold !== undefined ? { maskThreshold: threshold } : {}),
    };
    const started = performance.now();
    const done = await runJob(studio, context, () => call(studio, 'generation.edit', request));
    const [placed] = await placeImages(done.images, values.out as string | undefined, request.history !== false);
    return {
      file: placed?.file ?? '',
      keptTokens: done.edit?.keptTokens ?? 0,
      regeneratedTokens: done.edit?.regeneratedTokens ?? 0,
      unmaskedPsnr: done.edit?.unmaskedPsnr ?? 0,
      seed: placed?.seed ?? 0,
      seconds: (performance.now() - started) / 1000,
    };
  },
  print(result, io: CliIo) {
    const r = result as Result;
    io.stdout(
      `${r.file}\n${r.regeneratedTokens} tokens regenerated, ${r.keptTokens} kept (PSNR of the kept region ${r.unmaskedPsnr.toFixed(2)} dB), ${r.seconds.toFixed(2)} s\n`,
    );
  },
};
