// An edit's context (EditRequest.editContext, the bundle's sampling.editContext): `all` teacher-forces every kept
// token, `none` feeds the model the prompt alone. The kept cells stay kept either way: known before sampling, decoded
// from the source, counted and measured by the edit's summary, and recorded so a replay feeds the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EditContext } from '../../electron/common/contract';
import { validateBundle } from '../../electron/engine/bundle';
import { Engine, type Checkpoint, type EngineJob, type EngineOutcome } from '../../electron/engine/engine';
import { loadTables } from '../../electron/engine/model';
import { editSummary } from '../../electron/engine/outputs';
import { planJob, resolveEditContext, type JobPlan } from '../../electron/engine/plan';
import { groupSizes, initialState, type Graphs, type ModelTables } from '../../electron/engine/sampler';
import { TokenSequence } from '../../electron/engine/sequence';
import { loadBundleInfo, planReplay, planRequest, type BundleInfo } from '../../electron/core/job-planner';
import { encodePng, loadModelImage, rgbToTensor, type Rgb } from '../../electron/platform/image';
import { TINY_BUNDLE } from './golden';
import { planned } from './planned';

const SIZE = 48;
const GRID = [8, 8] as const;
const CELLS = 64;
/** Left half regenerated: columns 0–3 of the 8×8 grid; the right half (32 cells) is kept. */
const REGENERATE = Uint8Array.from({ length: CELLS }, (_, cell) => (cell % 8 < 4 ? 1 : 0));
const KEPT = Array.from({ length: CELLS }, (_, cell) => cell).filter((cell) => cell % 8 >= 4);
const grey = (value: number): Rgb => ({ width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE * 3).fill(value) });

let bundle: BundleInfo;
let tables: ModelTables;
beforeAll(async () => {
  bundle = await loadBundleInfo(TINY_BUNDLE);
  tables = await loadTables(await validateBundle(TINY_BUNDLE, { hashes: 'skip' }));
});

/** The tiny bundle's manifest with a default edit context (absent: as shipped, no field). */
function manifestWith(context?: EditContext): BundleInfo['manifest'] {
  return context
    ? { ...bundle.manifest, sampling: { ...bundle.manifest.sampling, editContext: context } }
    : bundle.manifest;
}

function planEdit(context: EditContext | undefined, modelDefault?: EditContext): JobPlan {
  return planJob(manifestWith(modelDefault), bundle.prompts, {
    prompt: 'a green square',
    sampling: { tokensPerStep: 4 },
    orderSeeds: [3],
    edit: { source: grey(245), regenerate: REGENERATE, ...(context ? { context } : {}) },
  });
}

/** The prefill's columns for a plan: only latent_in runs (zeros), so no other graph is needed. */
async function prefillLength(plan: JobPlan): Promise<number> {
  const graphs = {
    latentIn: (_z: Float32Array, _pos: Float32Array, n: number) => Promise.resolve(new Float32Array(n * tables.hidden)),
  } as unknown as Graphs;
  const sizes = groupSizes(plan.orders[0]!.length, plan.sampling.tokensPerStep);
  const sequence = new TokenSequence(graphs, tables, plan, initialState(1, CELLS, tables.dZ), sizes);
  const feed = await sequence.prefill(0);
  expect(sequence.firstGroupColumns()).toBe(feed.length);
  return feed.length;
}

