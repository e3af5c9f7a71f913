// Web mode against what another local page, a DNS-rebinding site or a hostile local process could send: loopback
// only, Host and Origin checks, a per-start token, body limits and non-JSON bodies. Raw sockets, so nothing is
// normalised away by an HTTP client.
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../electron/common/contract';
import { createStudio, type Studio } from '../../electron/core/studio';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { tempDir } from '../models/helpers';

type Raw = Readonly<{ status: number; head: string; body: string }>;

/** Sends bytes exactly as given and reads the whole answer (the server closes or sends Content-Length). */
function raw(port: number, request: string | Buffer, host = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let data = Buffer.alloc(0);
    const finish = () => {
      const text = data.toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, split), body: text.slice(split + 4) });
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && data.length >= split + 4 + Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', finish);
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('web mode refuses everyone but its own page', () => {
  let studio: Studio;
  let server: WebServer;
  let other: WebServer;
  let port: number;
  const post = (headers: Record<string, string>, body = '{}', target = '/api/models.list') =>
    raw(
      port,
      `POST ${target} HTTP/1.1\r\n` +
        Object.entries({ 'Content-Length': String(Buffer.byteLength(body)), ...headers })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        `Connection: close\r\n\r\n${body}`,
    );
  const own = () => ({ Host: `127.0.0.1:${port}`, 'X-VGT-Token': server.token });
  const code = (reply: Raw) => (JSON.parse(reply.body) as { error?: { code: string } }).error?.code;

  beforeAll(async () => {
    const base = tempDir('web-security');
    writeFileSync(path.join(base, 'index.html'), '<!doctype html><html><head></head><body></body></html>');
    studio = createStudio({ home: path.join(base, 'home'), mode: 'web', builtinBundles: [] });
    server = await startWebServer({ studio, staticDir: base, port: 0 });
    other = await startWebServer({ studio, staticDir: base, port: 0 });
    port = server.port;
  });

  afterAll(async () => {
    await server.close();
    await other.close();
    await studio.dispose();
  });

  it('draws a fresh unguessable token per start and gives it only to its own page', async () => {
    expect(server.token).not.toBe(other.token);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const page = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(page.body).toContain(server.token);
    const framed = await raw(
      port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n`,
    );
    expect(framed.status).toBe(403);
    expect(framed.body).not.toContain(server.token);
    expect(page.head).toMatch(/x-frame-options: DENY/i);
    expect(page.head).toMatch(/content-security-policy: default-src 'none'/i);
  });

  it('accepts its own Host and token, and nothing else', async () => {
    expect((await post(own())).status).toBe(200);
    const refusals: Array<[string, Record<string, string>]> = [
      ['no token', { Host: `127.0.0.1:${port}` }],
      ['empty token', { ...own(), 'X-VGT-Token': '' }],
      ['token of another start', { ...own(), 'X-VGT-Token': other.token }],
      // the replacement differs from the last character (a base64url token ends in '_' one time in 64)
      [
        'token one character off',
        { ...own(), 'X-VGT-Token': server.token.slice(0, -1) + (server.token.endsWith('_') ? 'A' : '_') },
      ],
      ['token with a suffix', { ...own(), 'X-VGT-Token': `${server.token}x` }],
      ['rebinding Host', { ...own(), Host: `evil.example:${port}` }],
      ['Host without port', { ...own(), Host: '127.0.0.1' }],
      ['Host of another port', { ...own(), Host: `127.0.0.1:${port + 1}` }],
      ['lookalike Host', { ...own(), Host: `localhost.evil.example:${port}` }],
      ['foreign Origin', { ...own(), Origin: 'https://evil.example' }],
      ['null Origin (sandboxed frame, file page)', { ...own(), Origin: 'null' }],
      ['Origin of another port', { ...own(), Origin: `http://127.0.0.1:${port + 1}` }],
      ['https Origin on our port', { ...own(), Origin: `https://127.0.0.1:${port}` }],
    ];
    for (const [what, headers] of refusals) {
      const reply = await post(headers);
      expect([reply.status, code(reply)], what).toEqual([403, 'FORBIDDEN']);
    }
    const noHost = await raw(port, `POST /api/models.list HTTP/1.0\r\nX-VGT-Token: ${server.token}\r\n\r\n{}`);
    expect(noHost.status, 'no Host at all').toBeGreaterThanOrEqual(400);
    const events = await raw(port, `GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(events.status, 'event stream without token').toBe(403);
  });

  it('limits bodies, with or without a declared length, and refuses what is not JSON', async () => {
    const declared = await raw(
      port,
      `POST /api/models.list HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-VGT-Token: ${server.token}\r\n` +
        `Content-Length: ${LIMITS.maxBodyBytes + 1}\r\nConnection: close\r\n\r\n{`,
    );
    expect([declared.status, code(declared)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const chunk = 'x'.repeat(256 * 1024);
    const chunks = Array.from({ length: 5 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const chunked = await raw(
      port,
      `POST /api/models.list HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-VGT-Token: ${server.token}\r\n` +
        `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    );
    expect([chunked.status, code(chunked)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    for (const body of ['{"a":', '\u0000\u0001', '<xml/>', '--boundary\r\nContent-Disposition: form-data\r\n\r\nPNG']) {
      const reply = await post({ ...own(), 'Content-Type': 'multipart/form-data; boundary=boundary' }, body);
      expect([reply.status, code(reply)], JSON.stringify(body)).toEqual([400, 'INVALID_PAYLOAD']);
    }
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(code(await post(own(), deep))).toBe('INVALID_PAYLOAD');
    // No upload route exists outside the typed calls: images travel as validated base64 inside them.
    const upload = await post(own(), '{}', '/api/upload');
    expect([upload.status, code(upload)]).toEqual([404, 'UNKNOWN_CALL']);
    const put = await raw(
      port,
      `PUT /index.html HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`,
    );
    expect(put.status).toBe(404);
    // Still answering after all of that.
    expect((await post(own())).status).toBe(200);
  });

  it('listens on loopback only', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    if (external) {
      await expect(raw(port, 'GET / HTTP/1.1\r\n\r\n', external.address)).rejects.toThrow(/ECONNREFUSED/);
    }
    await expect(raw(port, 'GET / HTTP/1.1\r\n\r\n', '::1')).rejects.toThrow(/ECONNREFUSED|EADDRNOTAVAIL/);
  });
});
