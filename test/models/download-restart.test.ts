// A bundle download across a restart of the studio: a loopback server with Range support, a first download manager
// that is stopped (paused, failed, or killed mid-file: its folder copied as it was), and a fresh registry and manager
// on the same data folder that list the partial download with everything the Models view needs to offer Resume and
// Cancel, then resume it with HTTP Range (no finished file fetched again, the cut one continued) and verify it.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadProgress } from '../../electron/common/contract';
import { DownloadStateSchema } from '../../electron/common/api/models';
import type { RetryPolicy } from '../../electron/models/download-file';
import { DownloadManager, downloadIdOf } from '../../electron/models/download-manager';
import { ModelRegistry } from '../../electron/models/registry';
import { sha256, startFileServer, type FileServer } from './file-server';
import { FIXTURE_BUNDLE, FIXTURE_ID, readManifestJson, tempDir } from './helpers';

/** Long stall timeout: a stalled first run stays stalled until the test stops it. */
const POLICY: RetryPolicy = { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, stallMs: 20_000 };
const manifest = readManifestJson(FIXTURE_BUNDLE);
const fileNames = Object.keys(manifest.files);
const totalBytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0);
const BIG = 'lm_step.onnx';

describe('bundle download across a restart', () => {
  let server: FileServer;
  let n = 0;

  function publish(): { url: string; sha: string; base: string } {
    const base = `/restart-${++n}/`;
    const text = JSON.stringify(manifest);
    server.put(`${base}vgt-bundle.json`, Buffer.from(text));
    for (const name of fileNames) server.put(`${base}${name}`, readFileSync(path.join(FIXTURE_BUNDLE, name)));
    return { url: server.url(`${base}vgt-bundle.json`), sha: sha256(text), base };
  }

  /** One start of the studio's model side on a data folder: a registry and a download manager. */
  function start(home: string) {
    const registry = new ModelRegistry({ home, builtinRoots: [] });
    const events: Array<DownloadProgress> = [];
    const downloads = new DownloadManager({ registry, policy: POLICY, onProgress: (p) => events.push(p) });
    return { registry, downloads, events };
  }

  /** Starts a download whose big file stalls after `after` bytes, and waits until those bytes are on disk. */
  async function startStalled(home: string, after: number) {
    const pub = publish();
    server.plan(`${pub.base}${BIG}`, { kind: 'stall', after });
    const first = start(home);
    const run = first.downloads.download(pub.url, pub.sha).catch((error: unknown) => error);
    while (!first.events.some((e) => e.file === BIG && e.receivedBytes > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { ...pub, first, run, id: downloadIdOf(pub.url, pub.sha) };
  }

  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(() => server.close());

  it('lists a download the studio was killed in, with its URL, sha256 and progress, and resumes it with Range', async () => {
    const home = path.join(tempDir('dl-restart'), 'home');
    const { url, sha, base, first, run, id } = await startStalled(home, 30_000);
    // A crash: the data folder as it is on disk mid-file, taken up by a new start of the studio elsewhere.
    const crashed = path.join(tempDir('dl-restart'), 'home');
    cpSync(path.join(home, 'models', '.downloads'), path.join(crashed, 'models', '.downloads'), { recursive: true });
    await first.downloads.cancel(id, true);
    await run;

    const second = start(crashed);
    const listed = await second.downloads.list();
    expect(listed).toHaveLength(1);
    const [state] = listed;
    expect(DownloadStateSchema.parse(state)).toEqual(state);
    expect(state).toMatchObject({
      downloadId: id,
      url,
      sha256: sha,
      name: manifest.name,
      active: false,
      stopped: 'interrupted',
      totalBytes,
    });
    expect(state).not.toHaveProperty('message');
    const bigAt = fileNames.indexOf(BIG);
    const before = fileNames.slice(0, bigAt).reduce((sum, f) => sum + manifest.files[f]!.bytes, 0);
    expect(state!.receivedBytes).toBeGreaterThan(before);
    expect(state!.receivedBytes).toBeLessThanOrEqual(before + 30_000);

    // Resume: what the Models view's Resume button sends, from the listed state alone.
    const seen = server.log.length;
    const model = await second.downloads.download(state!.url, state!.sha256);
    expect(model.id).toBe(FIXTURE_ID);
    const requests = server.log.slice(seen).filter((r) => r.path.startsWith(base));
    const finished = fileNames.slice(0, bigAt).map((f) => `${base}${f}`);
    expect(requests.filter((r) => finished.includes(r.path))).toEqual([]);
    const big = requests.find((r) => r.path === `${base}${BIG}`);
    expect(big).toMatchObject({ status: 206, range: `bytes=${state!.receivedBytes - before}-` });
    expect(big!.ifRange).toMatch(/^"v/);
    // The resumed file reports what it kept, is verified as a phase of its own, and the bundle installs.
    expect(second.events.find((e) => e.file === BIG)?.resumedFromBytes).toBe(state!.receivedBytes - before);
    const phases = second.events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual(expect.arrayContaining(['downloading', 'verifying', 'installing']));
    expect(phases.at(-1)).toBe('done');
    expect(
      second.events.some((e) => e.phase === 'verifying' && e.file === BIG && e.receivedBytes === e.totalBytes),
    ).toBe(true);
    expect(await second.downloads.list()).toEqual([]);
    expect(existsSync(path.join(crashed, 'models', FIXTURE_ID, BIG))).toBe(true);
  });

  it('keeps a paused download paused across a restart, and Cancel after the restart discards its files', async () => {
    const home = path.join(tempDir('dl-restart'), 'home');
    const { url, sha, first, run, id } = await startStalled(home, 5_000);
    expect(await first.downloads.cancel(id, false)).toBe(true);
    expect(await run).toMatchObject({ code: 'CANCELLED' });

    const second = start(home);
    const [state] = await second.downloads.list();
    expect(state).toMatchObject({ downloadId: id, url, sha256: sha, active: false, stopped: 'paused', totalBytes });
    expect(state!.receivedBytes).toBeGreaterThan(0);
    expect(await second.downloads.cancel(id, true)).toBe(true);
    expect(await second.downloads.list()).toEqual([]);
    expect(existsSync(path.join(home, 'models', '.downloads', id))).toBe(false);
  });

  it('says why a download failed, after a restart too', async () => {
    const { url, sha, base } = publish();
    const home = path.join(tempDir('dl-restart'), 'home');
    server.plan(`${base}${BIG}`, { kind: 'status', status: 403 });
    const first = start(home);
    await expect(first.downloads.download(url, sha)).rejects.toThrow(/403/);
    const [state] = await start(home).downloads.list();
    expect(state).toMatchObject({ url, sha256: sha, active: false, stopped: 'failed' });
    expect(state!.message).toMatch(/answered 403/);
  });
});
