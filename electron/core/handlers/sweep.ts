// Sweep calls: thin adapters from the contract to the sweep planner (core/sweep.ts).
import type { Handlers } from '../dispatch';
import type { Services } from '../services';
import { sweepsOf } from '../sweep';

type SweepCalls = Extract<keyof Handlers, `sweep.${string}`>;

export function sweepHandlers(services: Services): Pick<Handlers, SweepCalls> {
  return {
    'sweep.start': (request) => sweepsOf(services).start(request),
    'sweep.cancel': ({ sweepId }) => sweepsOf(services).cancel(sweepId),
    'sweep.grid': ({ sweepId }) => sweepsOf(services).grid(sweepId),
  };
}