describe('edit context', () => {
  it('resolves the request, then the model default, then all', () => {
    expect(resolveEditContext(manifestWith(), undefined)).toBe('all');
    expect(resolveEditContext(manifestWith('none'), undefined)).toBe('none');
    expect(resolveEditContext(manifestWith('none'), 'all')).toBe('all');
    expect(resolveEditContext(manifestWith('all'), 'none')).toBe('none');
  });

  it("plans 'none' with the same kept cells and none fed; 'all' feeds every kept cell", () => {
    const all = planEdit('all');
    const none = planEdit('none');
    expect(all.kept).toEqual(KEPT);
    expect(all.fed).toEqual(KEPT);
    expect(all.editContext).toBe('all');
    expect(none.kept).toEqual(KEPT);
    expect(none.fed).toEqual([]);
    expect(none.editContext).toBe('none');
    // The masked cells and their order do not depend on the context.
    expect(Array.from(none.orders[0]!)).toEqual(Array.from(all.orders[0]!));
    // The model's default applies when the request does not say; a generation has no context.
    expect(planEdit(undefined, 'none').fed).toEqual([]);
    expect(planEdit(undefined).fed).toEqual(KEPT);
    const generation = planJob(bundle.manifest, bundle.prompts, { prompt: 'x', sampling: {}, orderSeeds: [1] });
    expect(generation).toMatchObject({ kept: [], fed: [], editContext: null });
  });

  it("makes the prefill shorter by a q, z pair per kept cell with 'none'", async () => {
    const all = await prefillLength(planEdit('all'));
    const none = await prefillLength(planEdit('none'));
    expect(all - none).toBe(2 * KEPT.length);
  });

  it("counts the kept tokens and measures the unmasked PSNR over the real kept cells with 'none'", () => {
    const plan = planEdit('none');
    const source = grey(100);
    // The result: 10 levels off the source in the kept (right) half, black in the regenerated half.
    const result = grey(110);
    for (let y = 0; y < SIZE; y++) result.data.fill(0, y * SIZE * 3, (y * SIZE + SIZE / 2) * 3);
    const checkpoint: Checkpoint = {
      plan,
      state: initialState(1, CELLS, tables.dZ),
      seeds: [1],
      orderSeeds: [3],
      prompt: plan.prompt,
      warnings: [],
      edit: { source, kept: plan.kept.length },
    };
    const summary = editSummary(checkpoint, [result], [...GRID], SIZE);
    expect(summary).toMatchObject({ keptTokens: 32, regeneratedTokens: 32 });
    expect(summary!.unmaskedPsnr).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 6);
  });

  it('records the context an edit ran with, and a replay of the record plans the same', async () => {
    const edit = {
      source: new Uint8Array(0),
      pixels: grey(245),
      regenerate: REGENERATE,
      keepPixels: true,
      sourceId: null,
    };
    const planned = (editContext?: EditContext, info: BundleInfo = bundle) =>
      planRequest(info, {
        kind: 'edit',
        request: { prompt: 'a green square', seed: 5, tokensPerStep: 4 },
        modelId: 'tiny',
        count: 1,
        edit: { ...edit, ...(editContext ? { editContext } : {}) },
        fork: null,
      });
    const none = planned('none');
    expect(none.params[0]!.extra).toMatchObject({ editContext: 'none' });
    expect(none.plan.fed).toEqual([]);
    // `all` (and every record before the option) records nothing: absent means every kept token.
    expect(planned('all').params[0]!.extra).not.toHaveProperty('editContext');
    // A model whose default is `none` records it too, so the record does not depend on the model's default later.
    const shapesLike = { ...bundle, manifest: manifestWith('none') };
    expect(planned(undefined, shapesLike).params[0]!.extra).toMatchObject({ editContext: 'none' });
    // The replay (a queued edit adopted from the library) reads the record as job-execution does.
    const replay = planReplay(bundle, none.params, { ...edit, editContext: 'none' });
    expect(replay.fed).toEqual([]);
    expect(replay.kept).toEqual(KEPT);
    expect(Array.from(replay.orders[0]!)).toEqual(Array.from(none.plan.orders[0]!));
  });

  describe('on the engine (tiny bundle)', () => {
    const engine = new Engine({ threads: 1 });
    afterAll(() => engine.dispose());
    let jobs = 0;
    let image: Uint8Array;
    beforeAll(async () => {
      // A source with something in its kept half, so the context is not blank.
      const source = grey(200);
      for (let y = 8; y < 40; y++) source.data.fill(30, (y * SIZE + 28) * 3, (y * SIZE + 44) * 3);
      image = await encodePng(source);
    });
    const editJob = (context: EditContext, checkpoint?: Checkpoint): Promise<EngineJob> =>
      planned({
        jobId: `context-${++jobs}`,
        kind: 'edit',
        bundleDir: TINY_BUNDLE,
        modelId: 'tiny',
        prompt: 'a green triangle',
        sampling: { tokensPerStep: 2, steps: 3 },
        seeds: [4],
        orderSeeds: [6],
        previews: false,
        edit: { image, regenerate: REGENERATE, context },
        ...(checkpoint ? { checkpoint } : {}),
      });
    const done = async (j: Promise<EngineJob>): Promise<EngineOutcome & { status: 'done' }> => {
      const outcome = await engine.run(await j, () => undefined);
      if (outcome.status !== 'done') throw new Error(`expected done, got ${outcome.status}`);
      return outcome;
    };

    it("keeps the source's kept latents, changes what is sampled, and resumes to the uninterrupted result", async () => {
      const all = await done(editJob('all'));
      const none = await done(editJob('none'));
      expect(none.edit).toMatchObject({ keptTokens: 32, regeneratedTokens: 32 });
      expect(Buffer.from(none.images[0]!.png).equals(Buffer.from(all.images[0]!.png))).toBe(false);
      // The timeline still starts with every kept cell, then the sampled ones.
      expect(Array.from(none.images[0]!.timeline!.order.subarray(0, 32))).toEqual(KEPT);

      const j = await editJob('none');
      const cancelled = await engine.run(j, (p) => p.status === 'group' && p.group === 5 && engine.cancel(j.jobId));
      if (cancelled.status !== 'cancelled') throw new Error('expected a cancel');
      const { plan, state } = cancelled.checkpoint;
      expect(plan.fed).toEqual([]);
      expect(plan.kept).toEqual(KEPT);
      const model = await engine.model(TINY_BUNDLE);
      const z = await model.graphs.encode!(rgbToTensor(await loadModelImage(image, SIZE)), 1);
      for (const cell of KEPT) {
        expect(state.known[cell]).toBe(1);
        for (let c = 0; c < tables.dZ; c++) expect(state.latents[0]![cell * tables.dZ + c]).toBe(z[c * CELLS + cell]);
      }
      const resumed = await done(editJob('none', cancelled.checkpoint));
      expect(Buffer.from(resumed.images[0]!.png).equals(Buffer.from(none.images[0]!.png))).toBe(true);
    });
  });
});
