// Events cross from the host as untrusted JSON: each is parsed with its contract schema before any view sees it.
// A malformed one is dropped and reported once per event type, so a bad host build cannot flood the console or
// throw inside a view's listener.
import { events, type EventName, type StudioEvent } from '../../../../electron/common/contract';

export type EventReporter = (message: string, detail?: unknown) => void;

/** Returns a parser that answers a typed event, or null for anything that does not match its schema. */
export function createEventParser(report: EventReporter = (message, detail) => console.warn(message, detail)) {
  const reported = new Set<string>();
  function drop(key: string, message: string, detail?: unknown): null {
    if (!reported.has(key)) {
      reported.add(key);
      report(message, detail);
    }
    return null;
  }
  return (raw: unknown): StudioEvent | null => {
    if (typeof raw !== 'object' || raw === null) return drop('', 'Dropped a malformed studio event (not an object).');
    const type = (raw as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(events, type)) {
      return drop(`type:${String(type)}`, `Dropped a studio event of unknown type ${JSON.stringify(type)}.`);
    }
    const parsed = events[type as EventName].safeParse((raw as { data?: unknown }).data);
    if (!parsed.success) return drop(type, `Dropped a malformed "${type}" event.`, parsed.error.issues);
    return { type, data: parsed.data } as StudioEvent;
  };
}
