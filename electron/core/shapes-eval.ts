// `vgt eval shapes` / generation.eval: generates every Shapes World prompt with N seeds (one batch per prompt) and
// scores the images with the ShapesEval program of shapes-world.md.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { EvalResult } from '../common/contract';
import { StudioError } from '../common/errors';
import { evaluateShapes, parseShapesPrompt, scoreShapesImage, type ShapesResult } from '../common/shapes/score';
import { generationRunner } from './generation-runner';
import type { Services } from './services';

/** The held-out evaluation prompts shipped with native-models. */
export const DEFAULT_EVAL_PROMPTS = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  'native-models',
  'data',
  'shapes-eval-prompts.jsonl',
);

type EvalPrompt = Readonly<{ prompt: string; category: string }>;

/** Reads JSON lines of {"prompt", "category"}; every line must parse and be a Shapes World prompt. */
export async function readEvalPrompts(file: string): Promise<Array<EvalPrompt>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new StudioError('NOT_FOUND', `Cannot read the prompts file ${file} (${error.code ?? 'error'}).`);
  });
  const prompts: Array<EvalPrompt> = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new StudioError('INVALID_PAYLOAD', `${file}:${i + 1}: not JSON.`);
    }
    const { prompt, category } = (row ?? {}) as { prompt?: unknown; category?: unknown };
    if (typeof prompt !== 'string' || !parseShapesPrompt(prompt)) {
      throw new StudioError('INVALID_PAYLOAD', `${file}:${i + 1}: not a Shapes World prompt.`);
    }
    prompts.push({ prompt, category: typeof category === 'string' ? category : 'uncategorized' });
  }
  if (prompts.length === 0) throw new StudioError('INVALID_PAYLOAD', `${file} has no prompts.`);
  return prompts;
}

export async function runShapesEval(
  services: Services,
  request: Readonly<{ prompts?: string; tokensPerStep?: number; seeds?: number; limit?: number; model?: string }>,
  signal?: AbortSignal,
  onPrompt?: (done: number, total: number) => void,
): Promise<EvalResult> {
  const started = performance.now();
  const prompts = (await readEvalPrompts(request.prompts ?? DEFAULT_EVAL_PROMPTS)).slice(0, request.limit);
  const seeds = Array.from({ length: request.seeds ?? 1 }, (_, i) => i);
  const runner = generationRunner(services);
  const model = await services.models.resolve(request.model);
  const results: Array<ShapesResult> = [];
  for (const [i, { prompt, category }] of prompts.entries()) {
    if (signal?.aborted) throw new StudioError('CANCELLED');
    const outcome = await runner.direct({
      prompt,
      model: model.id,
      sampling: request.tokensPerStep ? { tokensPerStep: request.tokensPerStep } : {},
      seeds,
      orderSeeds: seeds,
    });
    if (outcome.status !== 'done') throw new StudioError('CANCELLED');
    for (const image of outcome.images) {
      const { data, info } = await sharp(image.png).raw().toBuffer({ resolveWithObject: true });
      const pixels = { width: info.width, height: info.height, channels: info.channels, data };
      results.push({ passed: scoreShapesImage(pixels, prompt), category });
    }
    onPrompt?.(i + 1, prompts.length);
  }
  return { ...evaluateShapes(results), model: model.id, seconds: (performance.now() - started) / 1000 };
}
