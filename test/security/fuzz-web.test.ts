// Contract fuzz through the web server over real HTTP: seeded random and malformed JSON bodies for every call in
// `calls`, each answered with a typed error and the matching status. 10,000 per call, as the IPC file: measured at
// about 4 minutes on two shared cores (390,000 bodies over 39 calls); VGT_FUZZ_WEB_PER_CALL=500 gives a quick run.
// What differs from the IPC file is the HTTP layer: body parsing, limits, status codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_NAMES, LIMITS, calls } from '../../electron/common/contract';
import { SEED, mulberry32, openFuzzWorld, payloadGenerator, pipelined, type FuzzWorld } from './fuzz';

const PER_CALL = Number(process.env.VGT_FUZZ_WEB_PER_CALL ?? 10_000);

describe('contract fuzz through the web server', () => {
  let world: FuzzWorld;

  beforeAll(async () => {
    world = await openFuzzWorld();
  });

  afterAll(async () => {
    await world.verifyAndClose();
    console.log(`web fuzz over ${CALL_NAMES.length} calls:`, JSON.stringify(world.tally));
  });

  it(
    `answers ${PER_CALL} bodies per call with typed errors and matching statuses`,
    { timeout: 1_200_000 },
    async () => {
      const next = payloadGenerator(mulberry32(SEED + 1), world.outside, world.home, true);
      for (const name of CALL_NAMES) {
        const bodies = Array.from({ length: PER_CALL }, () => JSON.stringify(next(calls[name].request)) ?? '');
        const replies = await pipelined(world.server, name, bodies);
        replies.forEach((reply, i) => {
          const body = bodies[i]!;
          const answer = JSON.parse(reply.body) as { error?: { code: string; message: string } };
          const error = answer.error;
          if (Buffer.byteLength(body) > LIMITS.maxBodyBytes) {
            world.tally.sent += 1;
            world.tally.codes.PAYLOAD_TOO_LARGE = (world.tally.codes.PAYLOAD_TOO_LARGE ?? 0) + 1;
            if (reply.status !== 413 || error?.code !== 'PAYLOAD_TOO_LARGE') {
              world.failures.push(`${name}: an oversized body got ${reply.status}`);
            }
            return;
          }
          const payload = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
          world.check(name, payload, error ? { ok: false, error } : { ok: true, value: answer });
          if ((reply.status === 200) !== (error === undefined)) world.failures.push(`${name}: status ${reply.status}`);
        });
      }
      expect(world.failures.slice(0, 20)).toEqual([]);
      expect(world.tally.sent).toBe(PER_CALL * CALL_NAMES.length);
    },
  );
});
