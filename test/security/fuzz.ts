// Shared by the two fuzz files (IPC entry, web server; separate files so they run on both cores at once):
// a seeded generator of random and malformed payloads (wrong types, huge strings, deep nesting, prototype-pollution
// keys, path and URL tricks), a studio in a watched temp folder, and the checks every answer must pass.
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect, vi } from 'vitest';
import { z } from 'zod';
import { calls, type CallName, type CallResult } from '../../electron/common/contract';
import { isErrorCode } from '../../electron/common/errors';
import { createStudio, type Studio } from '../../electron/core/studio';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { tempDir } from '../models/helpers';

export const SEED = 0x5eed_2026;

type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, items: ReadonlyArray<T>): T => items[Math.floor(r() * items.length)]!;

export function payloadGenerator(r: Rng, outside: string, home: string, jsonOnly: boolean) {
  const strings = [
    '',
    ' ',
    '\0',
    'a\0b',
    '../../../../etc/passwd',
    '..\\..\\..\\Windows\\win.ini',
    '/etc/passwd',
    'C:\\Windows\\win.ini',
    '\\\\server\\share',
    '%2e%2e%2f%2e%2e%2f',
    '..%252f..%252f',
    outside,
    path.join(outside, 'canary.txt'),
    path.join(home, '..'),
    home,
    '__proto__',
    'constructor',
    'prototype',
    'http://127.0.0.1:1/vgt-bundle.json',
    'https://updates.invalid/vgt-bundle.json',
    'hf:owner/repo',
    'file:///etc/passwd',
    'javascript:alert(1)',
    '<img src=x onerror=alert(1)>',
    "'; DROP TABLE generations; --",
    '"a" OR 1=1',
    '\u202eevil',
    '\ud800',
    '🦄'.repeat(50),
    '0'.repeat(64),
    'A'.repeat(100),
    'vgt-tiny-test',
    'true',
    '1e309',
  ];
  const numbers = [0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, Number.EPSILON];
  const keys = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'then', 'a', ''];

  function string(): string {
    const roll = r();
    if (roll < 0.002) return 'x'.repeat(1024 * 1024 + Math.floor(r() * 1024));
    if (roll < 0.012) return pick(r, strings).repeat(100 + Math.floor(r() * 2000));
    if (roll < 0.15)
      return Array.from({ length: Math.floor(r() * 40) }, () => String.fromCharCode(r() * 0xffff)).join('');
    return pick(r, strings);
  }

  function deep(depth: number): unknown {
    let value: unknown = string();
    for (let i = 0; i < depth; i++) value = r() < 0.5 ? [value] : { a: value };
    return value;
  }

  function pollution(): unknown {
    return pick(r, [
      () => JSON.parse('{"__proto__": {"polluted": true}}'),
      () => JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
      () => JSON.parse('{"a": {"__proto__": {"polluted": true}}, "__proto__": []}'),
      () => Object.assign(Object.create(null) as object, { polluted: true }),
      () => ({ toString: 'x', valueOf: 1, then: 'not a function' }),
    ])();
  }

  function value(depth = 0): unknown {
    const roll = r();
    if (roll < 0.12) return pick(r, jsonOnly ? [null, true, false] : [null, undefined, true, false]);
    if (roll < 0.24) return jsonOnly ? pick(r, numbers) : pick(r, [...numbers, NaN, Infinity, -Infinity]);
    if (roll < 0.55) return string();
    if (roll < 0.6 && !jsonOnly) return pick(r, [10n, new Date(0), new Map([[1, 2]]), new Uint8Array(4), /x/]);
    if (roll < 0.61) return deep(200 + Math.floor(r() * 1300));
    if (roll < 0.7) return pollution();
    if (depth > 3) return string();
    if (roll < 0.85) return Array.from({ length: Math.floor(r() * 6) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = Math.floor(r() * 5); i > 0; i--) {
      Object.defineProperty(object, r() < 0.3 ? pick(r, keys) : string().slice(0, 64), {
        value: value(depth + 1),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
    return object;
  }

  // Building hostile values costs more than answering them: payloads are assembled from a seeded pool instead.
  const pool = Array.from({ length: 4096 }, () => value());
  const pooled = () => pool[Math.floor(r() * pool.length)];

  /** Objects with the call's own keys (so validation goes past the first check) holding hostile values. */
  function shaped(shapeKeys: ReadonlyArray<string>): unknown {
    const object: Record<string, unknown> = {};
    for (const key of shapeKeys) if (r() < 0.8) object[key] = pooled();
    if (r() < 0.3) Object.assign(object, pollution());
    if (shapeKeys.length === 0 || r() < 0.2) object[pick(r, strings).slice(0, 32) || 'extra'] = pooled();
    return object;
  }

  /**
   * Malformed by construction: a payload the schema accepts is drawn again (twice at most), except for a few that go
   * through on purpose, so hostile values that pass validation (paths, URLs, ids) reach the handlers too.
   */
  return (schema: z.ZodType): unknown => {
    const keys = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    const draw = () => (r() < 0.5 ? shaped(keys) : pooled());
    let payload = draw();
    // A schema without keys has no values to be hostile with: `{}` would only repeat harmless work.
    if (keys.length === 0 || r() < 0.98) {
      if (schema.safeParse(payload).success) payload = draw();
    }
    return payload;
  };
}

/**
 * Sends POST /api/<name> for every body over one keep-alive socket, pipelined (HTTP/1.1 lets a client send the next
 * request before the answer), and reads the answers in order: a full HTTP client per request would cost more than
 * the server's work. The studio answers everything with a Content-Length.
 */
export function pipelined(server: WebServer, name: string, bodies: ReadonlyArray<string>): Promise<Array<Reply>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const replies: Array<Reply> = [];
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (!Number.isFinite(length)) {
          reject(new Error(`An answer without Content-Length: ${head.slice(0, 200)}`));
          socket.destroy();
          return;
        }
        if (buffer.length < end + 4 + length) return;
        replies.push({
          status: Number(head.slice(9, 12)),
          body: buffer.subarray(end + 4, end + 4 + length).toString('utf8'),
        });
        buffer = buffer.subarray(end + 4 + length);
        if (replies.length === bodies.length) {
          socket.end();
          resolve(replies);
          return;
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies.length < bodies.length) reject(new Error(`The server closed after ${replies.length} answers.`));
    });
    const target = `/api/${encodeURIComponent(name)}`;
    for (const body of bodies) {
      socket.write(
        `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-VGT-Token: ${server.token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      );
      socket.write(body);
    }
  });
}

type Reply = Readonly<{ status: number; body: string }>;

/** Every file and folder under `dir` (except `skip`), with what would show a write. */
function snapshot(dir: string, skip: string): Map<string, string> {
  const seen = new Map<string, string>();
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      if (full === skip) continue;
      const info = lstatSync(full);
      seen.set(full, `${info.isDirectory() ? 'd' : info.isSymbolicLink() ? 'l' : 'f'}:${info.size}:${info.mtimeMs}`);
      if (info.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return seen;
}

/** A crash-like INTERNAL (a TypeError escaping a handler) or a handler answer that broke its own schema. */
/** A crash-like INTERNAL (a TypeError escaping a handler) or a handler answer that broke its own schema. */
const looksLikeABug = (message: string) =>
  /TypeError|ReferenceError|RangeError|is not a function|Cannot read prop|undefined is not|broke the contract/.test(
    message,
  );

export type Tally = { sent: number; refusedBySchema: number; accepted: number; codes: Record<string, number> };

export type FuzzWorld = Readonly<{
  home: string;
  outside: string;
  studio: Studio;
  server: WebServer;
  tally: Tally;
  failures: Array<string>;
  /** Checks one answer; failures are collected (an expect per payload would cost more than the payload). */
  check(name: CallName, payload: unknown, result: CallResult<unknown>): void;
  /** Nothing outside the data folder changed, no prototype polluted, no request left the machine, still serving. */
  verifyAndClose(): Promise<void>;
}>;

/**
 * A studio (and its web server) with its data folder inside a watched temp folder that also holds a canary folder
 * and the working directory (so relative paths in payloads land where a write would show). fetch is stubbed.
 */
export async function openFuzzWorld(): Promise<FuzzWorld> {
  const base = tempDir('fuzz');
  const home = path.join(base, 'home');
  const outside = path.join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'canary.txt'), 'must not change');
  mkdirSync(path.join(base, 'cwd'));
  const cwd = process.cwd();
  process.chdir(path.join(base, 'cwd'));
  const networkAttempts: Array<string> = [];
  vi.stubGlobal('fetch', async (input: unknown) => {
    networkAttempts.push(String(input));
    return new Response('not here', { status: 404 });
  });
  // Hundreds of thousands of refusals: stack traces (captured by every Error) would cost more than the checks.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const studio = createStudio({ home, mode: 'web', builtinBundles: [] });
  const server = await startWebServer({ studio, staticDir: outside, port: 0 });
  const before = snapshot(base, home);
  const tally: Tally = { sent: 0, refusedBySchema: 0, accepted: 0, codes: {} };
  const failures: Array<string> = [];

  return {
    home,
    outside,
    studio,
    server,
    tally,
    failures,
    check(name, payload, result) {
      tally.sent += 1;
      const refused =
        !result.ok && result.error.code === 'INVALID_PAYLOAD' && result.error.message.startsWith('Invalid');
      // Dispatch's own verdict, checked against an independent parse for every 8th payload.
      const valid = tally.sent % 8 === 0 ? calls[name].request.safeParse(payload).success : !refused;
      if (valid === refused) failures.push(`${name}: dispatch and the schema disagree on a payload`);
      if (valid) tally.accepted += 1;
      else tally.refusedBySchema += 1;
      const code = result.ok ? 'ok' : result.error.code;
      tally.codes[code] = (tally.codes[code] ?? 0) + 1;
      if (result.ok) return;
      const { message } = result.error;
      if (!isErrorCode(code) || typeof message !== 'string') failures.push(`${name}: untyped error ${String(code)}`);
      else if (!valid && code !== 'INVALID_PAYLOAD') failures.push(`${name}: ${code} for an invalid payload`);
      else if (valid && looksLikeABug(message)) failures.push(`${name}: ${code}: ${message.slice(0, 300)}`);
    },
    async verifyAndClose() {
      try {
        expect(failures.slice(0, 20)).toEqual([]);
        expect(snapshot(base, home)).toEqual(before);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        // Valid-looking download URLs may reach fetch, which is stubbed: nothing goes to any other address.
        const allowed = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]|huggingface\.co|updates\.invalid)[:/]/;
        expect(networkAttempts.filter((url) => !allowed.test(url))).toEqual([]);
        expect(await studio.handle('models.list', {})).toMatchObject({ ok: true });
      } finally {
        await server.close();
        await studio.dispose();
        process.chdir(cwd);
        vi.unstubAllGlobals();
        Error.stackTraceLimit = stackTraceLimit;
      }
    },
  };
}
