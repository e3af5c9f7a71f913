#!/usr/bin/env node
// A full-size VGT through the studio's engine on this machine's CPU: builds a random-weight bundle of the official
// internvl3_1_6b architecture (float16, ONNX external data; native-models `python -m vgt.fullsize_bundle`), validates
// it, imports it with `vgt models import --link` into a scratch data folder, loads it, and generates one 448 px image
// at each k. Prints load time, ms per image and per LM step, the peak RSS of each step, and the weight-streaming limit
// (LM weight bytes × LM calls ÷ this machine's measured memory bandwidth) beside the measured time. Not part of
// `npm test` (its reduced depth had not finished after 57 min on the shared 2-core machine).
//
// Full depth (the default, 28 LM layers) is not exported from PyTorch (a 28-layer float32 export needs more memory
// than a 24 GB machine has): the script exports `--base-layers` (default 2) layers at full width, then deepens that
// bundle's lm_step to the full depth by ONNX graph surgery (`vgt.fullsize_bundle --deepen-from`, fresh seeded
// weights for the new layers). Both bundles are kept under native-models/checkpoints/ (git-ignored) between runs.
// `--layers N` with N <= --base-layers exports N layers directly.
//
//   node scripts/fullsize-engine.mjs [--layers 28] [--base-layers 2] [--k 16,1] [--steps 30] [--out DIR] [--threads N] [--json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';

register();
const ROOT = path.resolve(import.meta.dirname, '..');
const NATIVE = path.join(ROOT, 'native-models');
const { values } = parseArgs({
  options: {
    layers: { type: 'string' },
    'base-layers': { type: 'string', default: '2' },
    k: { type: 'string', default: '16,1' },
    steps: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const python = process.env.VGT_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const FULL_LAYERS = 28; // internvl3_1_6b's LM
const layers = values.layers ? Number(values.layers) : FULL_LAYERS;
const baseLayers = Number(values['base-layers']);
const bundleDir = (n) => path.join(NATIVE, 'checkpoints', `fullsize-l${n}`);
const out = path.resolve(values.out ?? bundleDir(layers));
const say = (text) => values.json || process.stderr.write(text + '\n');
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const MB = (bytes) => Math.round(bytes / 2 ** 20);
// Peak RSS per step: the Python steps' own (their JSON), then this process's (the engine runs in its worker thread,
// so in this process): its peak so far after each step, and its RSS at that moment.
const memory = {};
const mark = (step) => {
  memory[step] = { peakRssMB: MB(process.resourceUsage().maxRSS * 1024), rssMB: MB(process.memoryUsage().rss) };
  say(`${step}: peak RSS so far ${memory[step].peakRssMB} MB (now ${memory[step].rssMB} MB)`);
};
const pythonJson = (args) =>
  JSON.parse(
    execFileSync(python, args, { cwd: NATIVE, encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
      .pop(),
  );

// 1. The bundle (kept between runs: building it is the slow part).
let build = null;
let deepen = null;
if (!existsSync(path.join(out, 'vgt-bundle.json'))) {
  const direct = layers <= baseLayers;
  const base = direct ? out : bundleDir(baseLayers);
  if (!existsSync(path.join(base, 'vgt-bundle.json'))) {
    say(`building ${base} (${direct ? layers : baseLayers} LM layers, exported from PyTorch) …`);
    build = pythonJson([
      '-m',
      'vgt.fullsize_bundle',
      '--out',
      base,
      '--json',
      '--layers',
      String(direct ? layers : baseLayers),
    ]);
    memory.build = { peakRssMB: build.peakRssMB };
    say(`built: ${JSON.stringify(build)}`);
  }
  if (!direct) {
    say(`deepening ${base} to ${layers} LM layers in ${out} …`);
    deepen = pythonJson([
      '-m',
      'vgt.fullsize_bundle',
      '--deepen-from',
      base,
      '--out',
      out,
      '--layers',
      String(layers),
      '--json',
    ]);
    memory.deepen = { peakRssMB: deepen.peakRssMB };
    say(`deepened: ${JSON.stringify(deepen)}`);
  }
}
// 2. Validation, as `python -m vgt.bundle DIR --deep` does (sizes, sha256, numbers, graph I/O names and dims; it reads
// no weights, so it is memory-safe at any depth), with its peak RSS.
const validate = pythonJson([
  '-c',
  'import json, resource, sys; from vgt.bundle import main; rc = main([sys.argv[1], "--deep"]); ' +
    'print(json.dumps({"rc": rc, "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))',
  out,
]);
if (validate.rc !== 0) throw new Error(`${out} is not a valid bundle`);
memory.validate = { peakRssMB: validate.peakRssMB };
say(`validated ${out} (peak RSS ${validate.peakRssMB} MB)`);

const { main } = await import('../electron/cli/main.ts');
const { createStudio } = await import('../electron/core/studio.ts');
const { validateBundle } = await import('../electron/engine/bundle.ts');

// 3. Import --link into a scratch data folder.
const home = mkdtempSync(path.join(tmpdir(), 'vgt-fullsize-'));
const env = { ...process.env, VGT_STUDIO_HOME: home, ...(values.threads ? { VGT_THREADS: values.threads } : {}) };
let imported = '';
const io = { stdout: (t) => (imported += t), stderr: () => undefined, env, builtinBundles: [] };
// The import validates the bundle and hashes every file (remembered in this process: the first load of the model
// finds them verified; the engine's own load is timed with the first image).
let t = performance.now();
if ((await main(['models', 'import', out, '--link', '--json'], io)) !== 0) throw new Error(`import: ${imported}`);
const importSeconds = (performance.now() - t) / 1000;
mark('import');

// 4. The bundle as the engine reads it (its hashes already verified by the import).
const bundle = await validateBundle(out, { hashes: 'verify' });

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
  say(`k = ${k}: ${JSON.stringify(images[k])}`); // as it comes: a run killed later keeps it
  mark(loadSeconds !== null && Object.keys(images).length === 1 ? `load + k=${k}` : `k=${k}`);
}
await studio.dispose();

// 6. Memory bandwidth (copying a 512 MiB buffer: read + write) and the weight-streaming limit of the LM: every LM
// call reads all its weights, resident as float32 (a float16 bundle's Casts are folded at load). Its two buffers
// (1 GiB) can raise the process's final peakRssMB above the engine's own (memory["k=…"]).
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
  deepen,
  bytes: bundle.totalBytes,
  externalData: Object.keys(manifest.files).filter((f) => f.endsWith('.data')),
  importSeconds: round(importSeconds),
  loadSeconds: round(loadSeconds),
  steps,
  images,
  lmWeightBytesResident: lmWeightBytes,
  bandwidthGBs: round(bandwidthGBs),
  peakRssMB: round(process.resourceUsage().maxRSS / 1024),
  memory,
  loadAverage: os.loadavg().map((x) => round(x, 2)),
};
process.stdout.write(JSON.stringify(result, null, values.json ? 0 : 2) + '\n');
rmSync(home, { recursive: true, force: true });
