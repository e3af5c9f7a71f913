"""A random-weight bundle of an official architecture at full width, for the engine's large-model paths.

  python -m vgt.fullsize_bundle --out checkpoints/fullsize-L2 --layers 2        # reduced depth, full width
  python -m vgt.fullsize_bundle --out checkpoints/fullsize                      # the whole internvl3_1_6b

float16 weights, every graph's weights in ONNX external data (`<graph>.onnx.data`, as a > 2 GB graph must be),
the studio's WordPiece tokenizer (token ids stay inside the 151,674-token vocabulary). `--layers` keeps the first N
LM layers and changes nothing else: the vocabulary, widths, flow head and VGT-AE stay full size. The instant-preview
fit is skipped (it encodes 64 renders with the 448 px ViT). Prints the export time and this process's peak RSS.
`scripts/fullsize-engine.mjs` builds one with this and runs it through the studio's engine.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time
from typing import List, Optional

import torch

from . import export as E
from .config import get_config
from .queryar import VGT, randomize_
from .tokenizer import default_tokenizer


def build(config: str, layers: Optional[int], head_layers: Optional[int], seed: int) -> VGT:
    c = get_config(config)
    if layers:
        c = dataclasses.replace(c, lm=dataclasses.replace(c.lm, layers=layers))
    if head_layers:
        c = dataclasses.replace(c, head=dataclasses.replace(c.head, layers=head_layers))
    model = VGT(c)
    randomize_(model, seed)
    return model.eval()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vgt.fullsize_bundle", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default="internvl3_1_6b")
    ap.add_argument("--layers", type=int, help="LM layers (default: the config's, 28)")
    ap.add_argument("--head-layers", type=int, help="flow-head blocks (default: the config's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-external-data", action="store_true",
                    help="external data only where a graph needs it (over 1.8 GB), as vgt.export does")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    args = ap.parse_args(argv)
    t0 = time.time()
    torch.set_grad_enabled(False)
    model = build(args.config, args.layers, args.head_layers, args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    t_build = time.time() - t0
    layers = model.c.lm.layers
    saved = E.EXTERNAL_DATA_LIMIT, E.latent_preview_factors
    if not args.no_external_data:
        E.EXTERNAL_DATA_LIMIT = 0  # every graph as a > 2 GB one is written: weights in <graph>.onnx.data
    E.latent_preview_factors = lambda _model, *a, **k: None  # 64 ViT encodes at 448 px: too slow for a smoke run
    t1 = time.time()
    try:
        m = E.export_bundle(model, args.out, name=f"{args.config} random weights ({layers} LM layers)",
                            bundle_id=f"fullsize-{args.config.replace('_', '-')}-l{layers}",
                            tokenizer_json=default_tokenizer().to_hf_json(), dtype="float16",
                            source={"generator": "vgt.fullsize_bundle", "baseConfig": args.config, "seed": args.seed,
                                    "layers": layers},
                            log=lambda s: print(s, file=sys.stderr))
    finally:  # module settings, restored for whoever imported vgt.export in this process (tests)
        E.EXTERNAL_DATA_LIMIT, E.latent_preview_factors = saved
    t_export = time.time() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"bundle": args.out, "id": m["id"], "parameters": n_params, "layers": layers,
              "bytes": sum(e["bytes"] for e in m["files"].values()),
              "externalData": sorted(f for f, e in m["files"].items() if e["role"] == "onnx_external_data"),
              "buildSeconds": round(t_build, 1), "exportSeconds": round(t_export, 1), "peakRssMB": round(peak_mb)}
    print(json.dumps(result) if args.json else
          f"wrote {args.out}: {n_params} parameters, {result['bytes'] / 1e9:.2f} GB, export {t_export:.0f} s, "
          f"peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
