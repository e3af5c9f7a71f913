// A batch that ran out of memory: the same images one at a time, each resumed from what the batch had committed,
// their outcomes joined as one (with a warning saying why it took longer).
import { StudioError } from '../common/errors';
import type { Checkpoint, EngineJob, EngineOutcome, EngineProgress } from './engine';
import { sumGraphTime } from './graphs';

type Run = (job: EngineJob, onProgress: (progress: EngineProgress) => void) => Promise<EngineOutcome>;

export async function oneAtATime(
  job: EngineJob,
  checkpoint: Checkpoint,
  onProgress: (progress: EngineProgress) => void,
  run: Run,
): Promise<EngineOutcome> {
  const { plan, state } = checkpoint;
  const warning = `The ${plan.orders.length} images did not fit in memory together, so they were made one at a time.`;
  const outcomes: Array<Extract<EngineOutcome, { status: 'done' }>> = [];
  for (let b = 0; b < plan.orders.length; b++) {
    const single: Checkpoint = {
      ...checkpoint,
      plan: { ...plan, orders: [plan.orders[b] ?? new Int32Array(0)] },
      state: {
        committedGroups: state.committedGroups,
        latents: state.latents.slice(b, b + 1),
        known: state.known.slice(),
      },
      seeds: checkpoint.seeds.slice(b, b + 1),
      orderSeeds: checkpoint.orderSeeds.slice(b, b + 1),
    };
    const outcome = await run(
      { ...job, seeds: single.seeds, orderSeeds: single.orderSeeds, checkpoint: single },
      onProgress,
    );
    if (outcome.status === 'cancelled') return outcome;
    outcomes.push(outcome);
  }
  const [first] = outcomes;
  if (!first) throw new StudioError('INTERNAL', 'No image was generated.');
  return {
    ...first,
    images: outcomes.flatMap((o) => o.images),
    seconds: outcomes.reduce((sum, o) => sum + o.seconds, 0),
    graphTime: sumGraphTime(outcomes.map((o) => o.graphTime)),
    warnings: [...first.warnings, warning],
  };
}
