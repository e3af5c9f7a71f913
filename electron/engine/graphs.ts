// The bundle's ONNX graphs as the sampler's `Graphs`, on one execution provider. Sessions are created once per bundle
// and provider and released together; runtime failures become typed errors (never a silently black image).
import { availableParallelism } from 'node:os';
import type { ProviderId } from '../common/contract';
import { StudioError } from '../common/errors';
import { bundleEntry, hasRole, type Bundle, type BundleRole, type Grid } from './bundle';
import { createSession, float32Tensor, int64Tensor, type Session, type SessionOutputs, type Tensor } from './ort';
import type { Graphs, HeadSdeInput, KvCache, LmStepInput } from './sampler';

export type SessionOptions = Readonly<{
  /**
   * Threads per graph run. By default the per-token graphs (LM step, head, latent_in) run on one thread — their
   * work per call is small, and a thread pool's hand-offs cost more than they save — and the autoencoder graphs
   * use every core but one, which stays free for the host's event loop.
   */
  threads?: number;
}>;

const POOLED_ROLES: ReadonlySet<BundleRole> = new Set(['vgtae_decode', 'vgtae_encode']);

export type GraphTime = Partial<Record<BundleRole, Readonly<{ ms: number; runs: number }>>>;

/** The graph time of several runs together (a batch that fell back to one image at a time). */
export function sumGraphTime(times: ReadonlyArray<GraphTime>): GraphTime {
  const out: Partial<Record<BundleRole, { ms: number; runs: number }>> = {};
  for (const time of times) {
    for (const [role, spent] of Object.entries(time) as Array<[BundleRole, { ms: number; runs: number }]>) {
      const sum = out[role] ?? { ms: 0, runs: 0 };
      out[role] = { ms: sum.ms + spent.ms, runs: sum.runs + spent.runs };
    }
  }
  return out;
}

/** Creates one session; tests swap it to simulate a failing provider. */
export type SessionFactory = (file: string, ep: ProviderId, options: SessionOptions) => Promise<Session>;

export const createOrtSession: SessionFactory = (file, ep, options) =>
  createSession(file, {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    interOpNumThreads: 1,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });

const OOM = /bad_alloc|out of memory|failed to allocate|cudaErrorMemoryAllocation|E_OUTOFMEMORY|insufficient memory/i;

/** A runtime error as the studio reports it: out-of-memory apart, everything else is the provider failing. */
export function runtimeError(ep: ProviderId, what: string, error: unknown): StudioError {
  if (error instanceof StudioError) return error;
  const message = (error as Error)?.message ?? String(error);
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  if (OOM.test(message)) {
    return new StudioError(
      'OUT_OF_MEMORY',
      `The model ran out of memory on ${ep} (${what}). Try fewer images at once or a smaller model.`,
      { cause: error },
    );
  }
  return new StudioError('PROVIDER_FAILED', `The ${ep} provider failed in ${what}: ${line.slice(0, 300)}`, {
    cause: error,
  });
}

function assertFinite(data: Float32Array, ep: ProviderId, what: string): void {
  for (const value of data) {
    if (!Number.isFinite(value)) {
      throw new StudioError('PROVIDER_FAILED', `The ${ep} provider returned non-finite values from ${what}.`);
    }
  }
}

const GRAPH_ROLES = ['lm_step', 'latent_in', 'head_cond', 'head_velocity', 'vgtae_decode'] as const;

export class OrtGraphs implements Graphs {
  readonly ep: ProviderId;
  readonly encode: Graphs['encode'];
  readonly headSde: Graphs['headSde'];
  readonly sdeSteps: number | null;
  readonly #sessions: ReadonlyMap<BundleRole, Session>;
  readonly #spent = new Map<BundleRole, { ms: number; runs: number }>();
  readonly #layers: number;
  readonly #kvHeads: number;
  readonly #headDim: number;

