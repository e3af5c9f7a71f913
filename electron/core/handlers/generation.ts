import { StudioError } from '../../common/errors';
import type { Handlers } from '../dispatch';
import type { Services } from '../services';

type GenerationCall =
  | 'generation.generate'
  | 'generation.edit'
  | 'generation.cancel'
  | 'generation.resume'
  | 'generation.decodePartial'
  | 'generation.jobs'
  | 'generation.reconstruct'
  | 'generation.eval'
  | 'generation.engine';

// The engine lands in the next commits; until then every call answers a typed error so the contract can be used.
export function generationHandlers(_services: Services): Pick<Handlers, GenerationCall> {
  const pending = (): never => {
    throw new StudioError('INTERNAL', 'The generation engine is not wired in yet.');
  };
  return {
    'generation.generate': pending,
    'generation.edit': pending,
    'generation.cancel': pending,
    'generation.resume': pending,
    'generation.decodePartial': pending,
    'generation.jobs': () => ({ jobs: [] }),
    'generation.reconstruct': pending,
    'generation.eval': pending,
    'generation.engine': () => ({ ep: null, model: null, fallbacks: [], busy: false }),
  };
}
