// Web mode: the studio over HTTP on loopback, for browsers and end-to-end tests.
// Same contract, same validation (core/dispatch) as Electron IPC; calls are POST /api/<call>, events stream from
// GET /api/events (server-sent events). Every request must carry the studio's own Host, its own Origin when a browser
// sends one, and the per-start token that only the studio's page knows, so other local pages cannot drive it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { contentSecurityPolicy } from '../common/csp';
import { LIMITS, type StudioEvent } from '../common/contract';
import { StudioError, toErrorPayload, type ErrorCode, type ErrorPayload } from '../common/errors';
import { resolveInside } from '../core/paths';
import type { Studio } from '../core/studio';

export const DEFAULT_PORT = 5178;
export const TOKEN_HEADER = 'x-vgt-token';

export type WebServerOptions = Readonly<{
  studio: Studio;
  /** The built renderer (renderer/dist). */
  staticDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Fixed token for tests; a random one otherwise. */
  token?: string;
}>;

export type WebServer = Readonly<{ url: string; port: number; token: string; close(): Promise<void> }>;

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNKNOWN_CALL: 404,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  INVALID_PAYLOAD: 400,
  IMAGE_INVALID: 400,
  SEARCH_SYNTAX: 400,
  PATH_OUTSIDE_LIBRARY: 403,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  CANCELLED: 409,
  BUSY: 409,
  MODEL_INVALID: 422,
  MODEL_EXISTS: 409,
  DISK_FULL: 507,
  DATABASE_TOO_NEW: 409,
  UNSUPPORTED: 501,
};

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/** What /files/ serves: pictures only; the database and model files stay out of reach. */
const LIBRARY_IMAGE_TYPES: ReadonlySet<string> = new Set(['.png', '.webp', '.jpg']);

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...securityHeaders(),
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, error: ErrorPayload): void {
  sendJson(res, STATUS[error.code] ?? 500, { error });
}

