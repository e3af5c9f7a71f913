import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBundle } from '../../electron/engine/bundle';
import { loadModel, type LoadedModel } from '../../electron/engine/model';
import {
  initialState,
  latentsToGrid,
  sample,
  sdeTimesteps,
  type Graphs,
  type GroupTrace,
} from '../../electron/engine/sampler';
import { TINY_BUNDLE, golden, goldenNoise, goldenTensor, maxAbsDiff } from './golden';

let model: LoadedModel;

beforeAll(async () => {
  model = await loadModel(await validateBundle(TINY_BUNDLE), 'cpu', { threads: 1 });
});
afterAll(() => model?.graphs.release());

describe('tokenizer and template', () => {
  it('gives the reference ids for the golden prompt and the unconditional prompt', () => {
    const encoded = model.prompts.encode(`  ${golden.prompt}\n`);
    expect(encoded.cond).toEqual(golden.tokenIds.cond);
    expect(encoded.uncond).toEqual(golden.tokenIds.uncond);
    expect(model.tables.imgTokenIds).toEqual(golden.tokenIds.img);
  });
});

// Both head paths: the fused head_sde graph (the default when the bundle has it) and head_velocity step by step; both
// pad masks (BUNDLE.md "Padding"): the tiny bundle's `always`, and `prefill` (the reference's, official conversions);
// both image position schemes ("Image positions"): `sequence` and `grid`.
describe.each([
  ['k1', 'head_sde'],
  ['k4', 'head_sde'],
  ['k1', 'stepwise'],
  ['k4', 'stepwise'],
  ['k1-prefill', 'head_sde'],
  ['k4-prefill', 'stepwise'],
  ['k1-grid', 'head_sde'],
  ['k4-grid', 'stepwise'],
])('parity with the PyTorch sampler (%s, %s)', (name, head) => {
  const c = golden.cases[name]!;
  const traces: Array<GroupTrace> = [];
  let latents: Float32Array;
  let image: Float32Array;

  beforeAll(async () => {
    const state = initialState(1, 64, model.tables.dZ);
    const g = model.graphs;
    expect(g.sdeSteps).toBe(c.settings.steps);
    const graphs: Graphs =
      head === 'head_sde'
        ? g
        : {
            lmStep: (input) => g.lmStep(input),
            latentIn: (z, pos, n) => g.latentIn(z, pos, n),
            headCond: (hidden, n) => g.headCond(hidden, n),
            headVelocity: (x, t, cond, n) => g.headVelocity(x, t, cond, n),
            decode: (z, batch, grid) => g.decode(z, batch, grid),
            encode: g.encode,
          };
    expect(model.tables.padMask).toBe('always');
    expect(model.tables.imagePositions).toBe('sequence');
    await sample(
      graphs,
      { ...model.tables, padMask: c.padMask, imagePositions: c.imagePositions },
      {
        sampling: c.settings,
        cond: golden.tokenIds.cond,
        uncond: golden.tokenIds.uncond,
        kept: [],
        fed: [],
        orders: [Int32Array.from(c.order)],
      },
      state,
      goldenNoise(c),
      { trace: (t) => traces.push(t) },
    );
    latents = latentsToGrid(state.latents, model.tables.dZ, 64);
    image = await model.graphs.decode(latents, 1, [8, 8]);
  });

  it('uses the reference time grid', () => {
    expect(Array.from(sdeTimesteps(c.settings.steps))).toEqual(c.ts);
  });

  it('matches hidden states, head conditions, velocities and group latents within 1e-4', () => {
    expect(traces.length).toBe(c.groupSizes.length);
    const concat = (pick: (t: GroupTrace) => ReadonlyArray<Float32Array> | Float32Array): Float32Array =>
      Float32Array.from(
        traces.flatMap((t) => {
          const v = pick(t);
          return v instanceof Float32Array ? Array.from(v) : v.flatMap((x) => Array.from(x));
        }),
      );
    const stages: Array<[keyof typeof c.files, (t: GroupTrace) => ReadonlyArray<Float32Array> | Float32Array]> = [
      ['hidden', (t) => t.hidden],
      ['cond', (t) => t.cond],
      ['velocity', (t) => t.velocities],
      ['group_latents', (t) => t.z],
    ];
    for (const [file, pick] of stages) {
      expect(maxAbsDiff(concat(pick), goldenTensor(c.files[file]!)), file).toBeLessThan(1e-4);
    }
  });

  it('matches the latent grid and the decoded image within 1e-4', () => {
    expect(maxAbsDiff(latents, goldenTensor(c.files.latents!))).toBeLessThan(1e-4);
    expect(maxAbsDiff(image, goldenTensor(c.files.image!))).toBeLessThan(1e-4);
  });
});

