#!/usr/bin/env node
// A full-size VGT through the studio's engine on this machine's CPU: builds a random-weight bundle of the official
// internvl3_1_6b architecture (float16, ONNX external data; native-models `python -m vgt.fullsize_bundle`), validates
// it, imports it with `vgt models import --link` into a scratch data folder, loads it, and generates one 448 px image
// at each k. Prints load time, ms per image and per LM step, peak RSS, and the weight-streaming limit (LM weight
// bytes × LM calls ÷ this machine's measured memory bandwidth) beside the measured time. Not part of `npm test`
// (its reduced depth had not finished after 57 min on the shared 2-core machine); `--layers 2`: reduced depth, full width.
//
//   node scripts/fullsize-engine.mjs --layers 2 [--k 16,1] [--steps 30] [--out DIR] [--threads N] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const ROOT = path.resolve(import.meta.dirname, '..');
const NATIVE = path.join(ROOT, 'native-models');
const { values } = parseArgs({
  options: {
    layers: { type: 'string' },
    k: { type: 'string', default: '16,1' },
    steps: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const python = process.env.VGT_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const layers = values.layers ? Number(values.layers) : null;
const out = path.resolve(values.out ?? path.join(NATIVE, 'checkpoints', `fullsize-l${layers ?? 'all'}`));
const say = (text) => values.json || process.stderr.write(text + '\n');
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// 1. The bundle (kept between runs: building it is the slow part).
let build = null;
if (!existsSync(path.join(out, 'vgt-bundle.json'))) {
  say(`building ${out} …`);
  const args = ['-m', 'vgt.fullsize_bundle', '--out', out, '--json', ...(layers ? ['--layers', String(layers)] : [])];
  build = JSON.parse(execFileSync(python, args, { cwd: NATIVE, encoding: 'utf8', maxBuffer: 1 << 24 }).trim());
}
// 2. Validation, as `python -m vgt.bundle DIR --deep` does (graph I/O names and dims too).
say(execFileSync(python, ['-m', 'vgt.bundle', out, '--deep'], { cwd: NATIVE, encoding: 'utf8' }).trim());

const { main } = await import('../electron/cli/main.ts');
const { createStudio } = await import('../electron/core/studio.ts');
const { validateBundle } = await import('../electron/engine/bundle.ts');

// 3. Import --link into a scratch data folder.
const home = mkdtempSync(path.join(tmpdir(), 'vgt-fullsize-'));
const env = { ...process.env, VGT_STUDIO_HOME: home, ...(values.threads ? { VGT_THREADS: values.threads } : {}) };
let imported = '';
const io = { stdout: (t) => (imported += t), stderr: () => undefined, env, builtinBundles: [] };
if ((await main(['models', 'import', out, '--link', '--json'], io)) !== 0) throw new Error(`import: ${imported}`);

// 4. Hashing every file, which the first load of a model does (the engine's own load is timed with the first image).
let t = performance.now();
const bundle = await validateBundle(out, { hashes: 'verify' });
const hashSeconds = (performance.now() - t) / 1000;

// 5. One image per k through the studio's runner (its worker thread, as the app runs it).
const studio = createStudio({ home, mode: 'cli', builtinBundles: [], env });
const { runner } = studio.services;
const manifest = bundle.manifest;
const steps = values.steps ? Number(values.steps) : manifest.sampling.steps;
const images = {};
let loadSeconds = null;
for (const k of values.k.split(',').map(Number)) {
  say(`generating at k = ${k} (${steps} steps) …`);
  t = performance.now();
  const outcome = await runner.direct({
    prompt: 'a red circle left of a blue square',
    model: manifest.id, // the linked import, through the registry
    sampling: { tokensPerStep: k, steps },
    seeds: [0],
    orderSeeds: [0],
    previews: false,
  });
  if (outcome.status !== 'done') throw new Error(`generation at k=${k}: ${outcome.status}`);
  // The engine's `seconds` leaves out loading the model, which the first call does (hashes, sessions, warm-up).
  const ms = outcome.seconds * 1000;
  loadSeconds ??= (performance.now() - t) / 1000 - outcome.seconds;
  const lm = outcome.graphTime.lm_step ?? { ms: 0, runs: 0 };
  images[k] = {
    msPerImage: round(ms),
    lmCalls: lm.runs,
    msPerLmStep: round(lm.ms / Math.max(1, lm.runs)),
    graphMs: {},
  };
  for (const [role, g] of Object.entries(outcome.graphTime)) images[k].graphMs[role] = round(g.ms);
}
await studio.dispose();

// 6. Memory bandwidth (copying a 512 MiB buffer: read + write) and the weight-streaming limit of the LM: every LM
// call reads all its weights, resident as float32 (a float16 bundle's Casts are folded at load).
const a = new Float64Array(64 << 20);
const b = new Float64Array(64 << 20);
a.fill(1);
let best = Infinity;
for (let i = 0; i < 5; i++) {
  const s = performance.now();
  b.set(a);
  best = Math.min(best, performance.now() - s);
}
const bandwidthGBs = (2 * a.byteLength) / (best / 1000) / 1e9;
const lmFiles = Object.values(manifest.files).filter((e) => e.role === 'lm_step' || e.graph === 'lm_step.onnx');
const lmWeightBytes = lmFiles.reduce((sum, e) => sum + e.bytes, 0) * (manifest.dtype === 'float16' ? 2 : 1);
for (const r of Object.values(images))
  r.weightStreamingLimitMs = round((lmWeightBytes * r.lmCalls) / bandwidthGBs / 1e6);

const result = {
  bundle: out,
  layers: manifest.architecture.layers,
  build,
  bytes: bundle.totalBytes,
  externalData: Object.keys(manifest.files).filter((f) => f.endsWith('.data')),
  hashSeconds: round(hashSeconds),
  loadSeconds: round(loadSeconds),
  steps,
  images,
  lmWeightBytesResident: lmWeightBytes,
  bandwidthGBs: round(bandwidthGBs),
  peakRssMB: round(process.resourceUsage().maxRSS / 1024),
};
process.stdout.write(JSON.stringify(result, null, values.json ? 0 : 2) + '\n');
rmSync(home, { recursive: true, force: true });
