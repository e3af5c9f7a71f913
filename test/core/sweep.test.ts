// The sweep planner: axes from the command line, their checks, the cells they expand into, and the grid PNG (drawn
// with sharp, read back pixel by pixel and for its settings).
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { SweepCell } from '../../electron/common/contract';
import { shapesVerdict } from '../../electron/core/sweep';
import { checkAxis, parseAxisOption, planSweep } from '../../electron/core/sweep-axes';
import {
  composeSweepGrid,
  gridLayout,
  legendText,
  SWEEP_PNG_KEYWORD,
  type GridInput,
} from '../../electron/core/sweep-grid';
import { encodePng } from '../../electron/platform/image';
import { readPngText } from '../../electron/store/png';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('axes', () => {
  it('reads AXIS=V1,V2,… in the CLI spelling (or the API one)', () => {
    expect(parseAxisOption('tokens-per-step=1,2,4,8,16')).toEqual({ axis: 'tokensPerStep', values: [1, 2, 4, 8, 16] });
    expect(parseAxisOption('order-seed=5, 6')).toEqual({ axis: 'orderSeed', values: [5, 6] });
    expect(parseAxisOption('cfg=1.5,3')).toEqual({ axis: 'cfg', values: [1.5, 3] });
    expect(parseAxisOption('steps=10')).toEqual({ axis: 'steps', values: [10] });
    expect(parseAxisOption('tokensPerStep=2')).toEqual({ axis: 'tokensPerStep', values: [2] });
  });

  it('refuses what is not an axis with USAGE', () => {
    for (const bad of ['temperature=1,2', 'seed', 'seed=', 'seed=1,,2', 'seed=a', 'cfg=1,x']) {
      expect(
        code(() => parseAxisOption(bad)),
        bad,
      ).toBe('USAGE');
    }
  });

  it('checks each axis against its setting and the model', () => {
    expect(code(() => checkAxis({ axis: 'tokensPerStep', values: [1, 64] }, 64))).toBeUndefined();
    expect(code(() => checkAxis({ axis: 'tokensPerStep', values: [65] }, 64))).toBe('INVALID_PAYLOAD');
    expect(code(() => checkAxis({ axis: 'tokensPerStep', values: [2.5] }, 64))).toBe('INVALID_PAYLOAD');
    expect(code(() => checkAxis({ axis: 'seed', values: [-1] }, 64))).toBe('INVALID_PAYLOAD');
    expect(code(() => checkAxis({ axis: 'steps', values: [0] }, 64))).toBe('INVALID_PAYLOAD');
    expect(code(() => checkAxis({ axis: 'cfg', values: [1.25, 101] }, 64))).toBe('INVALID_PAYLOAD');
    expect(code(() => checkAxis({ axis: 'cfg', values: [1.25, 7.5] }, 64))).toBeUndefined();
    expect(code(() => checkAxis({ axis: 'seed', values: [1, 2, 1] }, 64))).toBe('INVALID_PAYLOAD');
  });
});

describe('planSweep', () => {
  it('expands x × y row by row, each cell the base settings with its axis values', () => {
    const cells = planSweep(
      {
        prompt: 'a red circle',
        x: { axis: 'tokensPerStep', values: [1, 4, 16] },
        y: { axis: 'seed', values: [7, 8] },
        steps: 10,
        cfg: 2,
      },
      123,
    );
    expect(cells.map((c) => [c.col, c.row, c.x, c.y])).toEqual([
      [0, 0, 1, 7],
      [1, 0, 4, 7],
      [2, 0, 16, 7],
      [0, 1, 1, 8],
      [1, 1, 4, 8],
      [2, 1, 16, 8],
    ]);
    expect(cells[4]?.request).toEqual({ prompt: 'a red circle', seed: 8, tokensPerStep: 4, steps: 10, cfg: 2 });
  });

  it('gives every cell one seed when no axis sets it, and one row without a y axis', () => {
    const cells = planSweep({ prompt: 'p', x: { axis: 'cfg', values: [1, 3] }, orderSeed: 5 }, 99);
    expect(cells.map((c) => c.request)).toEqual([
      { prompt: 'p', seed: 99, orderSeed: 5, cfg: 1 },
      { prompt: 'p', seed: 99, orderSeed: 5, cfg: 3 },
    ]);
    expect(cells.every((c) => c.row === 0 && c.y === null)).toBe(true);
    // A seed given by the request wins over the sweep's own random one.
    expect(planSweep({ prompt: 'p', x: { axis: 'steps', values: [4] }, seed: 3 }, 99)[0]?.request.seed).toBe(3);
  });

  it('refuses the same axis twice and grids over the cell limit', () => {
    const x = { axis: 'seed' as const, values: [1, 2] };
    expect(code(() => planSweep({ prompt: 'p', x, y: { axis: 'seed', values: [3] } }, 0))).toBe('INVALID_PAYLOAD');
    const sixteen = Array.from({ length: 16 }, (_, i) => i + 1);
    const big = {
      prompt: 'p',
      x: { axis: 'seed' as const, values: sixteen },
      y: { axis: 'steps' as const, values: [1, 2, 3, 4, 5] },
    };
    expect(code(() => planSweep(big, 0))).toBe('INVALID_PAYLOAD');
  });
});

function solid(size: number, rgb: readonly [number, number, number]): Promise<Uint8Array> {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set(rgb, 3 * i);
  return encodePng({ width: size, height: size, data });
}

const SAMPLING = { tokensPerStep: 4, steps: 3, cfg: 3, cfgSchedule: 'linear', order: 'random' } as const;

