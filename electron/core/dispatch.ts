// Validates and runs one call of the contract. Electron IPC, web mode and tests all come through here,
// so every transport gives the same answers to the same (good or bad) payloads.
import type { z } from 'zod';
import { calls, isCallName, type CallName, type CallResponse, type CallResult } from '../common/contract';
import { describeIssues, StudioError, toErrorPayload } from '../common/errors';

export type CallContext = Readonly<{ signal?: AbortSignal }>;

export type Handlers = {
  [N in CallName]: (
    request: z.output<(typeof calls)[N]['request']>,
    context: CallContext,
  ) => Promise<CallResponse<N>> | CallResponse<N>;
};

export async function dispatch(
  handlers: Handlers,
  name: unknown,
  payload: unknown,
  context: CallContext = {},
): Promise<CallResult<unknown>> {
  try {
    if (!isCallName(name)) {
      throw new StudioError(
        'UNKNOWN_CALL',
        `No call named ${JSON.stringify(String(name).slice(0, 64))} in the studio API.`,
      );
    }
    const spec = calls[name];
    const parsed = spec.request.safeParse(payload);
    if (!parsed.success) {
      throw new StudioError('INVALID_PAYLOAD', `Invalid request for ${name}: ${describeIssues(parsed.error)}`);
    }
    const handler = handlers[name] as (request: unknown, context: CallContext) => unknown;
    const value = await handler(parsed.data, context);
    // Answers are checked too: a handler that drifts from the contract is a bug we want to see, not ship.
    const checked = spec.response.safeParse(value);
    if (!checked.success) {
      throw new StudioError('INTERNAL', `The ${name} answer broke the contract: ${describeIssues(checked.error)}`);
    }
    return { ok: true, value: checked.data };
  } catch (error) {
    return { ok: false, error: toErrorPayload(error) };
  }
}
