// The PyTorch goldens of native-models (test/fixtures/tiny-goldens): settings, injected noise and order, and every
// intermediate of the reference sampler, for the parity tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedSampling } from '../../electron/common/api/generation';
import type { ImagePositions, NoiseSource, PadMask } from '../../electron/engine/sampler';

export const TINY_BUNDLE = path.resolve('test/fixtures/tiny-bundle');
const GOLDENS = path.resolve('test/fixtures/tiny-goldens');

type FileSpec = { file: string; dtype: string; shape: Array<number> };
type CaseJson = {
  settings: ResolvedSampling & { seed: number; orderSeed: number };
  padMask: PadMask;
  imagePositions: ImagePositions;
  ts: Array<number>;
  order: Array<number>;
  groupSizes: Array<number>;
  /** Per group: the tokens and the lm_step position ids fed, [rows, length] or [rows, length, 2]. */
  groups: Array<{ tokens: Array<number>; positionIds: Array<Array<number | Array<number>>> }>;
  files: Record<string, FileSpec>;
};
export type GoldenJson = {
  prompt: string;
  tokenIds: { cond: Array<number>; uncond: Array<number>; img: Array<number> };
  cases: Record<string, CaseJson>;
  ae: { files: Record<string, FileSpec> };
};

export const golden = JSON.parse(readFileSync(path.join(GOLDENS, 'golden.json'), 'utf8')) as GoldenJson;

export function goldenTensor(spec: FileSpec): Float32Array {
  const bytes = readFileSync(path.join(GOLDENS, spec.file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The reference's noise, replayed: initial [G, k, dZ] and sde [G, steps − 1, k, dZ] (one image). */
export function goldenNoise(c: CaseJson): NoiseSource {
  const initial = goldenTensor(c.files.initial_noise!);
  const sde = goldenTensor(c.files.sde_noise!);
  const starts = c.groupSizes.map((_, g) => c.groupSizes.slice(0, g).reduce((a, b) => a + b, 0));
  const steps = c.settings.steps - 1;
  return {
    initial: (_image, g, n) =>
      initial.slice(starts[g]! * (n / c.groupSizes[g]!), starts[g]! * (n / c.groupSizes[g]!) + n),
    sde: (_image, g, i, n) => {
      const offset = (starts[g]! * steps + i * c.groupSizes[g]!) * (n / c.groupSizes[g]!);
      return sde.slice(offset, offset + n);
    },
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
