// The flow head of one group (sampler.ts): from noise at t = 0 to the group's latents (before the latent LayerNorm),
// by Euler–Maruyama steps with CFG, either in one fused head_sde run or head_velocity step by step. Float32 in the
// reference's order (Math.fround after each operation): the fused graph does the same operations in the same order.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */
import type { ResolvedSampling } from '../common/api/generation';
import type { Graphs, NoiseSource } from './sampler';

const f = Math.fround;

/** The reference's final ODE step (`last_step_size`). */
export const LAST_STEP = 0.04;

/** torch.linspace(0, 1 − LAST_STEP, steps) in float32, with torch's symmetric halves. */
export function sdeTimesteps(steps: number): Float32Array {
  const out = new Float32Array(steps);
  const end = f(1 - LAST_STEP);
  if (steps === 1) return out;
  const step = f(end / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(step * i) : f(end - f(step * (steps - i - 1)));
  return out;
}

/** A group's result: x before the latent LayerNorm, the head's cond, and the guided velocity of each step. */
export type HeadResult = Readonly<{ x: Float32Array; cond: Float32Array; velocities: ReadonlyArray<Float32Array> }>;

/** One group's sizes: `n` latent values (images × tokens × dZ), and the eps of step i. */
type GroupNoise = Readonly<{ n: number; epsAt: (i: number) => Float32Array }>;

export class FlowHead {
  readonly #graphs: Graphs;
  readonly #sampling: ResolvedSampling;
  readonly #images: number;
  readonly #dZ: number;
  readonly #useCfg: boolean;
  readonly #ts: Float32Array;
  /** The coefficients of each Euler–Maruyama step (1 + t, dt, sqrt(2(1 − t))·sqrt(dt)), float32. */
  readonly #coef: Float32Array;

  constructor(graphs: Graphs, sampling: ResolvedSampling, images: number, dZ: number) {
    this.#graphs = graphs;
    this.#sampling = sampling;
    this.#images = images;
    this.#dZ = dZ;
    this.#useCfg = sampling.cfg > 1;
    const ts = sdeTimesteps(sampling.steps);
    this.#ts = ts;
    const coef = new Float32Array(3 * (sampling.steps - 1));
    for (let i = 0; i < sampling.steps - 1; i++) {
      const ti = ts[i]!;
      const dt = f(ts[i + 1]! - ti);
      coef.set([f(1 + ti), dt, f(f(Math.sqrt(f(2 * f(1 - ti)))) * f(Math.sqrt(dt)))], 3 * i);
    }
    this.#coef = coef;
  }

  /**
   * Group g: `hidden` holds the last k hidden states of every row (rows ordered (row, token)), `cfg` the group's
   * guidance scale in float32.
   */
  async run(hidden: Float32Array, g: number, k: number, cfg: number, noise: NoiseSource): Promise<HeadResult> {
    const graphs = this.#graphs;
    const B = this.#images;
    const dZ = this.#dZ;
    const R = this.#useCfg ? 2 * B : B;
    const fused = this.#useCfg && graphs.headSde && graphs.sdeSteps === this.#sampling.steps ? graphs.headSde : null;
    const cond = fused ? new Float32Array(0) : await graphs.headCond(hidden, R * k);
    const n = B * k * dZ;
    const x: Float32Array = new Float32Array(n);
    for (let b = 0; b < B; b++) x.set(noise.initial(b, g, k * dZ), b * k * dZ);
    const epsAt = (i: number): Float32Array => {
      const eps = new Float32Array(n);
      for (let b = 0; b < B; b++) eps.set(noise.sde(b, g, i, k * dZ), b * k * dZ);
      return eps;
    };
    if (fused) return this.#fused(fused, hidden, x, cfg, { n, epsAt }, k);
    return this.#stepwise(x, cond, cfg, { n, epsAt }, R * k);
  }

  /** One graph run for head_cond and the whole loop. */
  async #fused(
    headSde: NonNullable<Graphs['headSde']>,
    hidden: Float32Array,
    x: Float32Array,
    cfg: number,
    { n, epsAt }: GroupNoise,
    k: number,
  ): Promise<HeadResult> {
    const { steps } = this.#sampling;
    const eps = new Float32Array((steps - 1) * n);
    for (let i = 0; i < steps - 1; i++) eps.set(epsAt(i), i * n);
    const out = await headSde({ hidden, x, eps, coef: this.#coef, ts: this.#ts, cfg, n: this.#images * k });
    const velocities: Array<Float32Array> = [];
    for (let i = 0; i < steps; i++) velocities.push(out.v.subarray(i * n, (i + 1) * n));
    return { x: out.x, cond: out.cond, velocities };
  }

  /** head_velocity step by step (`rows` = R·k head rows); the last step is the plain ODE step of LAST_STEP. */
  async #stepwise(
    x0: Float32Array,
    cond: Float32Array,
    cfg: number,
    { n, epsAt }: GroupNoise,
    rows: number,
  ): Promise<HeadResult> {
    const { steps } = this.#sampling;
    const ts = this.#ts;
    const coef = this.#coef;
    const velocities: Array<Float32Array> = [];
    const t = new Float32Array(rows);
    const velocity = async (x: Float32Array, ti: number): Promise<Float32Array> => {
      t.fill(ti);
      const v = this.#guided(await this.#graphs.headVelocity(this.#rowsOf(x, n), t, cond, rows), cfg, n);
      velocities.push(v);
      return v;
    };
    let x = x0;
    for (let i = 0; i < steps - 1; i++) {
      const v = await velocity(x, ts[i]!);
      const eps = epsAt(i);
      const [onePlusT, dt, scale] = [coef[3 * i]!, coef[3 * i + 1]!, coef[3 * i + 2]!];
      const next = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        next[j] = f(f(x[j]! + f(f(f(onePlusT * v[j]!) - x[j]!) * dt)) + f(scale * eps[j]!));
      }
      x = next;
    }
    const v = await velocity(x, ts[steps - 1]!);
    const last = f(LAST_STEP);
    for (let j = 0; j < n; j++) x[j] = f(x[j]! + f(last * v[j]!));
    return { x, cond, velocities };
  }

  /** The head's input rows: x for the cond rows and again for the uncond rows with CFG. */
  #rowsOf(x: Float32Array, n: number): Float32Array {
    if (!this.#useCfg) return x;
    const xx = new Float32Array(2 * n);
    xx.set(x);
    xx.set(x, n);
    return xx;
  }

  /** CFG: uncond + cfg · (cond − uncond) per value; without CFG the raw velocity. */
  #guided(raw: Float32Array, cfg: number, n: number): Float32Array {
    if (!this.#useCfg) return raw;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = f(raw[n + i]! + f(cfg * f(raw[i]! - raw[n + i]!)));
    return v;
  }
}
