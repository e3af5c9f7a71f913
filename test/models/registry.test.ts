// The model registry on real folders: import (copy and link), list, default, size on disk, remove, and every refusal.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../electron/models/registry';
import { FIXTURE_ID, bundleFileBytes, makeBundle, readManifestJson, tempDir } from './helpers';

function setup(builtinRoots: ReadonlyArray<string> = []) {
  const base = tempDir('registry');
  const home = path.join(base, 'home');
  return { base, home, registry: new ModelRegistry({ home, builtinRoots }) };
}

const code = (c: string) => expect.objectContaining({ code: c });

describe('model registry', () => {
  it('imports a copy: validated, listed as default with its size on disk, refused a second time', async () => {
    const { base, home, registry } = setup();
    expect(await registry.list()).toEqual([]);
    await expect(registry.resolve()).rejects.toThrow(code('MODEL_NOT_FOUND'));
    const source = makeBundle(path.join(base, 'src'));
    const model = await registry.import(source, 'copy');
    expect(model).toMatchObject({
      id: FIXTURE_ID,
      name: 'VGT tiny (random init, tests)',
      path: path.join(home, 'models', FIXTURE_ID),
      default: true,
      builtin: false,
      linked: false,
      sizeBytes: bundleFileBytes(source),
    });
    expect(model.problem).toBeUndefined();
    expect((await registry.resolve()).id).toBe(FIXTURE_ID);
    await expect(registry.import(source, 'copy')).rejects.toThrow(code('MODEL_EXISTS'));
    // Only the model folder and nothing half-done (staging folders) is left behind.
    expect(readdirSync(path.join(home, 'models'))).toEqual([FIXTURE_ID]);
  });

  it('copies only the files the manifest lists', async () => {
    const { base, home, registry } = setup();
    const source = makeBundle(path.join(base, 'src'));
    writeFileSync(path.join(source, 'notes.txt'), 'not part of the bundle');
    symlinkSync('/etc/passwd', path.join(source, 'escape'));
    await registry.import(source, 'copy');
    const copied = readdirSync(path.join(home, 'models', FIXTURE_ID));
    expect(copied.sort()).toEqual(['vgt-bundle.json', ...Object.keys(readManifestJson(source).files)].sort());
  });

  it('links a folder: the user keeps the files, removal drops only the link', async () => {
    const { base, registry } = setup();
    const source = makeBundle(path.join(base, 'mine'), 'tiny-linked');
    const model = await registry.import(source, 'link');
    expect(model).toMatchObject({ id: 'tiny-linked', linked: true, path: source, sizeBytes: bundleFileBytes(source) });
    expect(await registry.remove('tiny-linked')).toEqual({ removed: 'tiny-linked', freedBytes: 0 });
    expect(existsSync(path.join(source, 'vgt-bundle.json'))).toBe(true);
    expect(await registry.list()).toEqual([]);
  });

  it('reports a linked folder that vanished, and refuses to run it', async () => {
    const { base, registry } = setup();
    const source = makeBundle(path.join(base, 'mine'), 'tiny-gone');
    await registry.import(source, 'link');
    renameSync(source, path.join(base, 'moved'));
    const [model] = await registry.list();
    expect(model).toMatchObject({ id: 'tiny-gone', linked: true, default: false, sizeBytes: 0 });
    expect(model!.problem).toMatch(/gone|unreadable/);
    await expect(registry.resolve('tiny-gone')).rejects.toThrow(code('MODEL_INVALID'));
    await expect(registry.resolve()).rejects.toThrow(code('MODEL_NOT_FOUND'));
  });

  it('lists built-ins, prefers one as default, and keeps the user choice across restarts', async () => {
    const base = tempDir('registry');
    const builtins = path.join(base, 'bundles');
    makeBundle(path.join(builtins, 'shipped'), 'shipped');
    mkdirSync(path.join(builtins, 'not-a-bundle'));
    const home = path.join(base, 'home');
    const registry = new ModelRegistry({ home, builtinRoots: [builtins] });
    await registry.import(makeBundle(path.join(base, 'a'), 'a-user-model'), 'copy');
    let models = await registry.list();
    expect(models.map((m) => [m.id, m.builtin, m.default])).toEqual([
      ['shipped', true, true],
      ['a-user-model', false, false],
    ]);
    expect((await registry.setDefault('a-user-model')).default).toBe(true);
    models = await new ModelRegistry({ home, builtinRoots: [builtins] }).list();
    expect(models.find((m) => m.default)?.id).toBe('a-user-model');
    await expect(registry.remove('shipped')).rejects.toThrow(code('FORBIDDEN'));
    await expect(registry.import(makeBundle(path.join(base, 'b'), 'shipped'), 'copy')).rejects.toThrow(
      code('MODEL_EXISTS'),
    );
    // Removing the default falls back to the built-in.
    const before = (await registry.resolve('a-user-model')).sizeBytes;
    expect(await registry.remove('a-user-model')).toEqual({ removed: 'a-user-model', freedBytes: before });
    expect(existsSync(path.join(home, 'models', 'a-user-model'))).toBe(false);
    expect((await registry.resolve()).id).toBe('shipped');
    await expect(registry.setDefault('a-user-model')).rejects.toThrow(code('MODEL_NOT_FOUND'));
    await expect(registry.remove('a-user-model')).rejects.toThrow(code('MODEL_NOT_FOUND'));
  });

  it('refuses damaged bundles and leaves nothing behind', async () => {
    const { base, home, registry } = setup();
    const damaged = makeBundle(path.join(base, 'damaged'));
    writeFileSync(path.join(damaged, 'tokenizer.json'), '{"tampered": true}');
    await expect(registry.import(damaged, 'copy')).rejects.toThrow(code('MODEL_INVALID'));
    await expect(registry.import(damaged, 'link')).rejects.toThrow(code('MODEL_INVALID'));

    const missing = makeBundle(path.join(base, 'missing'));
    rmSync(path.join(missing, 'lm_step.onnx'));
    await expect(registry.import(missing, 'copy')).rejects.toThrow(code('MODEL_INVALID'));

    const escaping = makeBundle(path.join(base, 'escaping'));
    const manifest = readManifestJson(escaping);
    writeFileSync(
      path.join(escaping, 'vgt-bundle.json'),
      JSON.stringify({ ...manifest, files: { ...manifest.files, '../secret': { bytes: 1, sha256: 'a'.repeat(64) } } }),
    );
    await expect(registry.import(escaping, 'copy')).rejects.toThrow(code('MODEL_INVALID'));

    const empty = path.join(base, 'empty');
    mkdirSync(empty);
    await expect(registry.import(empty, 'copy')).rejects.toThrow(code('MODEL_INVALID'));
    writeFileSync(path.join(empty, 'vgt-bundle.json'), '{not json');
    await expect(registry.import(empty, 'copy')).rejects.toThrow(code('MODEL_INVALID'));
    await expect(registry.import(path.join(base, 'nowhere'), 'copy')).rejects.toThrow(code('NOT_FOUND'));

    expect(existsSync(path.join(home, 'models')) ? readdirSync(path.join(home, 'models')) : []).toEqual([]);
  });
});
