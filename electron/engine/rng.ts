// Seeded randomness for generation: noise and token orders must be reproducible from (seed, group) alone, on every
// platform and after a resume, so the engine uses its own generator (xoshiro128**) rather than Math.random or ORT.
// torch's RNG cannot be reproduced here; parity with PyTorch injects the reference's noise and order instead.
/* eslint-disable @typescript-eslint/no-non-null-assertion -- typed-array kernels: every index is in range by construction (noUncheckedIndexedAccess cannot see it) */

/** Finalizer of MurmurHash3: spreads the bits of a 32-bit word. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Words of a seed up to 2^53: its low and high 32 bits. */
function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 0x1_0000_0000) >>> 0];
}

export class Rng {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /** A stream named by any number of non-negative integers (seed, purpose, group, ...). */
  constructor(...words: ReadonlyArray<number>) {
    let h = 0x9e3779b9;
    for (const word of words.flatMap(seedWords)) h = mix32(h ^ mix32(word + 0x632be5ab));
    for (let i = 0; i < 4; i++) {
      h = mix32(h + 0x9e3779b9);
      this.#s[i] = h;
    }
    if (this.#s.every((x) => x === 0)) this.#s[0] = 1;
  }

  /** xoshiro128**: 32 random bits. */
  nextU32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    return ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;
  }

  /** An integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** A standard normal sample (Box–Muller; both values of a pair are used). */
  normal(): number {
    if (this.#spare !== null) {
      const value = this.#spare;
      this.#spare = null;
      return value;
    }
    let u = this.nextDouble();
    while (u === 0) u = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.nextDouble();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `n` float32 normal samples. */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Stream purposes, so a seed's order and its noise never share numbers. */
const ORDER_STREAM = 1;
const NOISE_STREAM = 2;

/** A uniformly random permutation of `cells` (Fisher–Yates), determined by the order seed alone. */
export function shuffled(cells: ReadonlyArray<number>, orderSeed: number): Int32Array {
  const out = Int32Array.from(cells);
  const rng = new Rng(orderSeed, ORDER_STREAM);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

/** The noise of one group of one image: a generator named by (seed, group), read as initial x then each SDE step. */
export function groupNoise(seed: number, group: number): Rng {
  return new Rng(seed, NOISE_STREAM, group);
}
