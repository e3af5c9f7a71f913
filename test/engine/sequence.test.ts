// Feed slicing (a `prefill` resume replays its prefill in two calls): positions keep their width, 1 or 2 (2-D RoPE).
import { describe, expect, it } from 'vitest';
import { cutColumns } from '../../electron/engine/sequence';

describe('cutColumns', () => {
  const rows = 2;
  const length = 3;
  const embeds = Float32Array.from({ length: rows * length * 2 }, (_, i) => i);
  it('cuts embeds and 1-D positions by column, row by row', () => {
    const positions = BigInt64Array.from([0n, 1n, 2n, 10n, 11n, 12n]);
    const cut = cutColumns({ embeds, positions, length }, rows, 2, 1, 3);
    expect(cut.length).toBe(2);
    expect(Array.from(cut.embeds)).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(Array.from(cut.positions)).toEqual([1n, 2n, 11n, 12n]);
  });
  it('keeps 2-D positions as pairs', () => {
    const positions = BigInt64Array.from([0n, 0n, 5n, 6n, 5n, 7n, 0n, 0n, 8n, 9n, 8n, 10n]);
    const cut = cutColumns({ embeds, positions, length }, rows, 2, 1, 3);
    expect(Array.from(cut.positions)).toEqual([5n, 6n, 5n, 7n, 8n, 9n, 8n, 10n]);
  });
});
