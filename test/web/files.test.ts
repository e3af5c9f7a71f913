// GET /files/<path> in web mode: library pictures for the gallery, and nothing else from the data folder.
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudio, type Studio } from '../../electron/core/studio';
import type { RecordedImage } from '../../electron/store/library';
import { startWebServer, type WebServer } from '../../electron/web/server';

type Reply = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

function get(server: WebServer, target: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: server.port, path: target, headers: { Host: `127.0.0.1:${server.port}`, ...headers } },
      (res) => {
        const chunks: Array<Buffer> = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
  });
}

describe('web mode /files/', () => {
  let studio: Studio;
  let server: WebServer;
  let image: RecordedImage;
  let thumb: string;

  beforeAll(async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'vgt-files-'));
    const staticDir = path.join(base, 'dist');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><html><head></head><body></body></html>');
    studio = createStudio({ home: path.join(base, 'home'), mode: 'web' });
    server = await startWebServer({ studio, staticDir, port: 0 });
    const library = await studio.services.library.get();
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c03' } })
      .png()
      .toBuffer();
    image = await library.recordGeneration(
      {
        kind: 'generate',
        prompt: 'served',
        negativePrompt: null,
        modelId: 'm',
        bundleHash: null,
        provider: 'cpu',
        seed: 1,
        orderSeed: 2,
        order: 'random',
        tokensPerStep: 4,
        steps: 30,
        cfg: 4.5,
        cfgSchedule: 'linear',
        width: 40,
        height: 30,
        sourceImage: null,
        extra: null,
      },
      png,
    );
    thumb = (await library.get(image.id)).thumb!;
    mkdirSync(path.join(studio.home, 'images', 'xx'), { recursive: true });
    writeFileSync(path.join(studio.home, 'images', 'xx', 'notes.txt'), 'private');
  });

  afterAll(async () => {
    await server.close();
    await studio.dispose();
  });

  it('serves library images and thumbnails to the studio page, immutable', async () => {
    const reply = await get(server, `/files/${image.file}?token=${server.token}`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('image/png');
    expect(reply.headers['cache-control']).toContain('immutable');
    expect(reply.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(reply.body.equals(image.png)).toBe(true);
    const fromPage = await get(server, `/files/${thumb}`, { 'Sec-Fetch-Site': 'same-origin' });
    expect([fromPage.status, fromPage.headers['content-type']]).toEqual([200, 'image/webp']);
  });

  it('refuses requests from elsewhere, and everything that is not a library image', async () => {
    expect((await get(server, `/files/${image.file}`)).status).toBe(403);
    expect((await get(server, `/files/${image.file}`, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await get(server, `/files/${image.file}?token=wrong`)).status).toBe(403);
    const token = `?token=${server.token}`;
    for (const bad of [
      '/files/library.db',
      '/files/images/../library.db',
      '/files/images/%2e%2e/library.db',
      '/files/images/%2e%2e/%2e%2e/etc/passwd.png',
      '/files/images/xx/notes.txt',
      '/files/models/whatever.png',
      '/files/%E0%A4%A.png',
    ]) {
      const reply = await get(server, bad + token);
      expect(reply.status, bad).toBeGreaterThanOrEqual(400);
      expect(reply.body.toString(), bad).not.toContain('SQLite format');
      expect(reply.body.toString(), bad).not.toContain('private');
    }
    expect((await get(server, `/files/images/00/${'0'.repeat(64)}.png${token}`)).status).toBe(404);
  });
});
