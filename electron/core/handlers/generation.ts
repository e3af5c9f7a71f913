// Generation calls: thin adapters from the contract to the generation runner (core/generation-runner.ts).
import type { Handlers } from '../dispatch';
import { runShapesEval } from '../shapes-eval';
import type { Services } from '../services';

type GenerationCalls = Extract<keyof Handlers, `generation.${string}`>;

export function generationHandlers(services: Services): Pick<Handlers, GenerationCalls> {
  const { runner } = services;
  return {
    'generation.generate': (request) => runner.generate(request),
    'generation.edit': (request) => runner.edit(request),
    'generation.cancel': ({ jobId }) => runner.cancel(jobId),
    'generation.resume': ({ jobId }) => runner.resume(jobId),
    'generation.decodePartial': ({ jobId }) => runner.decodePartial(jobId),
    'generation.jobs': () => ({ jobs: runner.jobs() }),
    'generation.reconstruct': (request) => runner.reconstruct(request),
    'generation.eval': (request, context) => runShapesEval(services, request, context.signal),
    'generation.engine': () => runner.status(),
    'generation.countTokens': (request) => runner.countTokens(request),
  };
}
