// Web mode against a real HTTP server on 127.0.0.1: the contract, its validation, and every refusal.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudio, type Studio } from '../../electron/core/studio';
import { startWebServer, type WebServer } from '../../electron/web/server';

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** A raw request, so tests can send any Host/Origin a hostile page could. */
function request(
  server: WebServer,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { Host: `127.0.0.1:${server.port}`, ...options.headers },
      },
      (res) => {
        const chunks: Array<Buffer> = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

describe('web mode server', () => {
  let studio: Studio;
  let server: WebServer;
  const api = (call: string, body: unknown, headers: Record<string, string> = {}) =>
    request(server, {
      method: 'POST',
      path: `/api/${call}`,
      headers: { 'Content-Type': 'application/json', 'X-VGT-Token': server.token, ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'vgt-web-'));
    const staticDir = path.join(base, 'dist');
    mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
    writeFileSync(
      path.join(staticDir, 'index.html'),
      '<!doctype html><html><head><title>t</title></head><body></body></html>',
    );
    writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(base, 'secret.txt'), 'secret');
    studio = createStudio({ home: path.join(base, 'home'), mode: 'web' });
    server = await startWebServer({ studio, staticDir, port: 0 });
  });

  afterAll(async () => {
    await server.close();
    await studio.dispose();
  });

  it('binds to loopback', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page with the per-start token and a strict CSP', async () => {
    const reply = await request(server, { path: '/' });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain(`<meta name="vgt-token" content="${server.token}" />`);
    expect(reply.headers['content-security-policy']).toContain("script-src 'self'");
    expect(reply.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('answers POST /api/doctor', async () => {
    const reply = await api('doctor', {});
    expect(reply.status).toBe(200);
    const doctor = JSON.parse(reply.body);
    expect(doctor.mode).toBe('web');
    expect(doctor.onnxruntime.providers.map((p: { id: string }) => p.id)).toContain('cpu');
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    const badHost = await request(server, { path: '/', headers: { Host: 'evil.example:80' } });
    expect(badHost.status).toBe(403);
    expect(JSON.parse(badHost.body).error.code).toBe('FORBIDDEN');
    const badOrigin = await api('doctor', {}, { Origin: 'http://evil.example' });
    expect(badOrigin.status).toBe(403);
    expect(JSON.parse(badOrigin.body).error.code).toBe('FORBIDDEN');
    const ownOrigin = await api('doctor', {}, { Origin: `http://localhost:${server.port}` });
    expect(ownOrigin.status).toBe(200);
  });

  it('refuses calls without the token or with a wrong one', async () => {
    const none = await request(server, { method: 'POST', path: '/api/doctor', body: '{}' });
    expect(none.status).toBe(403);
    const wrong = await api('doctor', {}, { 'X-VGT-Token': 'x'.repeat(server.token.length) });
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.body).error.code).toBe('FORBIDDEN');
  });

  it('answers unknown calls, bad JSON, schema failures and oversized bodies with typed errors', async () => {
    const unknown = await api('formatDisk', {});
    expect([unknown.status, JSON.parse(unknown.body).error.code]).toEqual([404, 'UNKNOWN_CALL']);
    const proto = await api('__proto__', {});
    expect(JSON.parse(proto.body).error.code).toBe('UNKNOWN_CALL');
    const badJson = await request(server, {
      method: 'POST',
      path: '/api/doctor',
      headers: { 'X-VGT-Token': server.token },
      body: '{"oops":',
    });
    expect([badJson.status, JSON.parse(badJson.body).error.code]).toEqual([400, 'INVALID_PAYLOAD']);
    const schema = await api('doctor', { unexpected: true });
    expect([schema.status, JSON.parse(schema.body).error.code]).toEqual([400, 'INVALID_PAYLOAD']);
    const huge = await api('doctor', { blob: 'x'.repeat(1024 * 1024 + 10) });
    expect([huge.status, JSON.parse(huge.body).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const get = await request(server, { path: '/api/doctor', headers: { 'X-VGT-Token': server.token } });
    expect(JSON.parse(get.body).error.code).toBe('UNKNOWN_CALL');
  });

  it('refuses static paths that leave the renderer folder', async () => {
    for (const bad of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt']) {
      const reply = await request(server, { path: bad });
      expect(reply.body, bad).not.toContain('secret');
    }
    expect((await request(server, { path: '/assets/app.js' })).status).toBe(200);
    expect((await request(server, { path: '/assets/missing.js' })).status).toBe(404);
  });

  it('streams studio events over SSE', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: `/api/events?token=${server.token}`,
          headers: { Host: `127.0.0.1:${server.port}` },
        },
        (res) => {
          expect(res.headers['content-type']).toContain('text/event-stream');
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes(': connected'))
              studio.events.emit({ type: 'notice', data: { level: 'info', message: 'hello' } });
            const match = /data: (.*)\n\n/.exec(text);
            if (match) {
              req.destroy();
              resolve(match[1]!);
            }
          });
        },
      );
      req.on('error', reject);
    });
    expect(JSON.parse(received)).toEqual({ type: 'notice', data: { level: 'info', message: 'hello' } });
  });
});
