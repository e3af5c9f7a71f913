import { describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../electron/core/dispatch';
import { StudioError } from '../../electron/common/errors';
import type { Doctor } from '../../electron/common/contract';

const doctor: Doctor = {
  app: { name: 'VGT Studio', version: '0.0.0' },
  mode: 'cli',
  node: '20',
  electron: null,
  platform: 'linux',
  arch: 'x64',
  onnxruntime: {
    version: '1',
    providers: [{ id: 'cpu', bundled: true, available: true }],
    preferred: 'cpu',
    preference: null,
  },
  capabilities: { revealFile: false, chooseLocation: false, downloads: false },
  dataDir: '/tmp/x',
  freeDiskBytes: 1,
  model: null,
};

function handlers(impl: Handlers['doctor']): Handlers {
  // Only doctor is exercised; the other areas' calls are not needed by these tests.
  return { doctor: impl } as Partial<Handlers> as Handlers;
}

describe('dispatch', () => {
  it('answers a valid call with the handler’s value', async () => {
    expect(
      await dispatch(
        handlers(() => doctor),
        'doctor',
        {},
      ),
    ).toEqual({ ok: true, value: doctor });
  });

  it('refuses unknown calls, including inherited property names', async () => {
    for (const name of ['nope', 'toString', '__proto__', 'constructor', 42, null]) {
      const result = await dispatch(
        handlers(() => doctor),
        name,
        {},
      );
      expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
    }
  });

  it('refuses payloads that break the schema without calling the handler', async () => {
    let called = false;
    const impl = () => {
      called = true;
      return doctor;
    };
    for (const payload of [null, 'x', [], { extra: 1 }, JSON.parse('{"__proto__": {"polluted": true}}')]) {
      const result = await dispatch(handlers(impl), 'doctor', payload);
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } });
    }
    expect(called).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes catalogued errors through and hides nothing else but the message', async () => {
    const typed = await dispatch(
      handlers(() => {
        throw new StudioError('MODEL_NOT_FOUND', 'No model "x".');
      }),
      'doctor',
      {},
    );
    expect(typed).toEqual({ ok: false, error: { code: 'MODEL_NOT_FOUND', message: 'No model "x".' } });
    const untyped = await dispatch(
      handlers(() => {
        throw new TypeError('boom');
      }),
      'doctor',
      {},
    );
    expect(untyped).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'boom' } });
  });

  it('reports a handler answer that breaks the contract as INTERNAL', async () => {
    const result = await dispatch(
      handlers(() => ({ ...doctor, mode: 'toaster' }) as unknown as Doctor),
      'doctor',
      {},
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});
