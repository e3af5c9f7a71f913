// Reconstruction, to see what a model's autoencoder keeps: an image encoded and decoded, with PSNR, SSIM, the error
// per token and a PCA picture of the latents.
import type { ReconstructResult } from '../common/contract';
import { StudioError } from '../common/errors';
import { encodeScaledPng, loadModelImage, rgbToTensor, tensorToRgb } from '../platform/image';
import { latentPca, psnr, ssim, tokenErrors } from './metrics';
import type { LoadedModel } from './model';
import { toInlinePng } from './outputs';
import { gridToLatents } from './sampler';

export async function reconstructImage(
  model: LoadedModel,
  modelId: string,
  imageBytes: Uint8Array,
): Promise<ReconstructResult> {
  const { graphs, tables, bundle } = model;
  if (!graphs.encode) {
    throw new StudioError(
      'MODEL_INVALID',
      'This model has no image encoder (vgtae_encode): it cannot reconstruct images.',
    );
  }
  const started = performance.now();
  const { grid, size } = bundle.manifest.image;
  const cells = grid[0] * grid[1];
  const input = await loadModelImage(imageBytes, size);
  const z = await graphs.encode(rgbToTensor(input), 1);
  const output = tensorToRgb(await graphs.decode(z, 1, grid), size, size);
  const [latents] = gridToLatents(z, 1, tables.dZ, cells) as [Float32Array];
  const pca = latentPca(latents, tables.dZ, grid);
  const scale = Math.max(1, Math.floor(size / grid[1]));
  return {
    model: modelId,
    input: await toInlinePng(input),
    output: await toInlinePng(output),
    psnr: psnr(input, output),
    ssim: ssim(input, output),
    tokens: grid,
    tokenErrors: tokenErrors(input, output, grid),
    pca: {
      png: Buffer.from(await encodeScaledPng(pca, scale)).toString('base64'),
      width: pca.width * scale,
      height: pca.height * scale,
    },
    seconds: (performance.now() - started) / 1000,
  };
}
