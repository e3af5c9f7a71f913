// VGT model bundles (native-models/BUNDLE.md): the manifest's schema, the files it lists, their sizes and hashes, and
// the consistency of its numbers. Every problem is collected and reported at once, the way `python -m vgt.bundle` does.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { EditContextSchema } from '../common/api/generation';
import { StudioError } from '../common/errors';

export const MANIFEST_NAME = 'vgt-bundle.json';
export const BUNDLE_FORMAT = 'vgt-bundle';
export const SUPPORTED_FORMAT_VERSIONS: ReadonlyArray<number> = [1];

export const REQUIRED_ROLES = [
  'tokenizer',
  'token_embedding',
  'lm_step',
  'latent_in',
  'head_cond',
  'head_velocity',
  'vgtae_decode',
  'query_table',
  'pos_table',
] as const;
export const KNOWN_ROLES = [...REQUIRED_ROLES, 'vgtae_encode', 'head_sde', 'head_fused', 'onnx_external_data'] as const;
export type BundleRole = (typeof KNOWN_ROLES)[number];

const RAW_DTYPES = { float32: 4, float16: 2 } as const;
type RawDtype = keyof typeof RAW_DTYPES;

const positiveInt = z.number().int().positive();
const gridSchema = z.tuple([positiveInt, positiveInt]);
export type Grid = z.infer<typeof gridSchema>;

const fileEntrySchema = z.looseObject({
  role: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
  bytes: z.number().int().min(0),
  dtype: z.string().optional(),
  shape: z.array(z.number().int().min(0)).optional(),
  grid: gridSchema.optional(),
  graph: z.string().optional(),
  /** head_sde: the SDE steps unrolled in the graph. */
  steps: z.number().int().optional(),
});
export type BundleFileEntry = z.infer<typeof fileEntrySchema>;

export const ManifestSchema = z.looseObject({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.number().int(),
  name: z.string().min(1),
  id: z.string().min(1),
  licence: z.string().min(1),
  description: z.string().optional(),
  dtype: z.enum(['float32', 'float16']),
  architecture: z.looseObject({
    config: z.string().optional(),
    hidden: positiveInt,
    layers: positiveInt,
    heads: positiveInt,
    kvHeads: positiveInt,
    headDim: positiveInt,
    ffn: positiveInt,
    ropeTheta: z.number().positive(),
    rmsEps: z.number().positive(),
    vocabSize: positiveInt,
    dZ: positiveInt,
    headWidth: positiveInt,
    headLayers: positiveInt,
    headFreqDim: positiveInt,
    maxGrid: gridSchema,
    latentLnEps: z.number().positive(),
    aeEncoder: z.string().optional(),
  }),
  image: z.looseObject({
    size: positiveInt,
    grid: gridSchema,
    stride: positiveInt,
    grids: z.array(gridSchema).min(1).optional(),
    /** RoPE positions of image tokens: the sequence index (the default, the reference) or the grid cell. */
    positions: z.enum(['sequence', 'grid', 'grid2d']).optional(),
  }),
  prompt: z.looseObject({
    template: z.string().includes('{prompt}', { message: "must contain '{prompt}'" }),
    unconditional: z.string(),
    imgToken: z.string(),
    imgTokenIds: z.array(z.number().int().min(0)).min(1),
    padTokenId: z.number().int().min(0),
    specialTokens: z.record(z.string(), z.number().int().min(0)),
    /** Optional: the longest prompt (in tokens) the model was trained on. */
    maxTokens: positiveInt.optional(),
    /** Pads of the shorter row: masked in every LM call (the default), or in the prefill only (the reference). */
    padMask: z.enum(['always', 'prefill']).optional(),
  }),
  sampling: z.looseObject({
    steps: positiveInt,
    cfg: z.number().min(0),
    cfgSchedule: z.enum(['linear', 'constant']),
    tokensPerStep: positiveInt,
    order: z.enum(['random', 'raster']),
    timeGrid: z.string().optional(),
    lastStep: z.number().optional(),
    /** What an edit's model sees besides the prompt when the request does not say: `all` (the default) or `none`. */
    editContext: EditContextSchema.optional(),
  }),
  source: z.record(z.string(), z.unknown()).optional(),
  /** Optional linear latent → RGB map for instant previews (BUNDLE.md, "Instant previews"). */
  preview: z
    .looseObject({
      latentRgb: z.looseObject({ weights: z.array(z.number()), bias: z.array(z.number()).length(3) }).optional(),
    })
    .optional(),
  files: z.record(z.string(), fileEntrySchema).refine((files) => Object.keys(files).length > 0, 'must not be empty'),
});
export type BundleManifest = z.infer<typeof ManifestSchema>;

