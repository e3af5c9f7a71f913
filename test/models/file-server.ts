// A real HTTP file server on 127.0.0.1 for download tests: Range + If-Range like a CDN, and scripted misbehaviour
// per request (drop the connection mid-file, stall, answer an error status, send wrong bytes).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Misbehaviour =
  | Readonly<{ kind: 'drop'; after: number }>
  | Readonly<{ kind: 'stall'; after: number }>
  | Readonly<{ kind: 'status'; status: number }>
  | Readonly<{ kind: 'corrupt' }>;

export type ServedFile = { data: Buffer; etag: string | null; lastModified: string | null; ranges: boolean };

export type RequestLog = Readonly<{
  path: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  /** Body bytes written before the response ended or was cut. */
  sent: number;
}>;

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Deterministic bytes that differ for every seed. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export type FileServer = Readonly<{
  url: (path: string) => string;
  files: Map<string, ServedFile>;
  log: Array<RequestLog>;
  /** Per path, what the next requests do (consumed in order); requests beyond the plan behave. */
  plan: (path: string, ...steps: ReadonlyArray<Misbehaviour>) => void;
  /** Adds or replaces a file, as a new release on the server would: a new ETag unless one is given. */
  put: (path: string, data: Buffer, options?: Partial<Omit<ServedFile, 'data'>>) => void;
  close: () => Promise<void>;
}>;

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, ServedFile>();
  const plans = new Map<string, Array<Misbehaviour>>();
  const log: Array<RequestLog> = [];
  let version = 0;

  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range ?? null;
    const ifRange = (req.headers['if-range'] as string | undefined) ?? null;
    const entry: { path: string; range: string | null; ifRange: string | null; status: number; sent: number } = {
      path,
      range,
      ifRange,
      status: 0,
      sent: 0,
    };
    log.push(entry);
    const file = files.get(path);
    const step = plans.get(path)?.shift();
    if (!file) {
      entry.status = 404;
      res.writeHead(404).end();
      return;
    }
    if (step?.kind === 'status') {
      entry.status = step.status;
      res.writeHead(step.status).end();
      return;
    }
    let start = 0;
    const validatorMatches = ifRange === null || ifRange === file.etag || ifRange === file.lastModified;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (file.ranges && match && validatorMatches) start = Number(match[1]);
    if (start > file.data.length || (start === file.data.length && start > 0)) {
      entry.status = 416;
      res.writeHead(416, { 'Content-Range': `bytes */${file.data.length}` }).end();
      return;
    }
    let body = file.data.subarray(start);
    if (step?.kind === 'corrupt') body = Buffer.from(body.map((b) => b ^ 0xff));
    const headers: http.OutgoingHttpHeaders = { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' };
    if (file.etag) headers.ETag = file.etag;
    if (file.lastModified) headers['Last-Modified'] = file.lastModified;
    if (start > 0) headers['Content-Range'] = `bytes ${start}-${file.data.length - 1}/${file.data.length}`;
    entry.status = start > 0 ? 206 : 200;
    res.writeHead(entry.status, headers);
    if (step?.kind === 'drop' || step?.kind === 'stall') {
      const part = body.subarray(0, step.after);
      entry.sent = part.length;
      res.write(part, () => {
        // A drop cuts the socket mid-body (after a moment, so the client has read what was sent: a fetch body that
        // errors drops chunks it had queued); a stall keeps it open and silent until the client gives up.
        if (step.kind === 'drop') setTimeout(() => res.socket?.destroy(), 250);
      });
      return;
    }
    entry.sent = body.length;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const put: FileServer['put'] = (path, data, options = {}) => {
    version += 1;
    files.set(path, {
      data,
      etag: options.etag === undefined ? `"v${version}-${sha256(data).slice(0, 8)}"` : options.etag,
      lastModified: options.lastModified ?? null,
      ranges: options.ranges ?? true,
    });
  };

  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    files,
    log,
    plan: (path, ...steps) => plans.set(path, [...(plans.get(path) ?? []), ...steps]),
    put,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
