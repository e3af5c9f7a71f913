"""Fused vs split flow-head graphs: ONNX Runtime time per token group (BUNDLE.md records the decision).

  python -m vgt.measure_head --config tiny --config shapes [--steps 30]

split = head_cond once per group + head_velocity per SDE step; fused = head_fused(x, t, hidden) per step.
Rows per group = 2k (cond + uncond), single-threaded CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np
import torch

from .checkpoint import seeded_model
from .export import HeadCond, HeadFused, HeadVelocity, export_graph
from .ortnode import time_graphs


def measure(config: str, steps: int, ks=(1, 4, 16), repeat: int = 200) -> dict:
    model = seeded_model(config, 0)
    c = model.c
    H, dZ, W = c.lm.hidden, c.d_z, c.head.width
    out = {}
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, mod, ins, ex in (
                ("head_cond", HeadCond(model), ["hidden"], [torch.randn(4, H)]),
                ("head_velocity", HeadVelocity(model), ["x", "t", "cond"], [torch.randn(4, dZ), torch.rand(4), torch.randn(4, W)]),
                ("head_fused", HeadFused(model), ["x", "t", "hidden"], [torch.randn(4, dZ), torch.rand(4), torch.randn(4, H)])):
            paths[name] = os.path.join(d, name + ".onnx")
            outs = ["cond"] if name == "head_cond" else ["v"]
            export_graph(mod, ex, paths[name], ins, outs, {n: {0: "N"} for n in ins + outs})
        for k in ks:
            n = 2 * k
            rng = np.random.default_rng(0)
            x = rng.standard_normal((n, dZ)).astype(np.float32)
            t = np.full((n,), 0.5, np.float32)
            h = rng.standard_normal((n, H)).astype(np.float32)
            cond = rng.standard_normal((n, W)).astype(np.float32)
            tc, tv, tf = time_graphs([(paths["head_cond"], {"hidden": h}),
                                      (paths["head_velocity"], {"x": x, "t": t, "cond": cond}),
                                      (paths["head_fused"], {"x": x, "t": t, "hidden": h})], repeat)
            out[k] = {"cond_ms": tc, "velocity_ms": tv, "fused_ms": tf,
                      "split_group_ms": tc + steps * tv, "fused_group_ms": steps * tf}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vgt.measure_head", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", default=None)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args(argv)
    res = {}
    for cfg in args.config or ["tiny", "shapes"]:
        res[cfg] = measure(cfg, args.steps, repeat=args.repeat)
        for k, r in res[cfg].items():
            print(f"{cfg:7s} k={k:<3d} cond {r['cond_ms']:.4f} ms, velocity {r['velocity_ms']:.4f} ms, fused "
                  f"{r['fused_ms']:.4f} ms -> per group ({args.steps} steps): split {r['split_group_ms']:.3f} ms, "
                  f"fused {r['fused_group_ms']:.3f} ms ({r['fused_group_ms'] / r['split_group_ms']:.2f}x)")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
