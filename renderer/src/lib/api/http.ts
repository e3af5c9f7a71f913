// Web-mode transport: POST /api/<call> with the per-start token, events over server-sent events.
import type { CallResult, StudioApi, StudioEvent } from '../../../../electron/common/contract';
import { createEventParser, type EventReporter } from './events';
import { unwrap } from './result';

export type HttpApiOptions = Readonly<{
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  /** Where dropped (malformed) events are reported; the console by default. */
  reportEvent?: EventReporter;
}>;

export function createHttpApi(options: HttpApiOptions): StudioApi {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const listeners = new Set<(event: StudioEvent) => void>();
  let source: EventSource | null = null;
  const parseEvent = createEventParser(options.reportEvent);

  function ensureStream(): void {
    if (source || typeof EventSource === 'undefined') return;
    const url = new URL('events', options.baseUrl);
    url.searchParams.set('token', options.token);
    source = new EventSource(url);
    source.onmessage = (message: MessageEvent<string>) => {
      let raw: unknown;
      try {
        raw = JSON.parse(message.data);
      } catch {
        raw = undefined;
      }
      const event = parseEvent(raw);
      if (!event) return;
      for (const listener of listeners) listener(event);
    };
  }

  return {
    async call(name, request) {
      let result: CallResult<unknown>;
      try {
        const response = await doFetch(new URL(encodeURIComponent(name), options.baseUrl), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-VGT-Token': options.token },
          body: JSON.stringify(request),
        });
        const body = (await response.json()) as unknown;
        result = response.ok
          ? { ok: true, value: body }
          : { ok: false, error: (body as { error: { code: string; message: string } }).error };
      } catch (error) {
        result = {
          ok: false,
          error: { code: 'INTERNAL', message: `The studio did not answer: ${(error as Error).message}` },
        };
      }
      return unwrap(result);
    },
    subscribe(listener) {
      listeners.add(listener);
      ensureStream();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}
