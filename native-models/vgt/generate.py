"""PyTorch reference sampler: "what a researcher would run instead" of the studio (benchmark peer).

  python -m vgt.generate --bundle ../test/fixtures/tiny-bundle --prompt "a red circle" --out /tmp/a.png
  python -m vgt.generate --checkpoint runs/shapes/last.pt --prompt "two blue squares" --tokens-per-step 4 \\
      --steps 20 --cfg 3 --seed 1 --order-seed 2 --count 2 --out out.png --json

With --bundle, the model is the bundle's source (its `source` entry: a checkpoint, or a seeded config).
Settings default to the bundle's/config's sampling defaults. --json prints one JSON object with timings.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from typing import List, Optional

import numpy as np
import torch

from .bundle import sha256_file
from .checkpoint import load_checkpoint, seeded_model
from .sampler import SampleSettings, sample_latents, to_uint8
from .tokenizer import WordPieceTokenizer, default_tokenizer


def find_checkpoint(name: str, sha256: Optional[str]) -> str:
    """A bundle names its source checkpoint by file name (and hash); training writes it under native-models/runs*/.
    Only the ONNX bundle is shipped, so in a fresh checkout the PyTorch weights are absent: say so plainly."""
    if os.path.isfile(name):
        return name
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for path in sorted(glob.glob(os.path.join(root, "runs*", os.path.basename(name)))):
        if sha256 is None or sha256_file(path) == sha256:
            return path
    raise SystemExit(f"the bundle's PyTorch checkpoint {os.path.basename(name)} is not on this machine (bundles ship "
                     "ONNX only; it is written by the training recipe under native-models/runs*/)")


def load_source(bundle: Optional[str], checkpoint: Optional[str]):
    """(VGT model, tokenizer) for a bundle's source or a checkpoint."""
    tok_json = None
    if bundle:
        from .bundle import validate_bundle
        m = validate_bundle(bundle)
        src = m.get("source") or {}
        with open(os.path.join(bundle, "tokenizer.json"), encoding="utf-8") as f:
            tok_json = json.load(f)
        if src.get("converted") or src.get("checkpoint", "").endswith(".pt"):
            checkpoint = find_checkpoint(src.get("converted") or src["checkpoint"], src.get("sha256"))
        elif src.get("config"):
            model = seeded_model(src["config"], int(src.get("seed", 0)))
            return model, WordPieceTokenizer.load_dict(tok_json)
        else:
            raise SystemExit(f"{bundle}: manifest has no usable source (checkpoint or config)")
    model, ck = load_checkpoint(checkpoint)
    tok_json = tok_json or ck.get("tokenizer")
    if tok_json is None:
        return model, default_tokenizer()
    if tok_json.get("model", {}).get("type") != "WordPiece":
        raise SystemExit("the Python reference sampler tokenizes WordPiece only (this project's models); "
                         "official BPE tokenizers need the `tokenizers` package, not available here")
    return model, WordPieceTokenizer.load_dict(tok_json)


def save_png(img: torch.Tensor, path: str) -> None:
    from PIL import Image
    arr = to_uint8(img).permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(arr)).save(path)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vgt.generate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle")
    src.add_argument("--checkpoint")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--order-seed", type=int, default=None, help="default: the seed")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--cfg", type=float)
    ap.add_argument("--cfg-schedule", choices=["linear", "constant"])
    ap.add_argument("--tokens-per-step", type=int)
    ap.add_argument("--order", choices=["random", "raster"])
    ap.add_argument("--count", type=int, default=1, help="images, generated one after another (seed, seed+1, ...)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="untimed images first (seeds before --seed), so msPerImage leaves out first-call costs")
    ap.add_argument("--out", help="PNG path; with --count > 1, _<i> is appended")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t_load = time.time()
    model, tok = load_source(args.bundle, args.checkpoint)
    d = model.c.sampling
    settings = SampleSettings(steps=args.steps or d.steps, cfg=d.cfg if args.cfg is None else args.cfg,
                              cfg_schedule=args.cfg_schedule or d.cfg_schedule,
                              tokens_per_step=args.tokens_per_step or d.tokens_per_step, order=args.order or d.order)
    load_s = time.time() - t_load
    for i in range(args.warmup):
        with torch.no_grad():
            model.vgt_ae.decode(sample_latents(model.generator, tok, [args.prompt], settings, seed=args.seed - 1 - i,
                                               order_seed=args.seed - 1 - i))
    images, times = [], []
    for i in range(args.count):
        seed = args.seed + i
        order_seed = (args.order_seed if args.order_seed is not None else args.seed) + i
        t0 = time.time()
        with torch.no_grad():
            z = sample_latents(model.generator, tok, [args.prompt], settings, seed=seed, order_seed=order_seed)
            img = model.vgt_ae.decode(z)[0]
        times.append(time.time() - t0)
        entry = {"seed": seed, "orderSeed": order_seed, "width": img.shape[2], "height": img.shape[1]}
        if args.out:
            root, ext = os.path.splitext(args.out)
            path = args.out if args.count == 1 else f"{root}_{i}{ext or '.png'}"
            save_png(img, path)
            entry["file"] = os.path.abspath(path)
        images.append(entry)
        if not args.json:
            print(f"image {i}: {times[-1] * 1000:.0f} ms {entry.get('file', '')}", file=sys.stderr)
    result = {"images": images, "model": model.c.name, "settings": settings.__dict__, "loadSeconds": load_s,
              "msPerImage": 1000 * float(np.mean(times)), "seconds": float(np.sum(times)),
              "threads": torch.get_num_threads()}
    print(json.dumps(result) if args.json else f"{len(images)} image(s), {result['msPerImage']:.0f} ms per image")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
