// The stored form of a generation's timeline: its token order, group sizes and committed latents as IEEE half
// floats, deflated. For the default model (64 tokens × 16 channels) that is 2 kB of halves before deflate; for the
// official 16×16 grid with 32 channels 16 kB. Decoding gives back, for any group g, the latents as they were after
// that group (later cells zero, the sampler's "unknown").
import { deflateSync, inflateSync } from 'fflate';
import { StudioError } from '../common/errors';
import type { TimelineData } from '../engine/fork';

const MAGIC = 0x4c544756; // "VGTL" little-endian
const VERSION = 1;

/** float32 → IEEE 754 binary16 bits, rounding to nearest even (overflow to ±Inf, NaN kept). */
export function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa rounds up into the exponent (and to Inf), as binary16 rounding should.
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The header fields and the half-float latents in commit order. */
export type StoredTimeline = Readonly<{
  dZ: number;
  cells: number;
  order: Uint16Array;
  groups: ReadonlyArray<number>;
  /** [order.length, dZ] halves: row i is the latent of cell order[i]. */
  halves: Uint16Array;
}>;

export function encodeTimeline(t: TimelineData): Uint8Array {
  const cells = t.latents.length / t.dZ;
  const known = t.order.length;
  const header = 5 * 4;
  const bytes = new Uint8Array(header + 2 * t.groups.length + 2 * known + 2 * known * t.dZ);
  const view = new DataView(bytes.buffer);
  [MAGIC, VERSION, t.dZ, cells, t.groups.length].forEach((v, i) => view.setUint32(4 * i, v, true));
  let o = header;
  const put = (value: number): void => {
    view.setUint16(o, value, true);
    o += 2;
  };
  for (const size of t.groups) put(size);
  for (const cell of t.order) put(cell);
  for (const cell of t.order) {
    for (let c = 0; c < t.dZ; c++) put(toHalf(t.latents[cell * t.dZ + c] ?? 0));
  }
  return deflateSync(bytes, { level: 9 });
}

export function decodeTimeline(blob: Uint8Array): StoredTimeline {
  let bytes: Uint8Array;
  try {
    bytes = inflateSync(blob);
  } catch {
    throw new StudioError('INTERNAL', 'The stored timeline is damaged.');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 20 || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) {
    throw new StudioError('INTERNAL', 'The stored timeline has an unknown format.');
  }
  const [dZ, cells, count] = [8, 12, 16].map((o) => view.getUint32(o, true)) as [number, number, number];
  let o = 20;
  const groups = Array.from({ length: count }, (_, i) => view.getUint16(o + 2 * i, true));
  o += 2 * count;
  const known = groups.reduce((a, b) => a + b, 0);
  if (bytes.length !== o + 2 * known + 2 * known * dZ) {
    throw new StudioError('INTERNAL', 'The stored timeline has the wrong length.');
  }
  const order = new Uint16Array(known);
  for (let i = 0; i < known; i++) order[i] = view.getUint16(o + 2 * i, true);
  o += 2 * known;
  const halves = new Uint16Array(known * dZ);
  for (let i = 0; i < halves.length; i++) halves[i] = view.getUint16(o + 2 * i, true);
  return { dZ, cells, order, groups, halves };
}

/** How many cells the first `group` groups hold. */
export function cellsAfter(t: StoredTimeline, group: number): number {
  return t.groups.slice(0, Math.max(0, group)).reduce((a, b) => a + b, 0);
}

/** [cells, dZ] float32 latents as they were after `group` groups (unknown cells zero). */
export function latentsAfter(t: StoredTimeline, group: number): Float32Array {
  const out = new Float32Array(t.cells * t.dZ);
  const known = cellsAfter(t, group);
  for (let i = 0; i < known; i++) {
    const cell = t.order[i] ?? 0;
    for (let c = 0; c < t.dZ; c++) out[cell * t.dZ + c] = fromHalf(t.halves[i * t.dZ + c] ?? 0);
  }
  return out;
}
