// The one IPC entry point: only our own top frame may call, and every call goes through the typed dispatch.
import type { CallResult } from '../common/contract';
import { StudioError } from '../common/errors';
import type { Studio } from '../core/studio';
import { isTrustedSenderUrl } from './security';

/** What main knows about the frame that sent a call (Electron's WebFrameMain, or null once it is gone). */
export type SenderFrame = Readonly<{ url: string; parent: unknown }> | null;

export function answerIpcCall(
  studio: Pick<Studio, 'handle'>,
  frame: SenderFrame,
  name: unknown,
  payload: unknown,
  devServerUrl?: string,
): Promise<CallResult<unknown>> {
  if (!frame || frame.parent !== null || !isTrustedSenderUrl(frame.url, devServerUrl)) {
    return Promise.resolve({ ok: false, error: new StudioError('FORBIDDEN').toPayload() });
  }
  return studio.handle(name, payload);
}
