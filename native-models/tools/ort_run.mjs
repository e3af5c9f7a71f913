// Runs ONNX graphs with onnxruntime-node for the Python "ONNX vs PyTorch" checks (no ORT for Python here).
//   node ort_run.mjs JOB.json        (one job)
//   node ort_run.mjs --serve         (job file paths on stdin, one per line; "ok"/"error ..." on stdout)
// JOB.json: {"runs": [{"model": "x.onnx", "out": "dir", "inputs": {"name": {"dtype", "shape", "file"}},
//            "repeat": n (optional: time n runs after a warm-up, written to out/timing.json)}]}
// Each input file is raw little-endian data. Every output is written to out/<name>.bin, and
// out/outputs.json lists {name: {dtype, shape, file}}. Sessions are cached per model path.
// onnxruntime-node is looked up in $ORT_NODE_PATH (a node_modules folder or the package folder itself),
// then in the repository's node_modules. Exit code 3 means onnxruntime-node was not found.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function loadOrt() {
  const candidates = [];
  const env = process.env.ORT_NODE_PATH;
  if (env) {
    candidates.push(path.resolve(env));
    candidates.push(path.resolve(env, 'onnxruntime-node'));
    candidates.push(path.resolve(env, 'node_modules', 'onnxruntime-node'));
  }
  candidates.push(path.resolve(here, '..', '..', 'node_modules', 'onnxruntime-node'));
  const require = createRequire(import.meta.url);
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, 'package.json'))) return require(c);
  }
  process.stderr.write(`onnxruntime-node not found (tried: ${candidates.join(', ')})\n`);
  process.exit(3);
}

const ort = loadOrt();

const ARRAYS = {
  float32: Float32Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

function readTensor(spec) {
  const buf = fs.readFileSync(spec.file);
  const Ctor = ARRAYS[spec.dtype];
  if (!Ctor) throw new Error(`unsupported dtype ${spec.dtype}`);
  const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return new ort.Tensor(spec.dtype, new Ctor(copy), spec.shape);
}

const sessions = new Map();

async function runJob(job) {
  for (const run of job.runs) {
    let sess = sessions.get(run.model);
    if (!sess) {
      sess = await ort.InferenceSession.create(run.model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      sessions.set(run.model, sess);
    }
    const feeds = {};
    for (const [name, spec] of Object.entries(run.inputs)) feeds[name] = readTensor(spec);
    let res = await sess.run(feeds);
    if (run.repeat) {
      // Timing mode (vgt.measure_head): one warm-up run above, then `repeat` timed runs.
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < run.repeat; i++) res = await sess.run(feeds);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / run.repeat;
      fs.mkdirSync(run.out, { recursive: true });
      fs.writeFileSync(path.join(run.out, 'timing.json'), JSON.stringify({ msPerRun: ms }));
    }
    fs.mkdirSync(run.out, { recursive: true });
    const meta = {};
    for (const [name, t] of Object.entries(res)) {
      const file = path.join(run.out, `${name}.bin`);
      const d = t.data;
      fs.writeFileSync(file, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
      meta[name] = { dtype: t.type, shape: t.dims, file };
    }
    fs.writeFileSync(path.join(run.out, 'outputs.json'), JSON.stringify(meta));
  }
}

async function serve() {
  // One job file path per stdin line; answers "ok" or "error <message>" per line (keeps sessions warm).
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      await runJob(JSON.parse(fs.readFileSync(line.trim(), 'utf8')));
      process.stdout.write('ok\n');
    } catch (e) {
      process.stdout.write(`error ${String(e && e.message ? e.message : e).replace(/\n/g, ' ')}\n`);
    }
  }
}

async function main() {
  if (process.argv[2] === '--serve') return serve();
  await runJob(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
