import type { PreloadBridge, StudioApi } from '../../../../electron/common/contract';
import { createEventParser } from './events';
import { unwrap } from './result';

export function createPreloadApi(bridge: PreloadBridge, parseEvent = createEventParser()): StudioApi {
  return {
    call: async (name, request) => unwrap(await bridge.call(name, request)),
    subscribe: (listener) =>
      bridge.subscribe((raw) => {
        const event = parseEvent(raw);
        if (event) listener(event);
      }),
  };
}