/** A bundle that failed validation; `problems` lists every reason, the message joins them. */
export class BundleError extends StudioError {
  readonly problems: ReadonlyArray<string>;

  constructor(dir: string, problems: ReadonlyArray<string>) {
    const shown = problems.slice(0, 8).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
    super('MODEL_INVALID', `The model bundle at ${dir} is invalid: ${shown}`);
    this.name = 'BundleError';
    this.problems = problems;
  }
}

export type Bundle = Readonly<{
  /** Absolute path of the bundle folder. */
  dir: string;
  manifest: BundleManifest;
  /** Sum of the listed files' sizes. */
  totalBytes: number;
  /** Whether every listed file's sha256 has been checked (this process or the hash cache). */
  hashesVerified: boolean;
}>;

export type ValidateOptions = Readonly<{
  /**
   * `verify`: hash every file not already verified (in memory or in `cacheFile`) — what loading a model does;
   * `skip`: manifest, presence and sizes only — cheap enough for listing models.
   */
  hashes?: 'verify' | 'skip';
  /** A JSON file remembering verified hashes across runs, keyed by path, size and mtime. */
  cacheFile?: string;
}>;

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.');
}

/** Reads and schema-checks the manifest; throws BundleError with every schema problem. */
export async function readManifest(dir: string): Promise<BundleManifest> {
  const root = path.resolve(dir);
  let text: string;
  try {
    text = await readFile(path.join(root, MANIFEST_NAME), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BundleError(root, [
      code === 'ENOENT' ? `${MANIFEST_NAME} not found` : `${MANIFEST_NAME} cannot be read (${code ?? 'error'})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BundleError(root, [`${MANIFEST_NAME} is not valid JSON: ${(error as Error).message}`]);
  }
  const head = raw as { format?: unknown; formatVersion?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== BUNDLE_FORMAT) {
    throw new BundleError(root, [`format is ${JSON.stringify(head?.format)}, expected "${BUNDLE_FORMAT}"`]);
  }
  if (!SUPPORTED_FORMAT_VERSIONS.includes(head.formatVersion as number)) {
    throw new BundleError(root, [
      `unknown formatVersion ${JSON.stringify(head.formatVersion)} (this studio reads ${SUPPORTED_FORMAT_VERSIONS.join(', ')}); a newer VGT Studio may read it`,
    ]);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BundleError(
      root,
      parsed.error.issues.map((issue) => `${issuePath(issue) || 'manifest'}: ${issue.message}`),
    );
  }
  return parsed.data;
}

/** The grids a bundle supports (image.grids, defaulting to image.grid). */
export function bundleGrids(manifest: BundleManifest): ReadonlyArray<Grid> {
  return manifest.image.grids ?? [manifest.image.grid];
}

const sameGrid = (a: ReadonlyArray<number> | undefined, b: ReadonlyArray<number>): boolean =>
  a !== undefined && a[0] === b[0] && a[1] === b[1];

/** Cross-field consistency (sizes, grids, shapes, token ids), as vgt/bundle.py `_check_numbers`. */
export function checkNumbers(m: BundleManifest): Array<string> {
  const problems: Array<string> = [];
  const a = m.architecture;
  if (a.heads % a.kvHeads !== 0)
    problems.push(`architecture.heads (${a.heads}) is not a multiple of kvHeads (${a.kvHeads})`);
  if (a.headDim % 2 !== 0) problems.push(`architecture.headDim (${a.headDim}) must be even (RoPE)`);
  const { size, stride, grid } = m.image;
  if (size !== stride * grid[0] || size !== stride * grid[1]) {
    problems.push(`image.size (${size}) != image.stride (${stride}) x image.grid (${grid.join('x')})`);
  }
  const grids = bundleGrids(m);
  if (!grids.some((g) => sameGrid(g, grid))) problems.push(`image.grid ${grid.join('x')} is not in image.grids`);
  for (const g of grids) {
    if (g[0] > a.maxGrid[0] || g[1] > a.maxGrid[1]) {
      problems.push(`grid ${g.join('x')} exceeds architecture.maxGrid ${a.maxGrid.join('x')}`);
    }
  }
  const p = m.prompt;
  if (p.padTokenId >= a.vocabSize)
    problems.push(`prompt.padTokenId ${p.padTokenId} outside vocabulary of ${a.vocabSize}`);
  for (const id of p.imgTokenIds) {
    if (id >= a.vocabSize) problems.push(`prompt.imgTokenIds has ${id}, outside vocabulary of ${a.vocabSize}`);
  }
  for (const [token, id] of Object.entries(p.specialTokens)) {
    if (id >= a.vocabSize)
      problems.push(`prompt.specialTokens ${token} = ${id} is outside vocabulary of ${a.vocabSize}`);
  }
  const latentRgb = m.preview?.latentRgb;
  if (latentRgb && latentRgb.weights.length !== 3 * a.dZ) {
    problems.push(`preview.latentRgb.weights has ${latentRgb.weights.length} values, not 3 x dZ (${3 * a.dZ})`);
  }
  const roles = new Set<string>();
  for (const [rel, e] of Object.entries(m.files)) {
    roles.add(e.role);
    const normalized = rel.replace(/\\/g, '/');
    if (path.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel) || normalized.split('/').includes('..')) {
      problems.push(`${rel}: file paths must be relative and inside the bundle`);
    }
    if (!(KNOWN_ROLES as ReadonlyArray<string>).includes(e.role)) problems.push(`${rel}: unknown role "${e.role}"`);
    const isRaw = !rel.endsWith('.onnx') && e.role !== 'tokenizer' && e.role !== 'onnx_external_data';
    if (isRaw) {
      if (e.dtype === undefined || !(e.dtype in RAW_DTYPES) || e.shape === undefined) {
        problems.push(`${rel}: a raw tensor needs dtype float32|float16 and a shape`);
      } else {
        const need = e.shape.reduce((x, y) => x * y, 1) * RAW_DTYPES[e.dtype as RawDtype];
        if (need !== e.bytes)
          problems.push(`${rel}: ${e.bytes} bytes but ${e.dtype} x [${e.shape.join(', ')}] needs ${need}`);
      }
    }
    if (e.role === 'token_embedding' && !sameShape(e.shape, [a.vocabSize, a.hidden])) {
      problems.push(`${rel}: shape [${e.shape?.join(', ')}] != [vocabSize ${a.vocabSize}, hidden ${a.hidden}]`);
    }
    if (e.role === 'query_table' || e.role === 'pos_table') {
      const g = e.grid;
      if (g === undefined || !grids.some((x) => sameGrid(x, g))) {
        problems.push(`${rel}: grid ${g?.join('x') ?? 'missing'} not in image.grids`);
      } else if (!sameShape(e.shape, [g[0] * g[1], a.hidden])) {
        problems.push(`${rel}: shape [${e.shape?.join(', ')}] != [${g[0] * g[1]}, hidden ${a.hidden}]`);
      }
    }
    if (e.role === 'head_sde' && (e.steps === undefined || e.steps < 2)) {
      problems.push(`${rel}: head_sde needs its unrolled step count, steps >= 2`);
    }
    if (e.role === 'onnx_external_data' && (e.graph === undefined || m.files[e.graph] === undefined)) {
      problems.push(`${rel}: external data must name its graph ("graph"), listed in files`);
    }
  }
  for (const role of REQUIRED_ROLES) {
    if (!roles.has(role)) problems.push(`no file with role "${role}"`);
  }
  for (const g of grids) {
    for (const role of ['query_table', 'pos_table'] as const) {
      if (!Object.values(m.files).some((e) => e.role === role && sameGrid(e.grid, g))) {
        problems.push(`no ${role} for grid ${g.join('x')}`);
      }
    }
  }
  return problems;
}

function sameShape(a: ReadonlyArray<number> | undefined, b: ReadonlyArray<number>): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

type HashRecord = Readonly<{ size: number; mtimeMs: number; sha256: string }>;

/** Verified hashes of this process, by absolute path: a file is hashed once unless it changes. */
const verified = new Map<string, HashRecord>();

async function loadHashCache(cacheFile: string | undefined): Promise<Record<string, HashRecord>> {
  if (!cacheFile) return {};
  try {
    const parsed = JSON.parse(await readFile(cacheFile, 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, HashRecord>) : {};
  } catch {
    return {};
  }
}

async function saveHashCache(cacheFile: string, records: Record<string, HashRecord>): Promise<void> {
  await mkdir(path.dirname(cacheFile), { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(records));
  await rename(tmp, cacheFile);
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Validates a bundle folder: manifest schema and numbers, every listed file present with its size, and (unless
 * `hashes: 'skip'`) its sha256 — verified once per file and remembered while the file keeps its size and mtime.
 * Throws BundleError (code MODEL_INVALID) listing every problem.
 */
export async function validateBundle(dir: string, options: ValidateOptions = {}): Promise<Bundle> {
  const root = path.resolve(dir);
  const manifest = await readManifest(root);
  const problems = checkNumbers(manifest);
  const present: Array<[string, string, HashRecord]> = [];
  let totalBytes = 0;
  for (const [rel, entry] of Object.entries(manifest.files)) {
    totalBytes += entry.bytes;
    if (problems.some((p) => p.startsWith(`${rel}: file paths`))) continue;
    const file = path.join(root, rel);
    try {
      const info = await stat(file);
      if (!info.isFile()) problems.push(`${rel}: not a file`);
      else if (info.size !== entry.bytes) problems.push(`${rel}: ${info.size} bytes, the manifest says ${entry.bytes}`);
      else present.push([rel, file, { size: info.size, mtimeMs: info.mtimeMs, sha256: entry.sha256 }]);
    } catch {
      problems.push(`${rel}: file missing`);
    }
  }
  if (problems.length > 0) throw new BundleError(root, problems);

  const fresh = (file: string, want: HashRecord, known: HashRecord | undefined): boolean =>
    known !== undefined && known.size === want.size && known.mtimeMs === want.mtimeMs && known.sha256 === want.sha256;
  let hashesVerified = present.every(([, file, want]) => fresh(file, want, verified.get(file)));
  if (options.hashes !== 'skip' && !hashesVerified) {
    const cache = await loadHashCache(options.cacheFile);
    for (const [rel, file, want] of present) {
      if (fresh(file, want, verified.get(file))) continue;
      if (!fresh(file, want, cache[file])) {
        const actual = await sha256File(file);
        if (actual !== want.sha256) {
          problems.push(
            `${rel}: sha256 mismatch (manifest ${want.sha256.slice(0, 12)}…, file ${actual.slice(0, 12)}…)`,
          );
          continue;
        }
      }
      verified.set(file, want);
      cache[file] = want;
    }
    if (problems.length > 0) throw new BundleError(root, problems);
    if (options.cacheFile) await saveHashCache(options.cacheFile, cache).catch(() => undefined);
    hashesVerified = true;
  }
  return { dir: root, manifest, totalBytes, hashesVerified };
}

/** The manifest entry of a role (for tables: of a grid), with its absolute path. */
export function bundleEntry(
  bundle: Bundle,
  role: BundleRole,
  grid?: Grid,
): Readonly<{ rel: string; file: string; entry: BundleFileEntry }> {
  for (const [rel, entry] of Object.entries(bundle.manifest.files)) {
    if (entry.role === role && (grid === undefined || sameGrid(entry.grid, grid))) {
      return { rel, file: path.join(bundle.dir, rel), entry };
    }
  }
  throw new BundleError(bundle.dir, [`no file with role "${role}"${grid ? ` for grid ${grid.join('x')}` : ''}`]);
}

export function hasRole(bundle: Bundle, role: BundleRole): boolean {
  return Object.values(bundle.manifest.files).some((entry) => entry.role === role);
}

/** Reads a raw little-endian table as float32 (float16 tables are widened). */
export async function readRawTensor(bundle: Bundle, role: BundleRole, grid?: Grid): Promise<Float32Array> {
  const { file, entry } = bundleEntry(bundle, role, grid);
  const bytes = await readFile(file);
  if (entry.dtype === 'float16') return float16ToFloat32(bytes);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function float16ToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) {
    const h = view.getUint16(2 * i, true);
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] =
      exp === 0
        ? sign * 2 ** -14 * (frac / 1024)
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}
