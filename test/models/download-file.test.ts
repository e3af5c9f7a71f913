// The resumable downloader against a real HTTP server on 127.0.0.1: resume after a dropped connection, a stall or an
// app restart; start over only when the server's file changed; refuse wrong bytes; bounded retries.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadFile, type FileProgress, type RetryPolicy } from '../../electron/models/download-file';
import { partialPath, sidecarPath } from '../../electron/models/partial-file';
import { bytes, sha256, startFileServer, type FileServer } from './file-server';
import { tempDir } from './helpers';

const POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 40, stallMs: 300 };
const SIZE = 300_000;
const code = (c: string) => expect.objectContaining({ code: c });

describe('resumable download', () => {
  let server: FileServer;
  let n = 0;
  /** A fresh path on the server and a fresh destination for each test. */
  const fresh = (data = bytes(SIZE, n + 1), options?: Parameters<FileServer['put']>[2]) => {
    const name = `/file-${++n}.bin`;
    server.put(name, data, options);
    const dest = path.join(tempDir('dl'), 'sub', 'file.bin');
    return { name, url: server.url(name), dest, data, requests: () => server.log.filter((r) => r.path === name) };
  };
  const clean = (dest: string) => !existsSync(partialPath(dest)) && !existsSync(sidecarPath(dest));

  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(() => server.close());

  it('downloads, verifies as its own phase, and moves the file into place', async () => {
    const { url, dest, data, requests } = fresh();
    const phases: Array<FileProgress['phase']> = [];
    const report = await downloadFile({
      url,
      dest,
      sha256: sha256(data),
      policy: POLICY,
      onProgress: (p) => phases.push(p.phase),
    });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(clean(dest)).toBe(true);
    expect(report).toEqual({ transferredBytes: SIZE, resumedFrom: 0, restarts: 0, attempts: 1 });
    expect(phases[0]).toBe('downloading');
    expect(phases.at(-1)).toBe('verifying');
    expect(phases.indexOf('verifying')).toBeGreaterThan(phases.lastIndexOf('downloading'));
    expect(requests().map((r) => [r.status, r.range])).toEqual([[200, null]]);
  });

  it('resumes with Range + If-Range after the connection drops mid-file, fetching no byte twice', async () => {
    const { name, url, dest, data, requests } = fresh();
    server.plan(name, { kind: 'drop', after: 100_000 });
    const messages: Array<string> = [];
    const report = await downloadFile({
      url,
      dest,
      sha256: sha256(data),
      policy: POLICY,
      onProgress: (p) => p.message && messages.push(p.message),
    });
    expect(readFileSync(dest).equals(data)).toBe(true);
    const [first, second] = requests();
    expect(first).toMatchObject({ status: 200, sent: 100_000 });
    expect(second).toMatchObject({ status: 206, ifRange: server.files.get(name)!.etag });
    // It asks for exactly what it lacks: what the first response delivered is kept.
    const start = Number(/^bytes=(\d+)-$/.exec(second!.range ?? '')?.[1]);
    expect(start).toBeGreaterThan(0);
    expect(start + second!.sent).toBe(SIZE);
    expect(report).toMatchObject({ transferredBytes: SIZE, restarts: 0, attempts: 2 });
    expect(messages.join('\n')).toMatch(/connection (dropped|ended)/i);
  });

  it('detects a stall (an open connection that sends nothing) and resumes', async () => {
    const { name, url, dest, data, requests } = fresh();
    server.plan(name, { kind: 'stall', after: 50_000 });
    const messages: Array<string> = [];
    const started = Date.now();
    await downloadFile({
      url,
      dest,
      sha256: sha256(data),
      policy: POLICY,
      onProgress: (p) => p.message && messages.push(p.message),
    });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(requests().map((r) => r.range)).toEqual([null, 'bytes=50000-']);
    expect(messages.join('\n')).toMatch(/stalled/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('survives an app restart: a cancelled run leaves .partial + sidecar, the next run resumes from them', async () => {
    const { name, url, dest, data, requests } = fresh(bytes(SIZE, 99), {
      lastModified: 'Tue, 01 Jul 2025 10:00:00 GMT',
    });
    server.plan(name, { kind: 'stall', after: 120_000 });
    const controller = new AbortController();
    const first = downloadFile({
      url,
      dest,
      sha256: sha256(data),
      policy: { ...POLICY, stallMs: 60_000 },
      signal: controller.signal,
    });
    await vi.waitUntil(() => existsSync(partialPath(dest)) && statSync(partialPath(dest)).size === 120_000, {
      timeout: 5000,
    });
    controller.abort();
    await expect(first).rejects.toThrow(code('CANCELLED'));
    expect(statSync(partialPath(dest)).size).toBe(120_000);
    const sidecar = JSON.parse(readFileSync(sidecarPath(dest), 'utf8'));
    expect(sidecar).toMatchObject({ url, sha256: sha256(data), totalBytes: SIZE, etag: server.files.get(name)!.etag });

    // A new run (a new process would read the same two files) continues where the first stopped.
    const report = await downloadFile({ url, dest, sha256: sha256(data), policy: POLICY });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(report).toMatchObject({ resumedFrom: 120_000, transferredBytes: SIZE - 120_000, restarts: 0 });
    expect(requests().at(-1)).toMatchObject({ status: 206, range: 'bytes=120000-' });
    expect(clean(dest)).toBe(true);
  });

  it('starts over when the file on the server changed between attempts (If-Range no longer matches)', async () => {
    const { name, url, dest, requests } = fresh();
    server.plan(name, { kind: 'drop', after: 80_000 });
    const released = bytes(SIZE + 1000, 4242);
    const messages: Array<string> = [];
    const run = downloadFile({
      url,
      dest,
      sha256: sha256(released),
      policy: POLICY,
      onProgress: (p) => {
        if (p.message) messages.push(p.message);
        // The new release lands while the client waits to retry.
        if (p.phase === 'retrying' && server.files.get(name)!.data.length === SIZE) server.put(name, released);
      },
    });
    const report = await run;
    expect(readFileSync(dest).equals(released)).toBe(true);
    expect(report.restarts).toBe(1);
    expect(report.transferredBytes).toBeGreaterThan(released.length);
    const [, second] = requests();
    expect(second).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), status: 200 });
    expect(messages.join('\n')).toMatch(/changed: starting over/);
  });

  it('starts over once when a resumed file fails its hash (the server changed it and kept its ETag)', async () => {
    const { name, url, dest, requests } = fresh(bytes(SIZE, 7), { etag: '"same"' });
    server.plan(name, { kind: 'drop', after: 100_000 });
    const current = bytes(SIZE, 8);
    const report = await downloadFile({
      url,
      dest,
      sha256: sha256(current),
      policy: POLICY,
      onProgress: (p) => {
        if (p.phase === 'retrying' && !server.files.get(name)!.data.equals(current)) {
          server.put(name, current, { etag: '"same"' });
        }
      },
    });
    expect(readFileSync(dest).equals(current)).toBe(true);
    expect(report.restarts).toBe(1);
    expect(requests().map((r) => r.status)).toEqual([200, 206, 200]);
  });

  it('starts over when the server ignores Range', async () => {
    const { name, url, dest, data, requests } = fresh(undefined, { ranges: false });
    server.plan(name, { kind: 'drop', after: 64_000 });
    const report = await downloadFile({ url, dest, sha256: sha256(data), policy: POLICY });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(report.restarts).toBe(1);
    expect(requests().map((r) => r.status)).toEqual([200, 200]);
  });

  it('refuses wrong bytes: fails verification, removes them, keeps nothing at the destination', async () => {
    const { name, url, dest, data, requests } = fresh();
    server.plan(name, { kind: 'corrupt' });
    const phases = new Set<string>();
    await expect(
      downloadFile({ url, dest, sha256: sha256(data), policy: POLICY, onProgress: (p) => phases.add(p.phase) }),
    ).rejects.toThrow(expect.objectContaining({ code: 'DOWNLOAD_FAILED', message: expect.stringMatching(/sha256/) }));
    expect(phases.has('verifying')).toBe(true);
    expect(existsSync(dest)).toBe(false);
    expect(clean(dest)).toBe(true);
    expect(requests()).toHaveLength(1);
  });

  it('refuses a file whose size differs from the manifest before downloading it', async () => {
    const { url, dest, data, requests } = fresh();
    await expect(
      downloadFile({ url, dest, sha256: sha256(data), expectedBytes: SIZE - 1, policy: POLICY }),
    ).rejects.toThrow(expect.objectContaining({ code: 'DOWNLOAD_FAILED', message: expect.stringMatching(/bytes/) }));
    expect(requests()[0]!.sent).toBe(SIZE);
    expect(existsSync(dest)).toBe(false);
  });

  it('retries server errors with backoff, gives up after a bounded number, and fails fast on 404', async () => {
    const flaky = fresh();
    server.plan(flaky.name, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    await downloadFile({ url: flaky.url, dest: flaky.dest, sha256: sha256(flaky.data), policy: POLICY });
    expect(flaky.requests().map((r) => r.status)).toEqual([503, 503, 200]);

    const down = fresh();
    server.plan(down.name, ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 500 })));
    await expect(
      downloadFile({ url: down.url, dest: down.dest, sha256: sha256(down.data), policy: POLICY }),
    ).rejects.toThrow(
      expect.objectContaining({ code: 'DOWNLOAD_FAILED', message: expect.stringMatching(/4 attempts/) }),
    );
    expect(down.requests()).toHaveLength(POLICY.maxAttempts);

    const dest = path.join(tempDir('dl'), 'x.bin');
    await expect(
      downloadFile({ url: server.url('/missing.bin'), dest, sha256: 'a'.repeat(64), policy: POLICY }),
    ).rejects.toThrow(expect.objectContaining({ code: 'DOWNLOAD_FAILED', message: expect.stringMatching(/404/) }));
    expect(server.log.filter((r) => r.path === '/missing.bin')).toHaveLength(1);
  });

  it('cancels while waiting to retry', async () => {
    const { name, url, dest, data } = fresh();
    server.plan(name, { kind: 'status', status: 503 });
    const controller = new AbortController();
    const started = Date.now();
    const run = downloadFile({
      url,
      dest,
      sha256: sha256(data),
      policy: { ...POLICY, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      signal: controller.signal,
      onProgress: (p) => p.phase === 'retrying' && controller.abort(),
    });
    await expect(run).rejects.toThrow(code('CANCELLED'));
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
