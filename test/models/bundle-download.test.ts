// Whole-bundle downloads from a loopback server: manifest pinned by sha256, every file by the manifest, resume of an
// interrupted bundle, free-disk refusal, cancel, and the same through the studio's contract and the CLI.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/main';
import type { DownloadProgress } from '../../electron/common/contract';
import { createStudio } from '../../electron/core/studio';
import type { RetryPolicy } from '../../electron/models/download-file';
import { DownloadManager, downloadIdOf, manifestUrl } from '../../electron/models/download-manager';
import { ModelRegistry } from '../../electron/models/registry';
import { sha256, startFileServer, type FileServer } from './file-server';
import { FIXTURE_BUNDLE, FIXTURE_ID, readManifestJson, tempDir } from './helpers';

const POLICY: RetryPolicy = { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, stallMs: 500 };
const code = (c: string) => expect.objectContaining({ code: c });
const manifest = readManifestJson(FIXTURE_BUNDLE);
const fileNames = Object.keys(manifest.files);
const totalBytes = Object.values(manifest.files).reduce((sum, f) => sum + f.bytes, 0);

describe('bundle download', () => {
  let server: FileServer;
  let n = 0;

  /** Publishes the fixture bundle under a fresh folder; `edit` may change its manifest first. */
  function publish(edit?: (m: typeof manifest) => object): { url: string; sha: string; base: string } {
    const base = `/repo-${++n}/`;
    const text = JSON.stringify(edit ? edit(structuredClone(manifest)) : manifest);
    server.put(`${base}vgt-bundle.json`, Buffer.from(text));
    for (const name of fileNames) server.put(`${base}${name}`, readFileSync(path.join(FIXTURE_BUNDLE, name)));
    return { url: server.url(`${base}vgt-bundle.json`), sha: sha256(text), base };
  }

  function manager() {
    const home = path.join(tempDir('bundle-dl'), 'home');
    const registry = new ModelRegistry({ home, builtinRoots: [] });
    const events: Array<DownloadProgress> = [];
    const downloads = new DownloadManager({ registry, policy: POLICY, onProgress: (p) => events.push(p) });
    return { home, registry, downloads, events };
  }

  const requestsUnder = (base: string) => server.log.filter((r) => r.path.startsWith(base));

  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(() => server.close());

  it('maps sources to manifest URLs', () => {
    expect(manifestUrl('hf:hustvl/vgt-bundles')).toBe(
      'https://huggingface.co/hustvl/vgt-bundles/resolve/main/vgt-bundle.json',
    );
    expect(manifestUrl('hf:me/repo@v1.0')).toBe('https://huggingface.co/me/repo/resolve/v1.0/vgt-bundle.json');
    expect(manifestUrl('https://example.com/b/')).toBe('https://example.com/b/vgt-bundle.json');
    expect(manifestUrl('https://example.com/b/vgt-bundle.json')).toBe('https://example.com/b/vgt-bundle.json');
  });

  it('downloads, verifies and installs a bundle with typed progress through every phase', async () => {
    const { url, sha } = publish();
    const { home, registry, downloads, events } = manager();
    const model = await downloads.download(url, sha);
    expect(model).toMatchObject({ id: FIXTURE_ID, default: true, linked: false, builtin: false });
    expect((await registry.list()).map((m) => m.id)).toEqual([FIXTURE_ID]);
    const phases = events.map((e) => e.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases[0]).toBe('preparing');
    expect(phases).toContain('downloading');
    expect(phases).toContain('verifying');
    expect(phases.slice(-2)).toEqual(['installing', 'done']);
    expect(events.at(-1)).toMatchObject({ receivedBytes: totalBytes, totalBytes, downloadId: downloadIdOf(url, sha) });
    // Staging is gone, and the installed folder holds exactly the bundle.
    expect(readdirSync(path.join(home, 'models', '.downloads'))).toEqual([]);
    expect(readdirSync(path.join(home, 'models', FIXTURE_ID)).sort()).toEqual(['vgt-bundle.json', ...fileNames].sort());
    expect(await downloads.list()).toEqual([]);
  });

  it('resumes an interrupted bundle: finished files are not fetched again, the cut one continues', async () => {
    const { url, sha, base } = publish();
    const { downloads } = manager();
    const big = 'lm_step.onnx';
    server.plan(`${base}${big}`, { kind: 'drop', after: 20_000 }, { kind: 'status', status: 500 });
    await expect(downloads.download(url, sha)).rejects.toThrow(code('DOWNLOAD_FAILED'));
    const [stopped] = await downloads.list();
    expect(stopped).toMatchObject({ url, sha256: sha, active: false, name: manifest.name, totalBytes });
    expect(stopped!.receivedBytes).toBeGreaterThan(0);
    expect(stopped!.receivedBytes).toBeLessThan(totalBytes);

    const before = requestsUnder(base).length;
    const model = await downloads.download(url, sha);
    expect(model.id).toBe(FIXTURE_ID);
    const again = requestsUnder(base).slice(before);
    const done = fileNames.slice(0, fileNames.indexOf(big));
    expect(done.length).toBeGreaterThan(0);
    expect(again.filter((r) => done.some((f) => r.path === `${base}${f}`))).toEqual([]);
    expect(again.find((r) => r.path === `${base}${big}`)).toMatchObject({ status: 206 });
  });

  it('refuses a manifest that does not match the given sha256 and keeps nothing', async () => {
    const { url } = publish();
    const { home, downloads } = manager();
    await expect(downloads.download(url, 'f'.repeat(64))).rejects.toThrow(code('DOWNLOAD_FAILED'));
    expect(readdirSync(path.join(home, 'models', '.downloads'))).toEqual([]);
    expect(await downloads.list()).toEqual([]);
  });

  it('checks free disk before fetching any file', async () => {
    const { url, sha, base } = publish((m) => ({
      ...m,
      files: { ...m.files, 'lm_step.onnx': { ...m.files['lm_step.onnx'], bytes: 2 ** 52 } },
    }));
    const { downloads } = manager();
    await expect(downloads.download(url, sha)).rejects.toThrow(code('DISK_FULL'));
    expect(requestsUnder(base).map((r) => r.path)).toEqual([`${base}vgt-bundle.json`]);
  });

  it('cancels, keeps the partial bundle for a resume, and discards it on request', async () => {
    const { url, sha, base } = publish();
    const { downloads, events } = manager();
    server.plan(`${base}lm_step.onnx`, { kind: 'stall', after: 10_000 });
    const run = downloads.download(url, sha);
    const id = downloadIdOf(url, sha);
    while (!events.some((e) => e.file === 'lm_step.onnx' && e.receivedBytes > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await downloads.cancel(id, false)).toBe(true);
    await expect(run).rejects.toThrow(code('CANCELLED'));
    expect(events.at(-1)?.phase).toBe('cancelled');
    expect(await downloads.list()).toEqual([expect.objectContaining({ downloadId: id, active: false })]);
    expect(await downloads.cancel(id, true)).toBe(true);
    expect(await downloads.list()).toEqual([]);
    expect(await downloads.cancel(id, true)).toBe(false);
  });

  it('works through the contract (events on the hub) and `vgt models download --json`', async () => {
    const first = publish();
    const home = path.join(tempDir('bundle-dl'), 'home');
    const studio = createStudio({ home, mode: 'web' });
    const seen: Array<string> = [];
    studio.events.subscribe((event) => {
      if (event.type === 'models.download') seen.push(event.data.phase);
    });
    const result = await studio.handle('models.download', { url: first.url, sha256: first.sha.toUpperCase() });
    expect(result).toMatchObject({ ok: true, value: { model: { id: FIXTURE_ID } } });
    expect(seen.at(-1)).toBe('done');
    const again = await studio.handle('models.download', { url: first.url, sha256: first.sha });
    expect(again).toMatchObject({ ok: false, error: { code: 'MODEL_EXISTS' } });
    expect(await studio.handle('models.download', { url: 'http://example.com/x', sha256: first.sha })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    });

    const second = publish();
    let out = '';
    let err = '';
    const io = {
      stdout: (t: string) => (out += t),
      stderr: (t: string) => (err += t),
      env: { VGT_STUDIO_HOME: path.join(tempDir('bundle-cli'), 'home') },
    };
    expect(await main(['models', 'download', second.url, '--sha256', second.sha, '--json'], io)).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).model).toMatchObject({ id: FIXTURE_ID, sizeBytes: expect.any(Number) });
    expect(err).toMatch(/done/);
    expect(existsSync(path.join(io.env.VGT_STUDIO_HOME, 'models', FIXTURE_ID, 'vgt-bundle.json'))).toBe(true);
  });
});
