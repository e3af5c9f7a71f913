// `vgt reconstruct`: an image through the model's autoencoder, with PSNR and SSIM.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReconstructResult } from '../../common/contract';
import { call, type CliIo, type Command } from '../command';
import { requiredString } from './generate';

type Result = Readonly<{
  file: string;
  psnr: number;
  ssim: number;
  tokens: [number, number];
  seconds: number;
  model: string;
}>;

const USAGE = 'vgt reconstruct --image IN [--out FILE.png] [--model ID]';

export const reconstruct: Command = {
  summary: 'Encode and decode an image with the model (PSNR, SSIM)',
  usage: USAGE,
  options: { image: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' } },
  async run(values, _positionals, context): Promise<Result> {
    const image = path.resolve(requiredString(values, 'image', USAGE));
    const studio = context.studio();
    const result = await call<ReconstructResult>(studio, 'generation.reconstruct', {
      image: { kind: 'file', path: image },
      ...(values.model ? { model: values.model as string } : {}),
    });
    const file = path.resolve(
      (values.out as string | undefined) ?? `${path.basename(image, path.extname(image))}.reconstructed.png`,
    );
    await writeFile(file, Buffer.from(result.output.png, 'base64'));
    return {
      file,
      psnr: result.psnr,
      ssim: result.ssim,
      tokens: result.tokens,
      seconds: result.seconds,
      model: result.model,
    };
  },
  print(result, io: CliIo) {
    const r = result as Result;
    io.stdout(
      `${r.file}\nPSNR ${r.psnr.toFixed(2)} dB, SSIM ${r.ssim.toFixed(4)}, ${r.tokens[0]}×${r.tokens[1]} tokens, ${r.seconds.toFixed(2)} s\n`,
    );
  },
};
