// doctor names the model a plain generation would use: the default bundle, or none.
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStudio } from '../../electron/core/studio';

const tinyBundle = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');

describe('doctor', () => {
  it('reports no model when none is installed or built in', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'vgt-doctor-'));
    const studio = createStudio({ home, mode: 'cli', builtinBundles: [] });
    const result = await studio.handle('doctor', {});
    expect(result).toMatchObject({ ok: true, value: { model: null, dataDir: home } });
    await studio.dispose();
  });

  it('reports the default model when a bundle is built in', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'vgt-doctor-'));
    const bundles = path.join(base, 'bundles');
    mkdirSync(bundles);
    cpSync(tinyBundle, path.join(bundles, 'tiny'), { recursive: true });
    const studio = createStudio({ home: path.join(base, 'home'), mode: 'cli', builtinBundles: [bundles] });
    const result = await studio.handle('doctor', {});
    expect(result).toMatchObject({ ok: true, value: { model: { id: 'tiny', name: expect.stringContaining('tiny') } } });
    await studio.dispose();
  });
});
