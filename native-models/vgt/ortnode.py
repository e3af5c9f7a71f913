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


def run_graphs(runs: Sequence[Tuple[str, Dict[str, np.ndarray]]], timeout: int = 600) -> List[Dict[str, np.ndarray]]:
    """runs: [(model.onnx, {input name: array})] -> [{output name: array}] in one node process."""
    with tempfile.TemporaryDirectory(prefix="ortrun-") as tmp:
        job = {"runs": []}
        for r, (model, inputs) in enumerate(runs):
            spec = {}
            for name, arr in inputs.items():
                arr = np.ascontiguousarray(arr)
                dt = {np.dtype(v): k for k, v in _NP.items() if k != "bool"}[arr.dtype]
                f = os.path.join(tmp, f"in{r}_{len(spec)}.bin")
                arr.astype(arr.dtype.newbyteorder("<")).tofile(f)
                spec[name] = {"dtype": dt, "shape": list(arr.shape), "file": f}
            job["runs"].append({"model": os.path.abspath(model), "out": os.path.join(tmp, f"out{r}"), "inputs": spec})
        jf = os.path.join(tmp, "job.json")
        with open(jf, "w") as f:
            json.dump(job, f)
        p = subprocess.run(["node", SCRIPT, jf], capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed (rc {p.returncode}): {p.stderr.strip()[-2000:]}")
        results = []
        for r in range(len(runs)):
            with open(os.path.join(tmp, f"out{r}", "outputs.json")) as f:
                meta = json.load(f)
            outs = {}
            for name, m in meta.items():
                outs[name] = np.fromfile(m["file"], dtype=np.dtype(_NP[m["dtype"]]).newbyteorder("<")).reshape(m["shape"])
            results.append(outs)
        return results