async function gridInput(scored: boolean): Promise<GridInput> {
  const colours = [
    [200, 0, 0],
    [0, 160, 0],
    [0, 0, 200],
    [200, 200, 0],
  ] as const;
  const cells = await Promise.all(
    colours.map(async (rgb, i) => {
      const cell: SweepCell = {
        col: i % 2,
        row: Math.floor(i / 2),
        x: [1, 16][i % 2] ?? 0,
        y: [0, 1][Math.floor(i / 2)] ?? 0,
        id: i + 1,
        file: `/tmp/${i}.png`,
        seed: Math.floor(i / 2),
        orderSeed: Math.floor(i / 2),
        sampling: { ...SAMPLING, tokensPerStep: [1, 16][i % 2] ?? 1 },
        msPerImage: 100 + i,
        pass: scored ? i % 2 === 0 : null,
      };
      return { ...cell, png: await solid(32, rgb) };
    }),
  );
  return {
    prompt: 'a red circle <&> "quoted"',
    model: 'vgt-tiny-test',
    x: { axis: 'tokensPerStep', values: [1, 16] },
    y: { axis: 'seed', values: [0, 1] },
    fixed: { ...SAMPLING, seed: null, orderSeed: null },
    cells,
    scored,
  };
}

describe('the grid PNG', () => {
  it('lays cells out in columns of x and rows of y, with room for labels, captions and the legend', async () => {
    const input = await gridInput(true);
    const layout = gridLayout(input, 32);
    expect(layout.cell).toBe(160); // small images are enlarged so their captions fit
    expect(layout.at(1, 0).left - layout.at(0, 0).left).toBe(layout.cell + layout.gap);
    expect(layout.at(0, 1).top - layout.at(0, 0).top).toBe(layout.cell + layout.caption + layout.gap);
    expect(layout.at(1, 1).left + layout.cell).toBeLessThanOrEqual(layout.width);
    expect(layout.legendTop).toBeGreaterThan(layout.at(0, 1).top + layout.cell + layout.caption - 1);
    expect(layout.height).toBeGreaterThan(layout.legendTop + 20 * layout.legend.length);
    // Large images are shown smaller rather than making a grid of many megapixels.
    expect(gridLayout(input, 1024).cell).toBe(512);
  });

  it('says in the legend what every cell shares and how to read the marks', async () => {
    const scored = legendText(await gridInput(true));
    expect(scored[0]).toContain('Sweep of tokens per step × seed on vgt-tiny-test');
    expect(scored[0]).toContain('order seed = seed');
    expect(scored[0]).toContain('steps 3');
    expect(scored[0]).not.toContain('tokens per step 4');
    expect(scored.join(' ')).toContain('✓ pass');
    expect(legendText(await gridInput(false)).join(' ')).toContain('no ShapesEval verdict');
  });

  it('draws each cell at its place and carries the sweep settings in a vgt-sweep text chunk', async () => {
    const input = await gridInput(true);
    const png = await composeSweepGrid(input, 32);
    const layout = gridLayout(input, 32);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([layout.width, layout.height]);
    const n = info.channels;
    const pixel = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * n, (y * info.width + x) * n + 3));
    for (const cell of input.cells) {
      const p = layout.at(cell.col, cell.row);
      const centre = pixel(p.left + layout.cell / 2, p.top + layout.cell / 2);
      const expected = [
        [200, 0, 0],
        [0, 160, 0],
        [0, 0, 200],
        [200, 200, 0],
      ][(cell.id ?? 1) - 1];
      expect(centre, `cell ${cell.id}`).toEqual(expected);
    }
    // Text was drawn: the caption strip under the first cell is not all white.
    const p = layout.at(0, 0);
    let inked = 0;
    for (let x = p.left; x < p.left + 100; x++) {
      for (let y = p.top + layout.cell + 4; y < p.top + layout.cell + layout.caption; y++) {
        if (pixel(x, y).some((v) => v < 200)) inked++;
      }
    }
    expect(inked).toBeGreaterThan(20);

    const meta = JSON.parse(readPngText(png, SWEEP_PNG_KEYWORD) ?? 'null') as Record<string, unknown>;
    expect(meta).toMatchObject({
      vgt: 1,
      kind: 'sweep',
      prompt: input.prompt,
      modelId: 'vgt-tiny-test',
      x: input.x,
      y: input.y,
      fixed: input.fixed,
    });
    expect(meta.cells).toEqual(
      input.cells.map((c) => ({
        col: c.col,
        row: c.row,
        x: c.x,
        y: c.y,
        id: c.id,
        seed: c.seed,
        orderSeed: c.orderSeed,
        sampling: c.sampling,
        msPerImage: c.msPerImage,
        pass: c.pass,
      })),
    );
  });
});

describe('shapesVerdict', () => {
  it('scores Shapes World prompts and says null for any other prompt', async () => {
    const white = await solid(64, [245, 245, 245]);
    expect(await shapesVerdict(white, 'a cat in a hat')).toBeNull();
    // An empty canvas has no red circle.
    expect(await shapesVerdict(white, 'a red circle')).toBe(false);
  });
});

describe('shapesVerdict on a drawn shape', () => {
  it('passes a red disc for "a red circle"', async () => {
    const size = 128;
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = (x - 64) ** 2 + (y - 64) ** 2 <= 22 ** 2;
        data.set(inside ? [220, 50, 47] : [245, 245, 245], 3 * (y * size + x));
      }
    }
    const png = await encodePng({ width: size, height: size, data });
    expect(await shapesVerdict(png, 'a red circle')).toBe(true);
    expect(await shapesVerdict(png, 'a blue square')).toBe(false);
  });
});
