// The Models view's download state against the real host (createStudio) and a loopback server with Range support:
// start, pause, a restart of the studio (a new host and a new view state on the same data folder), the paused download
// listed with its progress, Resume and Cancel; verification visible as its own phase; failures shown in place.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/common/contract';
import type { Model } from '../../electron/common/api/models';
import { createStudio, type Studio } from '../../electron/core/studio';
import { downloadIdOf } from '../../electron/models/download-manager';
import { unwrap } from '../../renderer/src/lib/api/result';
import { DownloadsState, type DownloadRow } from '../../renderer/src/lib/state/downloads.svelte';
import { sha256, startFileServer, type FileServer } from '../models/file-server';
import { FIXTURE_BUNDLE, FIXTURE_ID, readManifestJson, tempDir } from '../models/helpers';

const manifest = readManifestJson(FIXTURE_BUNDLE);
const fileNames = Object.keys(manifest.files);
const totalBytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0);
const BIG = 'lm_step.onnx';
const bytesBefore = (name: string) =>
  fileNames.slice(0, fileNames.indexOf(name)).reduce((sum, f) => sum + manifest.files[f]!.bytes, 0);

/** The renderer's typed client over an in-process host, as both transports present it. */
function apiOf(studio: Studio): StudioApi {
  return {
    call: async (name, request) => unwrap(await studio.handle(name, request)),
    subscribe: (listener) => studio.events.subscribe(listener),
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('downloads in the Models view', () => {
  let server: FileServer;
  let n = 0;
  const studios: Array<Studio> = [];

  function publish(): { url: string; sha: string; base: string } {
    const base = `/ui-${++n}/`;
    const text = JSON.stringify(manifest);
    server.put(`${base}vgt-bundle.json`, Buffer.from(text));
    for (const name of fileNames) server.put(`${base}${name}`, readFileSync(path.join(FIXTURE_BUNDLE, name)));
    return { url: server.url(`${base}vgt-bundle.json`), sha: sha256(text), base };
  }

  /** One start of the studio on `home`, with the Models view's download state on it. */
  function open(home: string, installed: Array<Model> = []) {
    const studio = createStudio({ home, mode: 'web', builtinBundles: [] });
    studios.push(studio);
    const state = new DownloadsState(apiOf(studio), { onInstalled: (model) => installed.push(model) });
    return { studio, state };
  }

  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(async () => {
    for (const studio of studios) await studio.dispose();
    await server.close();
  });

  it('pauses, survives a restart with its progress, resumes with Range, and shows verification as a phase', async () => {
    const { url, sha, base } = publish();
    const id = downloadIdOf(url, sha);
    const home = path.join(tempDir('ui-dl'), 'home');
    server.plan(`${base}${BIG}`, { kind: 'stall', after: 20_000 });
    const first = open(home);
    const run = first.state.start(url, sha);
    await until(() => (first.state.rows[0]?.receivedBytes ?? 0) > bytesBefore(BIG), 'bytes of the big file');
    expect(first.state.rows).toHaveLength(1);
    expect(first.state.rows[0]).toMatchObject({
      downloadId: id,
      sha256: sha,
      status: 'running',
      label: 'Downloading',
      canPause: true,
      canResume: false,
      totalBytes,
    });
    await first.state.pause(id);
    await run;
    expect(first.state.error).toBeNull();
    expect(first.state.rows).toEqual([expect.objectContaining({ status: 'paused', label: 'Paused', canResume: true })]);
    const kept = first.state.rows[0]!.receivedBytes;
    expect(kept).toBeGreaterThan(bytesBefore(BIG));
    first.state.dispose();
    await first.studio.dispose();

    // The restart: a new host and a new Models view on the same data folder.
    const installed: Array<Model> = [];
    const second = open(home, installed);
    await second.state.load();
    expect(second.state.rows).toEqual([
      expect.objectContaining({
        downloadId: id,
        url,
        sha256: sha,
        name: manifest.name,
        status: 'paused',
        label: 'Paused',
        receivedBytes: kept,
        totalBytes,
        fraction: kept / totalBytes,
        canResume: true,
        canCancel: true,
        canPause: false,
      }),
    ]);

    const seen: Array<DownloadRow> = [];
    second.studio.events.subscribe((event) => {
      if (event.type === 'models.download' && second.state.rows[0]) seen.push(second.state.rows[0]);
    });
    const before = server.log.length;
    await second.state.resume(id);
    expect(installed.map((m) => m.id)).toEqual([FIXTURE_ID]);
    expect(second.state.message).toBe(`Downloaded and verified ${manifest.name}.`);
    expect(second.state.error).toBeNull();
    expect(second.state.rows).toEqual([]);
    expect(server.log.slice(before).find((r) => r.path === `${base}${BIG}`)).toMatchObject({
      status: 206,
      range: `bytes=${kept - bytesBefore(BIG)}-`,
    });
    // Verifying shows as its own phase with its own bar, while the bundle's bar never goes back.
    const verifying = seen.filter((row) => row.phase === 'verifying');
    expect(verifying.length).toBeGreaterThan(0);
    expect(verifying.every((row) => row.label === 'Verifying checksums' && row.verifying !== null)).toBe(true);
    expect(verifying.some((row) => row.verifying?.file === BIG && row.verifying.fraction === 1)).toBe(true);
    const fractions = seen.map((row) => row.fraction ?? 0);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(seen.map((row) => row.label)).toContain('Installing');
  });

  it('lists a download the studio was killed in as interrupted, and Cancel deletes its files', async () => {
    const { url, sha, base } = publish();
    const id = downloadIdOf(url, sha);
    const home = path.join(tempDir('ui-dl'), 'home');
    server.plan(`${base}${BIG}`, { kind: 'stall', after: 10_000 });
    const first = open(home);
    const run = first.state.start(url, sha);
    await until(() => (first.state.rows[0]?.receivedBytes ?? 0) > bytesBefore(BIG), 'bytes of the big file');
    // Killed: the data folder as it is on disk mid-file, opened by a new start of the studio.
    const crashed = path.join(tempDir('ui-dl'), 'home');
    cpSync(path.join(home, 'models', '.downloads'), path.join(crashed, 'models', '.downloads'), { recursive: true });
    await first.state.cancel(id);
    await run;

    const second = open(crashed);
    await second.state.load();
    expect(second.state.rows).toEqual([
      expect.objectContaining({ status: 'interrupted', label: expect.stringMatching(/^Interrupted/), canResume: true }),
    ]);
    expect(second.state.rows[0]!.fraction).toBeGreaterThan(0);
    await second.state.cancel(id);
    expect(second.state.rows).toEqual([]);
    expect(second.state.message).toMatch(/deleted/);
    expect(existsSync(path.join(crashed, 'models', '.downloads', id))).toBe(false);
  });

  it('shows a failure that kept nothing in place, and one that kept files in its row', async () => {
    const { url } = publish();
    const home = path.join(tempDir('ui-dl'), 'home');
    const { state } = open(home);
    await state.start(url, 'f'.repeat(64));
    expect(state.error).toMatch(/sha256/);
    expect(state.rows).toEqual([]);

    const other = publish();
    server.plan(`${other.base}${BIG}`, { kind: 'status', status: 404 });
    await state.start(other.url, other.sha);
    expect(state.error).toBeNull();
    expect(state.rows).toEqual([
      expect.objectContaining({
        status: 'failed',
        label: 'Failed',
        message: expect.stringMatching(/404/),
        canResume: true,
      }),
    ]);
  });
});
