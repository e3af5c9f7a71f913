"""Run ONNX graphs through onnxruntime-node (tools/ort_run.mjs); Python has no onnxruntime here."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "ort_run.mjs")
_NP = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32, "uint8": np.uint8,
       "bool": np.bool_}


def _ort_dirs() -> List[str]:
    out = []
    env = os.environ.get("ORT_NODE_PATH")
    if env:
        out += [env, os.path.join(env, "onnxruntime-node"), os.path.join(env, "node_modules", "onnxruntime-node")]
    out.append(os.path.join(os.path.dirname(os.path.dirname(SCRIPT)), "..", "node_modules", "onnxruntime-node"))
    return out


def ort_unavailable_reason() -> Optional[str]:
    """None when node and onnxruntime-node are there, else why not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not any(os.path.isfile(os.path.join(d, "package.json")) for d in _ort_dirs()):
        return "onnxruntime-node not installed (run `npm ci` at the repo root or set ORT_NODE_PATH)"
    return None


def _write_job(tmp: str, runs, repeat: int = 0) -> str:
    job = {"runs": []}
    for r, (model, inputs) in enumerate(runs):
        spec = {}
        for name, arr in inputs.items():
            arr = np.ascontiguousarray(arr)
            dt = {np.dtype(v): k for k, v in _NP.items() if k != "bool"}[arr.dtype]
            f = os.path.join(tmp, f"in{r}_{len(spec)}.bin")
            arr.astype(arr.dtype.newbyteorder("<")).tofile(f)
            spec[name] = {"dtype": dt, "shape": list(arr.shape), "file": f}
        job["runs"].append({"model": os.path.abspath(model), "out": os.path.join(tmp, f"out{r}"), "inputs": spec,
                            "repeat": repeat})
    jf = os.path.join(tmp, "job.json")
    with open(jf, "w") as f:
        json.dump(job, f)
    return jf


def _read_results(tmp: str, n: int) -> List[Dict[str, np.ndarray]]:
    results = []
    for r in range(n):
        with open(os.path.join(tmp, f"out{r}", "outputs.json")) as f:
            meta = json.load(f)
        outs = {}
        for name, m in meta.items():
            outs[name] = np.fromfile(m["file"], dtype=np.dtype(_NP[m["dtype"]]).newbyteorder("<")).reshape(m["shape"])
        results.append(outs)
    return results


