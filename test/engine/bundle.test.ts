import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BundleError, bundleEntry, readManifest, readRawTensor, validateBundle } from '../../electron/engine/bundle';
import { loadTables } from '../../electron/engine/model';

const TINY = path.resolve('test/fixtures/tiny-bundle');
const temps: Array<string> = [];

async function copyTiny(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vgt-bundle-'));
  temps.push(dir);
  await cp(TINY, dir, { recursive: true });
  return dir;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are edited as loose JSON to break them
async function editManifest(dir: string, edit: (m: any) => void): Promise<void> {
  const file = path.join(dir, 'vgt-bundle.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  edit(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

async function problemsOf(dir: string, hashes: 'verify' | 'skip' = 'verify'): Promise<ReadonlyArray<string>> {
  const error = await validateBundle(dir, { hashes }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  expect((error as BundleError).code).toBe('MODEL_INVALID');
  return (error as BundleError).problems;
}

afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('bundle validation', () => {
  it('accepts the tiny bundle and reads its tables', async () => {
    const bundle = await validateBundle(TINY);
    expect(bundle.hashesVerified).toBe(true);
    expect(bundle.manifest.id).toBe('vgt-tiny-test');
    const table = await readRawTensor(bundle, 'query_table', [8, 8]);
    expect(table.length).toBe(64 * 48);
    expect(bundleEntry(bundle, 'lm_step').rel).toBe('lm_step.onnx');
  });

  it('reports a wrong hash, and a skipped check does not hide it later', async () => {
    const dir = await copyTiny();
    const file = path.join(dir, 'head_cond.onnx');
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(file, bytes);
    expect((await validateBundle(dir, { hashes: 'skip' })).hashesVerified).toBe(false);
    expect(await problemsOf(dir)).toEqual([expect.stringMatching(/^head_cond\.onnx: sha256 mismatch/)]);
  });

  it('reports a missing graph and a truncated table together', async () => {
    const dir = await copyTiny();
    await unlink(path.join(dir, 'vgtae_decode.onnx'));
    await truncate(path.join(dir, 'pos_8x8.bin'), 100);
    const problems = await problemsOf(dir, 'skip');
    expect(problems).toContain('vgtae_decode.onnx: file missing');
    expect(problems).toContain('pos_8x8.bin: 100 bytes, the manifest says 12288');
  });

  it('refuses unknown formats and versions, bad JSON and a missing manifest', async () => {
    const dir = await copyTiny();
    await editManifest(dir, (m) => (m.formatVersion = 2));
    expect((await problemsOf(dir))[0]).toMatch(/unknown formatVersion 2/);
    await editManifest(dir, (m) => (m.format = 'gguf'));
    expect((await problemsOf(dir))[0]).toMatch(/format is "gguf"/);
    await writeFile(path.join(dir, 'vgt-bundle.json'), '{"format": ');
    expect((await problemsOf(dir))[0]).toMatch(/not valid JSON/);
    await unlink(path.join(dir, 'vgt-bundle.json'));
    expect(await problemsOf(dir)).toEqual(['vgt-bundle.json not found']);
  });

  it('checks that the numbers agree', async () => {
    const dir = await copyTiny();
    await editManifest(dir, (m) => {
      m.image.size = 50;
      m.architecture.kvHeads = 3;
      m.prompt.padTokenId = 999;
      m.files['embed_tokens.bin'].shape = [144, 48];
      m.files['../escape.bin'] = { role: 'pos_table', sha256: '0'.repeat(64), bytes: 1 };
      delete m.files['latent_in.onnx'];
      m.preview.latentRgb.weights.pop();
    });
    const problems = await problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        'preview.latentRgb.weights has 23 values, not 3 x dZ (24)',
        'image.size (50) != image.stride (6) x image.grid (8x8)',
        'architecture.heads (4) is not a multiple of kvHeads (3)',
        'prompt.padTokenId 999 outside vocabulary of 145',
        expect.stringMatching(/^embed_tokens\.bin: 27840 bytes but float32 x \[144, 48\] needs 27648/),
        '../escape.bin: file paths must be relative and inside the bundle',
        'no file with role "latent_in"',
      ]),
    );
  });

  it('reports schema problems by their path', async () => {
    const dir = await copyTiny();
    await editManifest(dir, (m) => {
      m.sampling.cfgSchedule = 'cosine';
      m.prompt.template = 'no placeholder';
      m.prompt.padMask = 'sometimes';
    });
    const problems = await problemsOf(dir);
    expect(problems.some((p) => p.startsWith('sampling.cfgSchedule:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('prompt.template:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('prompt.padMask:'))).toBe(true);
  });

  it('reads the edit context: absent in older bundles, all or none, anything else refused by its path', async () => {
    expect((await validateBundle(TINY)).manifest.sampling.editContext).toBeUndefined();
    const dir = await copyTiny();
    await editManifest(dir, (m) => (m.sampling.editContext = 'none'));
    expect((await validateBundle(dir, { hashes: 'skip' })).manifest.sampling.editContext).toBe('none');
    await editManifest(dir, (m) => (m.sampling.editContext = 'some'));
    const problems = await problemsOf(dir, 'skip');
    expect(problems).toEqual([expect.stringMatching(/^sampling\.editContext: .*"all".*"none"/)]);
  });

  it('the shipped Shapes World bundle feeds an edit every kept token (its local latents carry no scene code)', async () => {
    const shipped = await readManifest(path.resolve('native-models/bundles/vgt-shapes'));
    expect(shipped.sampling.editContext).toBe('all');
  });

  it('reads the pad mask: absent means always (older bundles), prefill for the reference', async () => {
    expect((await loadTables(await validateBundle(TINY))).padMask).toBe('always');
    const dir = await copyTiny();
    await editManifest(dir, (m) => (m.prompt.padMask = 'prefill'));
    expect((await loadTables(await validateBundle(dir, { hashes: 'skip' }))).padMask).toBe('prefill');
  });
});