  private constructor(bundle: Bundle, ep: ProviderId, sessions: ReadonlyMap<BundleRole, Session>) {
    this.ep = ep;
    this.#sessions = sessions;
    const a = bundle.manifest.architecture;
    this.#layers = a.layers;
    this.#kvHeads = a.kvHeads;
    this.#headDim = a.headDim;
    const { size } = bundle.manifest.image;
    const sde = sessions.has('head_sde');
    this.headSde = sde ? (input) => this.#headSde(input) : null;
    this.sdeSteps = sde ? (bundleEntry(bundle, 'head_sde').entry.steps ?? null) : null;
    this.encode = sessions.has('vgtae_encode')
      ? async (image, batch) =>
          (await this.#run('vgtae_encode', { image: float32Tensor(image, [batch, 3, size, size]) }, 'z'))
            .data as Float32Array
      : null;
  }

  /** Opens every graph of the bundle on `ep`; releases what it opened if one fails. */
  static async open(
    bundle: Bundle,
    ep: ProviderId,
    options: SessionOptions = {},
    factory: SessionFactory = createOrtSession,
  ): Promise<OrtGraphs> {
    const roles: Array<BundleRole> = [
      ...GRAPH_ROLES,
      ...(hasRole(bundle, 'vgtae_encode') ? ['vgtae_encode' as const] : []),
      ...(hasRole(bundle, 'head_sde') ? ['head_sde' as const] : []),
    ];
    const sessions = new Map<BundleRole, Session>();
    try {
      for (const role of roles) {
        const threads = options.threads ?? (POOLED_ROLES.has(role) ? Math.max(1, availableParallelism() - 1) : 1);
        sessions.set(role, await factory(bundleEntry(bundle, role).file, ep, { threads }));
      }
    } catch (error) {
      await Promise.all([...sessions.values()].map((s) => s.release().catch(() => undefined)));
      throw error;
    }
    return new OrtGraphs(bundle, ep, sessions);
  }

  async release(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.release().catch(() => undefined)));
  }

  /** Wall time spent in each graph's runs (and their count) since the last call; the benchmark's breakdown. */
  takeGraphTime(): GraphTime {
    const out = Object.fromEntries(this.#spent) as GraphTime;
    this.#spent.clear();
    return out;
  }

  async #runAll(role: BundleRole, feeds: Record<string, Tensor>): Promise<SessionOutputs> {
    const session = this.#sessions.get(role);
    if (!session) throw new StudioError('MODEL_INVALID', `The model has no ${role} graph.`);
    const t0 = performance.now();
    try {
      return await session.run(feeds);
    } catch (error) {
      throw runtimeError(this.ep, role, error);
    } finally {
      const spent = this.#spent.get(role) ?? { ms: 0, runs: 0 };
      this.#spent.set(role, { ms: spent.ms + performance.now() - t0, runs: spent.runs + 1 });
    }
  }

  async #run(role: BundleRole, feeds: Record<string, Tensor>, output: string): Promise<Tensor> {
    const out = (await this.#runAll(role, feeds))[output];
    if (!out) throw new StudioError('MODEL_INVALID', `The ${role} graph has no output "${output}".`);
    return out;
  }

  async lmStep(input: LmStepInput): Promise<{ hidden: Float32Array; present: KvCache }> {
    const { rows, length } = input;
    const hidden = input.embeds.length / (rows * length);
    const pastLength = input.mask.length / rows - length;
    const feeds: Record<string, Tensor> = {
      inputs_embeds: float32Tensor(input.embeds, [rows, length, hidden]),
      attention_mask: int64Tensor(input.mask, [rows, pastLength + length]),
      position_ids: int64Tensor(
        input.positions,
        input.positions.length === rows * length
          ? [rows, length]
          : [rows, length, input.positions.length / (rows * length)],
      ),
    };
    const kvShape = [rows, this.#kvHeads, pastLength, this.#headDim];
    for (let i = 0; i < this.#layers; i++) {
      const past = input.past as ReadonlyArray<Tensor> | null;
      feeds[`past_key.${i}`] = past?.[2 * i] ?? float32Tensor(new Float32Array(0), kvShape);
      feeds[`past_value.${i}`] = past?.[2 * i + 1] ?? float32Tensor(new Float32Array(0), kvShape);
    }
    const result = await this.#runAll('lm_step', feeds);
    const output = (name: string): Tensor => {
      const value = result[name];
      if (!value) throw new StudioError('MODEL_INVALID', `The lm_step graph has no output "${name}".`);
      return value;
    };
    const present: Array<Tensor> = [];
    for (let i = 0; i < this.#layers; i++) present.push(output(`present_key.${i}`), output(`present_value.${i}`));
    const out = output('hidden_states').data as Float32Array;
    assertFinite(out, this.ep, 'lm_step');
    return { hidden: out, present };
  }

  async latentIn(z: Float32Array, pos: Float32Array, n: number): Promise<Float32Array> {
    const feeds = { z: float32Tensor(z, [n, z.length / n]), pos: float32Tensor(pos, [n, pos.length / n]) };
    return (await this.#run('latent_in', feeds, 'embeds')).data as Float32Array;
  }

  async headCond(hidden: Float32Array, n: number): Promise<Float32Array> {
    return (await this.#run('head_cond', { hidden: float32Tensor(hidden, [n, hidden.length / n]) }, 'cond'))
      .data as Float32Array;
  }

  async headVelocity(x: Float32Array, t: Float32Array, cond: Float32Array, n: number): Promise<Float32Array> {
    const feeds = {
      x: float32Tensor(x, [n, x.length / n]),
      t: float32Tensor(t, [n]),
      cond: float32Tensor(cond, [n, cond.length / n]),
    };
    const v = (await this.#run('head_velocity', feeds, 'v')).data as Float32Array;
    assertFinite(v, this.ep, 'head_velocity');
    return v;
  }

  async #headSde(input: HeadSdeInput): Promise<{ x: Float32Array; v: Float32Array; cond: Float32Array }> {
    const { n } = input;
    const steps = input.ts.length;
    const dZ = input.x.length / n;
    const result = await this.#runAll('head_sde', {
      hidden: float32Tensor(input.hidden, [2 * n, input.hidden.length / (2 * n)]),
      x: float32Tensor(input.x, [n, dZ]),
      eps: float32Tensor(input.eps, [steps - 1, n, dZ]),
      coef: float32Tensor(input.coef, [steps - 1, 3]),
      ts: float32Tensor(input.ts, [steps]),
      cfg: float32Tensor(Float32Array.of(input.cfg), [1]),
    });
    const x = result.x_out?.data as Float32Array | undefined;
    const v = result.v?.data as Float32Array | undefined;
    const cond = result.cond?.data as Float32Array | undefined;
    if (!x || !v || !cond)
      throw new StudioError('MODEL_INVALID', 'The head_sde graph lacks its outputs x_out, v, cond.');
    assertFinite(x, this.ep, 'head_sde');
    return { x, v, cond };
  }

  async decode(z: Float32Array, batch: number, grid: Grid): Promise<Float32Array> {
    const dZ = z.length / (batch * grid[0] * grid[1]);
    const image = (await this.#run('vgtae_decode', { z: float32Tensor(z, [batch, dZ, grid[0], grid[1]]) }, 'image'))
      .data as Float32Array;
    assertFinite(image, this.ep, 'vgtae_decode');
    // A decoder never paints every pixel of every channel exactly the same value; a provider that failed silently does.
    if (image.length > 1 && image.every((v) => v === image[0])) {
      throw new StudioError('PROVIDER_FAILED', `The ${this.ep} provider returned a blank image from vgtae_decode.`);
    }
    return image;
  }
}
