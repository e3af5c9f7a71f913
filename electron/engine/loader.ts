// Loading a bundle's model on the best provider that runs it: each candidate in turn, warmed up with one tiny run of
// every graph, so that a provider which creates sessions but cannot run them fails here (and is skipped with its
// reason), not mid-job.
import { StudioError } from '../common/errors';
import type { Bundle } from './bundle';
import type { EngineOptions } from './engine';
import { createOrtSession } from './graphs';
import { loadModel, type LoadedModel } from './model';
import { DecodeCost } from './preview-pacer';
import { providerCandidates, withFallback, type Fallback } from './providers';
import { positionWidth } from './sampler';

/** A loaded model and its decoder's cost per image, first measured at warm-up. */
export type ProviderLoad = Readonly<{ model: LoadedModel; decodeCost: DecodeCost }>;

/** Tries the providers in order; `fallbacks` collects every one skipped (the engine reports them, and names them all when none works). */
export async function loadOnBestProvider(
  bundle: Bundle,
  options: EngineOptions,
  fallbacks: Array<Fallback>,
): Promise<ProviderLoad> {
  const candidates = options.providers ?? (await providerCandidates(options.preference));
  const { value } = await withFallback(
    candidates,
    async (ep) => {
      const model = await loadModel(
        bundle,
        ep,
        { threads: options.threads },
        options.sessionFactory ?? createOrtSession,
      );
      try {
        const decodeCost = new DecodeCost();
        decodeCost.record(await warmUp(model), 1);
        return { model, decodeCost };
      } catch (error) {
        await model.graphs.release();
        throw error;
      }
    },
    (fallback) => {
      fallbacks.push(fallback);
      options.onFallback?.(fallback);
    },
  ).catch((error: unknown) => {
    if (error instanceof StudioError && error.code === 'MODEL_INVALID') throw error;
    const tried = fallbacks.map((f) => `${f.ep}: ${f.reason}`).join('; ');
    throw new StudioError('PROVIDER_FAILED', `No execution provider could run this model (${tried}).`, {
      cause: error,
    });
  });
  return value;
}

/** One tiny run of every graph; returns the decode's time, the first measure of what a decoded preview costs. */
async function warmUp(model: LoadedModel): Promise<number> {
  const { graphs, tables, bundle } = model;
  const { hidden: H, dZ } = tables;
  const W = bundle.manifest.architecture.headWidth;
  await graphs.lmStep({
    embeds: new Float32Array(H),
    rows: 1,
    length: 1,
    mask: BigInt64Array.of(1n),
    positions: new BigInt64Array(positionWidth(tables.imagePositions)),
    past: null,
  });
  await graphs.latentIn(new Float32Array(dZ), new Float32Array(H), 1);
  await graphs.headCond(new Float32Array(H), 1);
  await graphs.headVelocity(new Float32Array(dZ), new Float32Array(1), new Float32Array(W), 1);
  const [h, w] = bundle.manifest.image.grid;
  const started = performance.now();
  await graphs.decode(new Float32Array(dZ * h * w), 1, [h, w]);
  return performance.now() - started;
}
