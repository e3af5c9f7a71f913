// `vgt edit`: regenerate the tokens under a mask (white = regenerate) with a new prompt.
import path from 'node:path';
import type { EditContext, EditRequest, ResolvedSampling } from '../../common/contract';
import { EditContextSchema } from '../../common/api/generation';
import { call, type CliIo, type Command } from '../command';
import {
  SAMPLING_OPTIONS,
  choiceOption,
  intOption,
  numberOption,
  placeImages,
  requiredString,
  runJob,
  samplingRequest,
  savedDefaults,
  withDefaults,
} from './generate';

type Result = Readonly<{
  file: string;
  /** Every variant's file (the first is `file`). */
  files: ReadonlyArray<string>;
  keptTokens: number;
  regeneratedTokens: number;
  /** PSNR (dB) against the source over the pixels at least one token's width from the mask. */
  unmaskedPsnr: number;
  /** The same for the decoder's own image (what --no-keep-pixels gives). */
  decodedUnmaskedPsnr: number | null;
  keptPixels: boolean;
  /** What the model saw besides the prompt: every kept token (`all`) or none (`none`). */
  editContext: EditContext | null;
  seed: number;
  orderSeed: number;
  seconds: number;
  /** The settings the variants were made with: flags, then the saved defaults, then the model's own. */
  sampling?: ResolvedSampling;
}>;

const USAGE =
  'vgt edit --image IN --mask MASK.png --prompt TEXT [--seed N] [--tokens-per-step K] [--steps N] [--cfg F] ' +
  '[--mask-threshold F] [--count N] [--no-keep-pixels] [--context all|none] [--model ID] [--out FILE.png] ' +
  '[--no-history]';

/** `--context`: `all` (every kept token is the model's context) or `none` (the prompt alone); absent: the model's. */
export function contextOption(values: Record<string, unknown>): EditContext | undefined {
  return choiceOption(values, 'context', EditContextSchema.options, USAGE);
}

export const edit: Command = {
  summary: 'Regenerate the masked tokens of an image with a new prompt (the mask is white where tokens change)',
  usage: USAGE,
  options: {
    ...SAMPLING_OPTIONS,
    image: { type: 'string' },
    mask: { type: 'string' },
    'mask-threshold': { type: 'string' },
    count: { type: 'string' },
    'no-keep-pixels': { type: 'boolean' },
    context: { type: 'string' },
  },
  async run(values, _positionals, context): Promise<Result> {
    const image = path.resolve(requiredString(values, 'image', USAGE));
    const mask = path.resolve(requiredString(values, 'mask', USAGE));
    const prompt = requiredString(values, 'prompt', USAGE);
    const editContext = contextOption(values);
    const studio = context.studio();
    const threshold = numberOption(values, 'mask-threshold');
    // The saved defaults' sampling and model apply; their image count is the Generate form's, an edit makes one.
    const request: EditRequest = {
      ...withDefaults(samplingRequest(values), await savedDefaults(studio)),
      image: { kind: 'file', path: image },
      mask: { kind: 'file', path: mask },
      prompt,
      ...(threshold !== undefined ? { maskThreshold: threshold } : {}),
      count: intOption(values, 'count') ?? 1,
      keepPixels: values['no-keep-pixels'] !== true,
      ...(editContext ? { editContext } : {}),
    };
    const started = performance.now();
    const done = await runJob(studio, context, () => call(studio, 'generation.edit', request));
    const placed = await placeImages(done.images, values.out as string | undefined, request.history !== false);
    return {
      file: placed[0]?.file ?? '',
      files: placed.map((p) => p.file),
      keptTokens: done.edit?.keptTokens ?? 0,
      regeneratedTokens: done.edit?.regeneratedTokens ?? 0,
      unmaskedPsnr: done.edit?.unmaskedPsnr ?? 0,
      decodedUnmaskedPsnr: done.edit?.decodedUnmaskedPsnr ?? null,
      keptPixels: done.edit?.keptPixels ?? false,
      editContext: done.edit?.editContext ?? null,
      seed: placed[0]?.seed ?? 0,
      orderSeed: placed[0]?.orderSeed ?? 0,
      seconds: (performance.now() - started) / 1000,
      ...(done.sampling ? { sampling: done.sampling } : {}),
    };
  },
  print(result, io: CliIo) {
    const r = result as Result;
    const decoded =
      r.keptPixels && r.decodedUnmaskedPsnr !== null
        ? `; the decode alone ${r.decodedUnmaskedPsnr.toFixed(2)} dB, its pixels replaced outside the mask`
        : '';
    const context = r.editContext === 'none' ? ', the prompt alone as context' : '';
    io.stdout(
      `${r.files.join('\n')}\n${r.regeneratedTokens} tokens regenerated, ${r.keptTokens} kept${context} (seed ${r.seed}, order seed ${r.orderSeed}); ` +
        `unmasked PSNR ${r.unmaskedPsnr.toFixed(2)} dB one token or more from the mask${decoded}; ${r.seconds.toFixed(2)} s\n`,
    );
  },
};
