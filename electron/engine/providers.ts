// Execution providers: which ones this onnxruntime-node build carries, which actually initialise here, and the
// order the engine tries them in (VGT_EP first, then the best available, CPU always last).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ProviderId, ProviderStatus } from '../common/contract';
import { createSession, float32Tensor, listedBackends, nativeFolder, runtimeVersion } from './ort';

export const PROVIDER_ORDER: ReadonlyArray<ProviderId> = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

const ALIASES: Record<string, ProviderId> = {
  cuda: 'cuda',
  dml: 'dml',
  directml: 'dml',
  coreml: 'coreml',
  webgpu: 'webgpu',
  cpu: 'cpu',
};

/** A 1-node ONNX graph (y = x + x, opset 17) used to check that a provider initialises and runs. */
const PROBE_MODEL = Buffer.from(
  'CAgSA3ZndDpBCg4KAXgKAXgSAXkiA0FkZBIFcHJvYmVaEwoBeBIOCgwIARIICgIIAQoCCARiEwoBeRIOCgwIARIICgIIAQoCCARCBAoAEBE=',
  'base64',
);

export type Preference = Readonly<{ order: ReadonlyArray<ProviderId>; unknown: ReadonlyArray<string> }>;

/** Parses VGT_EP ("cuda,webgpu,cpu"): known names in the given order, then the rest in default order; CPU stays last. */
export function parsePreference(value: string | undefined): Preference {
  const wanted: Array<ProviderId> = [];
  const unknown: Array<string> = [];
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    const id = ALIASES[name];
    if (id === undefined) unknown.push(name);
    else if (!wanted.includes(id)) wanted.push(id);
  }
  const rest = PROVIDER_ORDER.filter((id) => !wanted.includes(id));
  const order = [...wanted.filter((id) => id !== 'cpu'), ...rest.filter((id) => id !== 'cpu'), 'cpu' as const];
  // An explicit list means "only these, then CPU": providers the user left out are not tried.
  return { order: wanted.length > 0 ? order.filter((id) => wanted.includes(id) || id === 'cpu') : order, unknown };
}

function firstLine(message: string): string {
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return line.replace(/^.*?(\[ONNXRuntimeError\]|Error:)\s*/, '').slice(0, 200);
}

async function probe(id: ProviderId): Promise<string | null> {
  try {
    const session = await createSession(PROBE_MODEL, { executionProviders: [id], logSeverityLevel: 4 });
    try {
      await session.run({ x: float32Tensor(new Float32Array([1, 2, 3, 4]), [1, 4]) });
    } finally {
      await session.release();
    }
    return null;
  } catch (error) {
    return firstLine((error as Error).message);
  }
}

let cached: Promise<ReadonlyArray<ProviderStatus>> | null = null;

/** Probes every provider once per process (a few ms each; failures are what tell us a GPU stack is missing). */
export function probeProviders(): Promise<ReadonlyArray<ProviderStatus>> {
  cached ??= (async () => {
    const listed = listedBackends();
    const cudaAddOn = existsSync(path.join(nativeFolder(), 'libonnxruntime_providers_cuda.so'));
    const statuses: Array<ProviderStatus> = [];
    for (const id of PROVIDER_ORDER) {
      if (id === 'cpu') {
        statuses.push({ id, bundled: true, available: true });
        continue;
      }
      const bundled = listed.get(id) === true;
      if (!listed.has(id)) {
        statuses.push({
          id,
          bundled: false,
          available: false,
          reason: `not part of onnxruntime-node on ${process.platform}`,
        });
        continue;
      }
      if (id === 'cuda' && !cudaAddOn) {
        statuses.push({
          id,
          bundled,
          available: false,
          reason: 'CUDA add-on not installed (opt in: npm run cuda:install)',
        });
        continue;
      }
      const failure = await probe(id);
      statuses.push(
        failure === null ? { id, bundled, available: true } : { id, bundled, available: false, reason: failure },
      );
    }
    return statuses;
  })();
  return cached;
}

export type ProviderReport = Readonly<{
  version: string;
  providers: Array<ProviderStatus>;
  preferred: ProviderId;
  preference: string | null;
}>;

export async function getProviderReport(preference: string | undefined): Promise<ProviderReport> {
  const providers = [...(await probeProviders())];
  const { order } = parsePreference(preference);
  const preferred = order.find((id) => providers.find((p) => p.id === id)?.available) ?? 'cpu';
  return {
    version: runtimeVersion(),
    providers,
    preferred,
    preference: preference?.trim() ? preference.trim() : null,
  };
}

/** The providers to try, best first: VGT_EP's order, only those that initialise here, CPU always last. */
export async function providerCandidates(preference: string | undefined): Promise<Array<ProviderId>> {
  const statuses = await probeProviders();
  return parsePreference(preference).order.filter((id) => statuses.find((s) => s.id === id)?.available);
}

export type Fallback = Readonly<{ ep: ProviderId; reason: string }>;

/**
 * Runs `attempt` on each provider in turn until one succeeds; every failure is reported through `onFallback`
 * (the user sees why a faster provider was skipped). Throws the last provider's error when all fail.
 */
export async function withFallback<T>(
  candidates: ReadonlyArray<ProviderId>,
  attempt: (ep: ProviderId) => Promise<T>,
  onFallback: (fallback: Fallback) => void,
): Promise<Readonly<{ value: T; ep: ProviderId }>> {
  let lastError: unknown = new Error('no execution provider is available');
  for (const ep of candidates) {
    try {
      return { value: await attempt(ep), ep };
    } catch (error) {
      lastError = error;
      onFallback({ ep, reason: firstLine((error as Error)?.message ?? String(error)) });
    }
  }
  throw lastError;
}
