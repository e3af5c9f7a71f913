// Web mode's export downloads: POST /api/library.export (token, Host, Origin checked like every call) hands out a
// one-time id; GET /files/export/<id>.zip serves the zip once, only to the studio's own page or a token holder.
import http from 'node:http';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_MANIFEST_NAME, ExportManifestSchema } from '../../electron/common/api/library';
import { createStudio, type Studio } from '../../electron/core/studio';
import { embedReplayParams } from '../../electron/store/library';
import { startWebServer, type WebServer } from '../../electron/web/server';
import { params, png, tempHome } from '../store/helpers';

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function send(
  server: WebServer,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
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
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin' };

describe('web mode export downloads', () => {
  let studio: Studio;
  let server: WebServer;
  let home: string;
  let cleanup: () => void;
  const ids: Array<number> = [];

  const api = (call: string, body: unknown, headers: Record<string, string> = {}) =>
    send(server, {
      method: 'POST',
      path: `/api/${call}`,
      headers: { 'Content-Type': 'application/json', 'X-VGT-Token': server.token, ...headers },
      body: JSON.stringify(body),
    });

  /** A fresh download id for the seeded images. */
  const prepare = async (): Promise<string> => {
    const reply = await api('library.export', { ids, to: 'download' });
    expect(reply.status).toBe(200);
    return (JSON.parse(reply.body.toString()) as { downloadId: string }).downloadId;
  };

  beforeAll(async () => {
    let base: string;
    ({ home: base, cleanup } = tempHome('vgt-web-export-'));
    const staticDir = path.join(base, 'dist');
    mkdirSync(staticDir);
    home = path.join(base, 'home');
    studio = createStudio({ home, mode: 'web', builtinBundles: [] });
    server = await startWebServer({ studio, staticDir, port: 0 });
    const library = await studio.services.library.get();
    for (let i = 0; i < 3; i++) {
      ids.push((await library.importPng(embedReplayParams(await png(40 + i), params({ seed: 100 + i })))).id);
    }
  });

  afterAll(async () => {
    await server.close();
    await studio.dispose();
    cleanup();
  });

  it('serves the zip once to the studio page, as an attachment that is never cached', async () => {
    const id = await prepare();
    const reply = await send(server, { path: `/files/export/${id}.zip`, headers: SAME_ORIGIN });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/zip');
    expect(reply.headers['content-disposition']).toMatch(/^attachment; filename="vgt-export-3-images-[\d-]+\.zip"$/);
    expect(reply.headers['cache-control']).toBe('no-store');
    const files = unzipSync(reply.body);
    const manifest = ExportManifestSchema.parse(JSON.parse(Buffer.from(files[EXPORT_MANIFEST_NAME]!).toString()));
    expect(manifest.images.map((i) => i.params.seed).sort()).toEqual([100, 101, 102]);
    expect(Object.keys(files).filter((f) => f.endsWith('.png'))).toHaveLength(3);
    const again = await send(server, { path: `/files/export/${id}.zip`, headers: SAME_ORIGIN });
    expect(again.status).toBe(404);
    // The zip is gone from the data folder once sent.
    await expect.poll(() => readdirSync(path.join(home, 'tmp')).filter((f) => f.includes('export'))).toEqual([]);
  });

  it('refuses other sites, foreign hosts and origins, and requests without the page or the token', async () => {
    const id = await prepare();
    const target = `/files/export/${id}.zip`;
    const refusals: Array<Record<string, string>> = [
      {},
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
      { ...SAME_ORIGIN, Host: 'evil.example:80' },
      { ...SAME_ORIGIN, Origin: 'http://evil.example' },
      { 'X-VGT-Token': 'x'.repeat(server.token.length) },
    ];
    for (const headers of refusals) {
      const reply = await send(server, { path: target, headers });
      expect(reply.status, JSON.stringify(headers)).toBe(403);
    }
    expect((await send(server, { method: 'POST', path: target, headers: SAME_ORIGIN })).status).toBe(404);
    // HEAD looks without spending the id; the refused tries did not spend it either.
    expect((await send(server, { method: 'HEAD', path: target, headers: SAME_ORIGIN })).status).toBe(200);
    expect((await send(server, { path: `${target}?token=${server.token}` })).status).toBe(200);
  });

  it('answers 404 for ids it never handed out and for paths that try to leave', async () => {
    for (const bad of [
      `/files/export/${'A'.repeat(22)}.zip`,
      '/files/export/../library.db',
      '/files/export/%2e%2e%2flibrary.db',
      '/files/export/short.zip',
      `/files/export/${'A'.repeat(22)}.zip/../../library.db`,
    ]) {
      const reply = await send(server, { path: bad, headers: SAME_ORIGIN });
      expect(reply.status, bad).toBeGreaterThanOrEqual(400);
      expect(reply.body.subarray(0, 4).toString('latin1'), bad).not.toBe('SQLi');
      expect(reply.headers['content-type'], bad).not.toBe('application/zip');
    }
  });

  it('hands out download ids only to authenticated calls', async () => {
    const noToken = await send(server, {
      method: 'POST',
      path: '/api/library.export',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ids, to: 'download' }),
    });
    expect(noToken.status).toBe(403);
    const foreign = await api('library.export', { ids, to: 'download' }, { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const folder = await api('library.export', { ids, to: 'folder' });
    expect([folder.status, JSON.parse(folder.body.toString()).error.code]).toEqual([501, 'UNSUPPORTED']);
  });
});
