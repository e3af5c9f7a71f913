import type { PreloadBridge, StudioApi, StudioEvent } from '../../../../electron/common/contract';
import { unwrap } from './result';

export function createPreloadApi(bridge: PreloadBridge): StudioApi {
  return {
    call: async (name, request) => unwrap(await bridge.call(name, request)),
    subscribe: (listener) => bridge.subscribe((event) => listener(event as StudioEvent)),
  };
}
