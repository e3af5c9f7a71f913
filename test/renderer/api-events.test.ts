// Events are parsed with their contract schemas on the way in: a malformed one is dropped and reported once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PreloadBridge, StudioEvent } from '../../electron/common/contract';
import { createEventParser } from '../../renderer/src/lib/api/events';
import { createHttpApi } from '../../renderer/src/lib/api/http';
import { createPreloadApi } from '../../renderer/src/lib/api/preload';

const good = { type: 'notice', data: { level: 'warning', message: 'CUDA is not available; using the CPU.' } };
const badLevel = { type: 'notice', data: { level: 'shout', message: 'hi' } };
const badQueue = { type: 'queue.changed', data: { id: 'not-a-number', status: 'queued' } };

function fakeBridge() {
  let emit: (event: unknown) => void = () => {};
  const bridge: PreloadBridge = {
    call: () => Promise.reject(new Error('not used')),
    subscribe: (listener) => {
      emit = listener;
      return () => {};
    },
  };
  return { bridge, emit: (event: unknown) => emit(event) };
}

describe('event parsing', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('passes a good event through, with its parsed data', () => {
    const parse = createEventParser(() => {});
    expect(parse(good)).toEqual(good);
    expect(parse({ type: 'library.changed', data: { change: 'added', ids: [3, 4] } })).toEqual({
      type: 'library.changed',
      data: { change: 'added', ids: [3, 4] },
    });
  });

  it('drops malformed and unknown events and reports each kind once', () => {
    const reports: string[] = [];
    const parse = createEventParser((message) => reports.push(message));
    expect(parse(badLevel)).toBeNull();
    expect(parse(badLevel)).toBeNull();
    expect(parse(badQueue)).toBeNull();
    expect(parse({ type: 'nope', data: {} })).toBeNull();
    expect(parse(null)).toBeNull();
    expect(parse('notice')).toBeNull();
    expect(reports).toEqual([
      'Dropped a malformed "notice" event.',
      'Dropped a malformed "queue.changed" event.',
      'Dropped a studio event of unknown type "nope".',
      'Dropped a malformed studio event (not an object).',
    ]);
  });

  it('the preload client hands listeners only events that match the contract', () => {
    const { bridge, emit } = fakeBridge();
    const reports: string[] = [];
    const api = createPreloadApi(
      bridge,
      createEventParser((message) => reports.push(message)),
    );
    const seen: StudioEvent[] = [];
    api.subscribe((event) => seen.push(event));
    emit(badLevel);
    emit(good);
    emit(badQueue);
    expect(seen).toEqual([good]);
    expect(reports).toHaveLength(2);
  });

  it('the web client parses server-sent events the same way', () => {
    const sources: { onmessage: ((message: { data: string }) => void) | null }[] = [];
    vi.stubGlobal(
      'EventSource',
      class {
        onmessage: ((message: { data: string }) => void) | null = null;
        constructor() {
          sources.push(this);
        }
        close() {}
      },
    );
    const reports: string[] = [];
    const api = createHttpApi({
      baseUrl: 'http://127.0.0.1:1/api/',
      token: 't',
      reportEvent: (message) => reports.push(message),
    });
    const seen: StudioEvent[] = [];
    api.subscribe((event) => seen.push(event));
    const send = (data: string) => sources[0]!.onmessage!({ data });
    send(JSON.stringify(badLevel));
    send('{not json');
    send(JSON.stringify(good));
    expect(seen).toEqual([good]);
    expect(reports).toEqual([
      'Dropped a malformed "notice" event.',
      'Dropped a malformed studio event (not an object).',
    ]);
  });
});
