// Contract fuzz through main's IPC entry (answerIpcCall → dispatch, the validation every transport shares):
// 10,000 seeded random and malformed payloads for every call in `calls`, so calls added later are fuzzed too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_NAMES, calls } from '../../electron/common/contract';
import { answerIpcCall } from '../../electron/main/ipc';
import { SEED, mulberry32, openFuzzWorld, payloadGenerator, type FuzzWorld } from './fuzz';

const PER_CALL = 10_000;

describe('contract fuzz through IPC', () => {
  let world: FuzzWorld;

  beforeAll(async () => {
    world = await openFuzzWorld();
  });

  afterAll(async () => {
    await world.verifyAndClose();
    console.log(`IPC fuzz over ${CALL_NAMES.length} calls:`, JSON.stringify(world.tally));
  });

  it(`answers ${PER_CALL} payloads per call with typed errors`, { timeout: 300_000 }, async () => {
    // Structured clone carries more than JSON: BigInt, Date, Map, typed arrays, NaN, undefined.
    const next = payloadGenerator(mulberry32(SEED), world.outside, world.home, false);
    const frame = { url: 'app://studio/index.html', parent: null };
    for (const name of CALL_NAMES) {
      for (let i = 0; i < PER_CALL; i++) {
        const payload = next(calls[name].request);
        world.check(name, payload, await answerIpcCall(world.studio, frame, name, payload));
      }
    }
    expect(world.failures.slice(0, 20)).toEqual([]);
    expect(world.tally.sent).toBe(PER_CALL * CALL_NAMES.length);
  });
});
