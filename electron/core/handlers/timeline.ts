// Timeline calls: forks go to the generation runner; timelines and their frames come from the library, frames
// decoded by the engine and cached.
import type { Handlers } from '../dispatch';
import { FrameCache, frameLatents, timelineInfo } from '../fork';
import type { Services } from '../services';
import { readManifest } from '../../engine/bundle';

type TimelineCalls = 'timeline.fork' | 'timeline.get' | 'timeline.frame';

export function timelineHandlers(services: Services): Pick<Handlers, TimelineCalls> {
  const frames = new FrameCache();
  const gridOf = async (modelId: string): Promise<readonly [number, number]> => {
    const model = await services.models.resolve(modelId);
    return (await readManifest(model.path)).image.grid;
  };
  return {
    'timeline.fork': (request) => services.runner.fork(request),
    'timeline.get': async ({ id }) => {
      const library = await services.library.get();
      const record = await library.get(id);
      // The grid comes from the model, asked only for an image that has a timeline: an imported one (whose model may
      // not be installed here) answers null, "no timeline", not MODEL_NOT_FOUND. A missing image is NOT_FOUND.
      return timelineInfo(library, id, () => gridOf(record.params.modelId));
    },
    'timeline.frame': async ({ id, group }) => {
      const library = await services.library.get();
      const record = await library.get(id);
      // A generation's timeline never changes once written, so (id, group) names a frame for good.
      return frames.get(`${id}:${group}`, async () =>
        services.runner.decodeLatents(record.params.modelId, await frameLatents(library, id, group)),
      );
    },
  };
}
