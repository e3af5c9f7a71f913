// `vgt eval shapes` / generation.eval: generates every Shapes World prompt with N seeds (one batch per prompt) and
// scores the images with the ShapesEval program of native-models/vgt/shapes/SHAPES_WORLD.md.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalResult, Sampling } from '../common/contract';
import { StudioError } from '../common/errors';
import { evaluateShapes, parseShapesPrompt, scoreShapesImage, type ShapesResult } from '../common/shapes/score';
import { readManifest } from '../engine/bundle';
import { resolveSampling } from '../engine/engine';
import { decodePixels } from '../platform/image';
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

type EvalPrompt = Readonly<{ prompt: string; category: string; heldOut?: boolean }>;

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
    const { prompt, category, heldOut } = (row ?? {}) as { prompt?: unknown; category?: unknown; heldOut?: unknown };
    if (typeof prompt !== 'string' || !parseShapesPrompt(prompt)) {
      throw new StudioError('INVALID_PAYLOAD', `${file}:${i + 1}: not a Shapes World prompt.`);
    }
    prompts.push({
      prompt,
      category: typeof category === 'string' ? category : 'uncategorized',
      ...(typeof heldOut === 'boolean' ? { heldOut } : {}),
    });
  }
  if (prompts.length === 0) throw new StudioError('INVALID_PAYLOAD', `${file} has no prompts.`);
  return prompts;
}

export async function runShapesEval(
  services: Services,
  request: Sampling & Readonly<{ prompts?: string; seeds?: number; limit?: number; model?: string }>,
  signal?: AbortSignal,
  onPrompt?: (done: number, total: number) => void,
): Promise<EvalResult> {
  const started = performance.now();
  const all = await readEvalPrompts(request.prompts ?? DEFAULT_EVAL_PROMPTS);
  const prompts = evenSubset(
    all.map((p, index) => ({ ...p, index })),
    request.limit,
  );
  const perPrompt = request.seeds ?? 1;
  const { runner } = services;
  const model = await services.models.resolve(request.model);
  const { prompts: _file, seeds: _seeds, limit: _limit, model: _model, ...sampling } = request;
  const resolved = resolveSampling(await readManifest(model.path), sampling);
  const results: Array<ShapesResult> = [];
  // Pass rate over images of the prompts whose combinations training never showed, and of the others.
  const split = { seen: { pass: 0, n: 0 }, heldOut: { pass: 0, n: 0 } };
  for (const [i, { prompt, category, heldOut, index }] of prompts.entries()) {
    if (signal?.aborted) throw new StudioError('CANCELLED');
    // Noise and token order differ from prompt to prompt (fixed by the prompt's line, so --limit keeps them): one
    // seed for every prompt would score the whole set on a single draw of the order.
    const seeds = Array.from({ length: perPrompt }, (_, s) => index * perPrompt + s);
    const outcome = await runner.direct({
      prompt,
      model: model.id,
      sampling,
      seeds,
      orderSeeds: seeds,
    });
    if (outcome.status !== 'done') throw new StudioError('CANCELLED');
    for (const image of outcome.images) {
      const passed = scoreShapesImage(await decodePixels(image.png), prompt);
      results.push({ passed, category });
      if (heldOut !== undefined) {
        const side = heldOut ? split.heldOut : split.seen;
        side.pass += passed ? 1 : 0;
        side.n += 1;
      }
    }
    onPrompt?.(i + 1, prompts.length);
  }
  const rate = (side: { pass: number; n: number }) => ({ score: side.n ? side.pass / side.n : null, n: side.n });
  return {
    ...evaluateShapes(results),
    ...(split.seen.n + split.heldOut.n > 0 ? { split: { seen: rate(split.seen), heldOut: rate(split.heldOut) } } : {}),
    model: model.id,
    sampling: resolved,
    seconds: (performance.now() - started) / 1000,
  };
}

/** `limit` prompts spread evenly over the file (the held-out set is grouped by category), or all of them. */
export function evenSubset<T>(items: ReadonlyArray<T>, limit?: number): Array<T> {
  if (limit === undefined || limit >= items.length) return [...items];
  return items.filter(
    (_, j) => Math.floor((j * limit) / items.length) !== Math.floor(((j - 1) * limit) / items.length),
  );
}