def time_graphs(runs: Sequence[Tuple[str, Dict[str, np.ndarray]]], repeat: int, timeout: int = 600) -> List[float]:
    """Milliseconds per run of each (model, inputs), after one warm-up, single-threaded ORT."""
    with tempfile.TemporaryDirectory(prefix="orttime-") as tmp:
        jf = _write_job(tmp, runs, repeat)
        p = subprocess.run(["node", SCRIPT, jf], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed (rc {p.returncode}): {p.stderr.strip()[-2000:]}")
        out = []
        for r in range(len(runs)):
            with open(os.path.join(tmp, f"out{r}", "timing.json")) as f:
                out.append(json.load(f)["msPerRun"])
        return out


def run_graphs(runs: Sequence[Tuple[str, Dict[str, np.ndarray]]], timeout: int = 600) -> List[Dict[str, np.ndarray]]:
    """runs: [(model.onnx, {input name: array})] -> [{output name: array}] in one node process."""
    with tempfile.TemporaryDirectory(prefix="ortrun-") as tmp:
        jf = _write_job(tmp, runs)
        p = subprocess.run(["node", SCRIPT, jf], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed (rc {p.returncode}): {p.stderr.strip()[-2000:]}")
        return _read_results(tmp, len(runs))


class OrtServer:
    """A persistent node process (sessions stay loaded): many small runs without a start-up each."""

    def __init__(self):
        self.p = subprocess.Popen(["node", SCRIPT, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.n = 0

    def run(self, runs: Sequence[Tuple[str, Dict[str, np.ndarray]]]) -> List[Dict[str, np.ndarray]]:
        with tempfile.TemporaryDirectory(prefix="ortsrv-") as tmp:
            jf = _write_job(tmp, runs)
            self.p.stdin.write(jf + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline().strip()
            if line != "ok":
                err = line or self.p.stderr.read()[-2000:]
                raise RuntimeError(f"ort_run.mjs: {err}")
            return _read_results(tmp, len(runs))

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class OnnxFns:
    """The sampler's five functions (plus tables and decode) computed by a bundle's graphs through ORT,
    i.e. what the TypeScript engine computes; used to replay the goldens end to end."""

    def __init__(self, bundle_dir: str, server: OrtServer):
        import torch
        from .bundle import files_by_role, read_raw, validate_bundle
        self.torch = torch
        self.dir = bundle_dir
        self.m = validate_bundle(bundle_dir)
        self.srv = server
        self.L = self.m["architecture"]["layers"]
        emb = files_by_role(self.m, "token_embedding")
        (rel, e), = emb.items()
        self.embed_table = torch.from_numpy(read_raw(bundle_dir, rel, e).astype(np.float32))
        self._tables = {}
        for role in ("query_table", "pos_table"):
            for rel, e in files_by_role(self.m, role).items():
                self._tables[(role, tuple(e["grid"]))] = torch.from_numpy(read_raw(bundle_dir, rel, e).astype(np.float32))

    def _g(self, role):
        return os.path.join(self.dir, f"{role}.onnx")

    def _run(self, role, feeds):
        out = self.srv.run([(self._g(role), {k: v.numpy() if hasattr(v, "numpy") else v for k, v in feeds.items()})])[0]
        return {k: self.torch.from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}

    def tables(self, h, w):
        return self._tables[("query_table", (h, w))], self._tables[("pos_table", (h, w))]

    def embed(self, ids):
        return self.embed_table[ids]

    def lm_step(self, embeds, mask, pos, past):
        feeds = {"inputs_embeds": embeds.float(), "attention_mask": mask.long(), "position_ids": pos.long()}
        if past is None:
            B = embeds.shape[0]
            a = self.m["architecture"]
            z = self.torch.zeros(B, a["kvHeads"], 0, a["headDim"])
            past = [(z, z)] * self.L
        for i, (k, v) in enumerate(past):
            feeds[f"past_key.{i}"], feeds[f"past_value.{i}"] = k, v
        out = self._run("lm_step", feeds)
        return out["hidden_states"], [(out[f"present_key.{i}"], out[f"present_value.{i}"]) for i in range(self.L)]

    def latent_in(self, z, pos):
        return self._run("latent_in", {"z": z.float(), "pos": pos.float()})["embeds"]

    def head_cond(self, h):
        return self._run("head_cond", {"hidden": h.float()})["cond"]

    def head_velocity(self, x, t, c):
        return self._run("head_velocity", {"x": x.float(), "t": t.float(), "cond": c.float()})["v"]

    def decode(self, z):
        return self._run("vgtae_decode", {"z": z.float()})["image"]

    def encode(self, image):
        return self._run("vgtae_encode", {"image": image.float()})["z"]


class BundleAE:
    """A bundle's VGT-AE graphs as the training code's `ae` (encode/decode on torch tensors), through ORT: lets
    the recipe encode latents for and evaluate a new generator against a shipped AE without its checkpoint."""

    def __init__(self, bundle_dir: str, batch: int = 50):
        self.server = OrtServer()
        self.fns = OnnxFns(bundle_dir, self.server)
        self.batch = batch

    def _chunks(self, fn, x):
        import torch
        return torch.cat([fn(x[i:i + self.batch]) for i in range(0, len(x), self.batch)])

    def encode(self, image, normalize: bool = True):
        if not normalize:
            raise ValueError("a bundle's encoder returns LayerNormed latents only")
        return self._chunks(self.fns.encode, image)

    def decode(self, z):
        return self._chunks(self.fns.decode, z)

    def eval(self):
        return self