// A resume replays the committed groups in one prefill: at their cells under grid positions, and in two calls under
// the reference pad mask (pads masked for group 0, visible after). Either way it reaches the uninterrupted result.
describe.each(['k4-grid', 'k4-prefill'])('a resume (%s)', (name) => {
  it('replays the committed groups to the uninterrupted result', async () => {
    const c = golden.cases[name]!;
    const tables = { ...model.tables, padMask: c.padMask, imagePositions: c.imagePositions };
    const plan = {
      sampling: c.settings,
      cond: golden.tokenIds.cond,
      uncond: golden.tokenIds.uncond,
      kept: [],
      fed: [],
      orders: [Int32Array.from(c.order)],
    };
    const state = initialState(1, 64, model.tables.dZ);
    let groups = 0;
    const stopped = sample(model.graphs, tables, plan, state, goldenNoise(c), {
      onGroup: () => void groups++,
      shouldStop: () => groups >= 5,
    });
    await expect(stopped).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(state.committedGroups).toBe(5);
    await sample(model.graphs, tables, plan, state, goldenNoise(c));
    const latents = latentsToGrid(state.latents, model.tables.dZ, 64);
    expect(maxAbsDiff(latents, goldenTensor(c.files.latents!))).toBeLessThan(1e-4);
  });
});

describe('autoencoder parity', () => {
  it('encodes the golden image to the reference latents within 1e-4', async () => {
    const z = await model.graphs.encode!(goldenTensor(golden.ae.files.encode_input!), 1);
    expect(maxAbsDiff(z, goldenTensor(golden.ae.files.encode_z!))).toBeLessThan(1e-4);
  });
});

// 2-D RoPE (`grid2d`): the tiny bundle's lm_step takes 1-D positions, so this case has PyTorch's position ids only
// (the grid2d graph itself is checked against PyTorch in native-models' tests). The engine must feed the same pairs,
// in every call: the graphs run on each pair's first number, which keeps the sampler going.
describe('2-D RoPE positions (k4-grid2d)', () => {
  it('feeds the position pairs the PyTorch sampler feeds, call by call', async () => {
    const c = golden.cases['k4-grid2d']!;
    const fed: Array<Array<number>> = [];
    const g = model.graphs;
    const graphs: Graphs = {
      lmStep: (input) => {
        fed.push(Array.from(input.positions, Number));
        return g.lmStep({ ...input, positions: input.positions.filter((_, i) => i % 2 === 0) });
      },
      latentIn: (z, pos, n) => g.latentIn(z, pos, n),
      headCond: (hidden, n) => g.headCond(hidden, n),
      headVelocity: (x, t, cond, n) => g.headVelocity(x, t, cond, n),
      decode: (z, batch, grid) => g.decode(z, batch, grid),
      encode: g.encode,
    };
    await sample(
      graphs,
      { ...model.tables, padMask: c.padMask, imagePositions: 'grid2d' },
      {
        sampling: c.settings,
        cond: golden.tokenIds.cond,
        uncond: golden.tokenIds.uncond,
        kept: [],
        fed: [],
        orders: [Int32Array.from(c.order)],
      },
      initialState(1, 64, model.tables.dZ),
      goldenNoise({ ...c, files: golden.cases['k4-grid']!.files }),
    );
    expect(fed.length).toBe(c.groups.length);
    expect(fed).toEqual(c.groups.map((group) => group.positionIds.flat(2)));
  });
});