function sameToken(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Reads a body up to `limit` bytes; rejects early (by Content-Length) or as soon as the stream passes the limit. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new StudioError('PAYLOAD_TOO_LARGE', `The request body is over ${limit} bytes.`));
      req.resume();
      return;
    }
    const chunks: Array<Buffer> = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new StudioError('PAYLOAD_TOO_LARGE', `The request body is over ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}

/** What every route of one running server shares. */
type Site = {
  readonly studio: Studio;
  readonly token: string;
  readonly staticDir: string;
  /** Open event streams, ended on close. */
  readonly streams: Set<http.ServerResponse>;
  /** Known once the port is: the studio's own Host values and browser Origins. */
  allowedHosts: ReadonlySet<string>;
  allowedOrigins: ReadonlySet<string>;
};

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const site: Site = {
    studio: options.studio,
    token: options.token ?? randomBytes(24).toString('base64url'),
    staticDir: path.resolve(options.staticDir),
    streams: new Set(),
    allowedHosts: new Set(),
    allowedOrigins: new Set(),
  };
  const server = http.createServer((req, res) => {
    handle(site, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, toErrorPayload(error));
      else res.end();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the studio is a local app, never a network service.
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  site.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  site.allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token: site.token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of site.streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The per-start token, from the header or (for EventSource and <img>) the query. */
function hasToken(site: Site, req: http.IncomingMessage, url: URL): boolean {
  return sameToken(site.token, (req.headers[TOKEN_HEADER] as string | undefined) ?? url.searchParams.get('token'));
}

/** Host and Origin checks, then the route: static files and library files outside /api/, events and calls in it. */
async function handle(site: Site, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // DNS rebinding: a hostile page that resolves its own name to 127.0.0.1 still sends its own Host.
  if (!site.allowedHosts.has(req.headers.host ?? '')) {
    sendError(res, {
      code: 'FORBIDDEN',
      message: 'Unknown Host header: the studio answers only on its own address.',
    });
    return;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !site.allowedOrigins.has(origin)) {
    sendError(res, { code: 'FORBIDDEN', message: 'Requests from another origin are refused.' });
    return;
  }
  const url = new URL(req.url ?? '/', 'http://studio.invalid');
  if (!url.pathname.startsWith('/api/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, { code: 'NOT_FOUND', message: 'Only GET is served outside /api/.' });
      return;
    }
    if (url.pathname.startsWith('/files/export/')) await serveExport(site, req, res, url);
    else if (url.pathname.startsWith('/files/')) await serveLibraryFile(site, req, res, url);
    else await serveStatic(site, res, url.pathname);
    return;
  }
  if (!hasToken(site, req, url)) {
    sendError(res, { code: 'FORBIDDEN', message: 'Missing or wrong studio token.' });
    return;
  }
  if (url.pathname === '/api/events' && req.method === 'GET') {
    openEvents(site, req, res);
    return;
  }
  if (req.method !== 'POST') {
    sendError(res, { code: 'UNKNOWN_CALL', message: 'Calls are POST /api/<call>.' });
    return;
  }
  await serveCall(site, req, res, url);
}

/** The built renderer; the page gets the token in a meta tag, unknown client-side routes the app shell. */
async function serveStatic(site: Site, res: http.ServerResponse, pathname: string): Promise<void> {
  const relative = decodeURIComponent(pathname).replace(/^\/+/, '') || 'index.html';
  let file: string;
  try {
    file = resolveInside(site.staticDir, relative);
    if (!(await stat(file)).isFile()) throw new StudioError('NOT_FOUND');
  } catch (error) {
    const payload = toErrorPayload(error);
    // Unknown client-side routes fall back to the app shell; anything that tried to escape stays refused.
    if (payload.code === 'NOT_FOUND' && !path.extname(relative)) {
      file = path.join(site.staticDir, 'index.html');
    } else {
      sendError(res, payload);
      return;
    }
  }
  const ext = path.extname(file).toLowerCase();
  let body: Buffer = await readFile(file);
  if (ext === '.html') {
    body = Buffer.from(
      body.toString('utf8').replace('<head>', `<head>\n    <meta name="vgt-token" content="${site.token}" />`),
    );
  }
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': ext === '.html' ? 'no-store' : 'public, max-age=3600',
  });
  res.end(body);
}

/**
 * GET /files/images/… and /files/thumbs/…: the library's pictures (content-addressed, so cached for good).
 * An <img> cannot send the token header, so a same-origin fetch (Sec-Fetch-Site, which pages cannot forge)
 * is accepted as well as the token (header or ?token=); CORP same-origin keeps other sites from embedding them.
 */
async function serveLibraryFile(
  site: Site,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  if (!hasToken(site, req, url) && req.headers['sec-fetch-site'] !== 'same-origin') {
    sendError(res, { code: 'FORBIDDEN', message: 'Missing or wrong studio token.' });
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname.slice('/files/'.length));
  } catch {
    sendError(res, { code: 'NOT_FOUND', message: 'Malformed escape in the path.' });
    return;
  }
  const ext = path.extname(relative).toLowerCase();
  if (!/^(images|thumbs)\//.test(relative) || !LIBRARY_IMAGE_TYPES.has(ext)) {
    sendError(res, { code: 'PATH_OUTSIDE_LIBRARY', message: 'Only library images are served under /files/.' });
    return;
  }
  let file: string;
  try {
    file = resolveInside(site.studio.home, relative);
    if (!(await stat(file)).isFile()) throw new StudioError('NOT_FOUND');
  } catch (error) {
    sendError(res, toErrorPayload(error));
    return;
  }
  const body = await readFile(file);
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': MIME[ext] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': 'private, max-age=31536000, immutable',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * GET /files/export/<id>.zip: a zip that `library.export` (to `download`) prepared. A download link cannot send the
 * token header, and a token in its URL would end up in the browser's download list, so the id is the credential:
 * 128 random bits, handed out only to an authenticated POST, served once, gone after minutes. On top of that the
 * request must come from the studio's own page (Sec-Fetch-Site) or carry the token, like the library's images.
 */
async function serveExport(site: Site, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  if (!hasToken(site, req, url) && req.headers['sec-fetch-site'] !== 'same-origin') {
    sendError(res, { code: 'FORBIDDEN', message: 'Missing or wrong studio token.' });
    return;
  }
  const id = /^\/files\/export\/([A-Za-z0-9_-]{22})\.zip$/.exec(url.pathname)?.[1];
  const exports = site.studio.services.exports;
  const download = id === undefined ? null : req.method === 'HEAD' ? exports.peek(id) : exports.take(id);
  if (download === null) {
    sendError(res, { code: 'NOT_FOUND', message: 'No such export: it was downloaded already or has expired.' });
    return;
  }
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': 'application/zip',
    'Content-Length': download.bytes,
    'Content-Disposition': `attachment; filename="${download.fileName}"`,
    'Cache-Control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(download.file);
  const release = () => void exports.release(download);
  stream.once('error', () => res.destroy());
  res.once('close', () => {
    stream.destroy();
    release();
  });
  stream.pipe(res);
}

/** GET /api/events: every studio event as server-sent events, until the client goes or the server closes. */
function openEvents(site: Site, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
  });
  res.write(': connected\n\n');
  site.streams.add(res);
  const unsubscribe = site.studio.events.subscribe((event: StudioEvent) => {
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  });
  // Comments keep proxies and the browser from timing the stream out.
  const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
  heartbeat.unref();
  req.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
    site.streams.delete(res);
  });
}

/** POST /api/<call>: the JSON body through the studio's dispatch; a client that goes away cancels the call. */
async function serveCall(site: Site, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const name = decodeURIComponent(url.pathname.slice('/api/'.length));
  let payload: unknown;
  try {
    const body = await readBody(req, LIMITS.maxBodyBytes);
    const text = body.toString('utf8');
    payload = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    sendError(
      res,
      error instanceof StudioError
        ? error.toPayload()
        : { code: 'INVALID_PAYLOAD', message: 'The body is not valid JSON.' },
    );
    return;
  }
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  const result = await site.studio.handle(name, payload, { signal: controller.signal });
  if (result.ok) sendJson(res, 200, result.value);
  else sendError(res, toErrorPayload(result.error));
}
