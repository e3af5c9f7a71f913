"""PyTorch reference sampler: "what a researcher would run instead" of the studio (benchmark peer).

  python -m vgt.generate --bundle ../test/fixtures/tiny-bundle --prompt "a red circle" --out /tmp/a.png
  python -m vgt.generate --checkpoint runs/shapes/last.pt --prompt "two blue squares" --tokens-per-step 4 \\
      --steps 20 --cfg 3 --seed 1 --order-seed 2 --count 2 --out out.png --json
  python -m vgt.generate --checkpoint converted.pt --prompt-ids 151644,872,198,... --uncond-ids ... --out a.png

With --bundle, the model is rebuilt from the bundle's own weights (vgt.rebuild): the weights the studio runs, on
any machine. --from-source uses the bundle's `source` instead (its checkpoint under runs*/, or a seeded config).
Tokenizers: WordPiece (this project's) and byte-level BPE (the official Qwen2 kind, vgt.bpe); for any other, pass
the token ids (--prompt-ids, --uncond-ids, --img-token-ids). Settings default to the bundle's/config's sampling
defaults. --json prints one JSON object with timings.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from typing import List, Optional, Sequence

import numpy as np
import torch

from .bundle import sha256_file
from .checkpoint import load_checkpoint, seeded_model
from .sampler import CFG_SCHEDULES, ORDERS, SampleSettings, sample_latents, to_uint8
from .tokenizer import tokenizer_from_json


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
                     "ONNX only; it is written by the training recipe under native-models/runs*/); without "
                     "--from-source the model is rebuilt from the bundle itself")


def load_source(bundle: Optional[str], checkpoint: Optional[str], from_source: bool = False):
    """(VGT model, tokenizer.json dict or None, manifest prompt entry or None, img token ids or None, where from)."""
    if bundle and not from_source:
        from .rebuild import RebuildError, rebuild
        try:
            r = rebuild(bundle)
        except RebuildError as e:
            raise SystemExit(str(e))
        return r.model, r.tokenizer_json, r.manifest["prompt"], None, "rebuilt from the bundle's weights"
    prompt = None
    tok_json = None
    if bundle:
        from .bundle import validate_bundle
        m = validate_bundle(bundle)
        prompt = m["prompt"]
        src = m.get("source") or {}
        with open(os.path.join(bundle, "tokenizer.json"), encoding="utf-8") as f:
            tok_json = json.load(f)
        if src.get("converted") or src.get("checkpoint", "").endswith(".pt"):
            checkpoint = find_checkpoint(src.get("converted") or src["checkpoint"], src.get("sha256"))
        elif src.get("config"):
            return seeded_model(src["config"], int(src.get("seed", 0))), tok_json, prompt, None, "seeded config"
        else:
            raise SystemExit(f"{bundle}: manifest has no usable source (checkpoint or config)")
    model, ck = load_checkpoint(checkpoint)
    return model, tok_json or ck.get("tokenizer"), prompt, ck.get("imgTokenIds"), f"checkpoint {checkpoint}"


def _ids(text: Optional[str]) -> Optional[List[int]]:
    return [int(x) for x in text.replace(" ", "").split(",") if x] if text else None


class GivenIds:
    """Prompt rows given as token ids (a tokenizer the sampler cannot run, or exact control): the sampler's
    tokenizer interface, with what is not given taken from `base` when there is one."""

    def __init__(self, cond: Sequence[int], uncond: Optional[Sequence[int]], img: Optional[Sequence[int]],
                 pad: Optional[int], base=None):
        need = [n for n, v in (("--uncond-ids", uncond), ("--img-token-ids", img), ("--pad-id", pad))
                if v is None and base is None]
        if need:
            raise SystemExit("--prompt-ids without a tokenizer the sampler runs also needs " + ", ".join(need))
        self.cond = list(cond)
        self.uncond = list(uncond) if uncond is not None else base.encode_uncond()
        self.img = list(img) if img is not None else base.img_token_ids()
        self.pad_id = pad if pad is not None else base.pad_id

    def encode_prompt(self, prompt: str) -> List[int]:
        return self.cond

    def encode_uncond(self) -> List[int]:
        return self.uncond

    def img_token_ids(self) -> List[int]:
        return self.img


def make_tokenizer(tok_json, prompt, img_ids, args):
    try:
        tok = tokenizer_from_json(tok_json, prompt, _ids(args.img_token_ids) or img_ids)
    except ValueError as e:
        if not args.prompt_ids:
            raise SystemExit(str(e))
        tok = None
    if args.prompt_ids:
        return GivenIds(_ids(args.prompt_ids), _ids(args.uncond_ids), _ids(args.img_token_ids), args.pad_id, tok)
    return tok


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
    ap.add_argument("--from-source", action="store_true",
                    help="with --bundle: sample the bundle's source checkpoint or config, not its rebuilt weights")
    ap.add_argument("--prompt", help="the prompt (put into the bundle's or config's template)")
    ap.add_argument("--prompt-ids", help="the conditional row as comma-separated token ids, template included")
    ap.add_argument("--uncond-ids", help="the unconditional row's ids (default: the tokenizer's)")
    ap.add_argument("--img-token-ids", help="the image-start token ids (default: the bundle's or tokenizer's)")
    ap.add_argument("--pad-id", type=int, help="the pad token id (default: the tokenizer's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--order-seed", type=int, default=None, help="default: the seed")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--cfg", type=float)
    ap.add_argument("--cfg-schedule", choices=CFG_SCHEDULES)
    ap.add_argument("--tokens-per-step", type=int)
    ap.add_argument("--order", choices=list(ORDERS))
    ap.add_argument("--count", type=int, default=1, help="images, generated one after another (seed, seed+1, ...)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="untimed images first (seeds before --seed), so msPerImage leaves out first-call costs")
    ap.add_argument("--out", help="PNG path; with --count > 1, _<i> is appended")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.prompt is None and not args.prompt_ids:
        ap.error("--prompt or --prompt-ids is required")
    prompt_text = args.prompt if args.prompt is not None else "(given ids)"
    if args.threads:
        torch.set_num_threads(args.threads)
    t_load = time.time()
    model, tok_json, prompt_entry, img_ids, model_from = load_source(args.bundle, args.checkpoint, args.from_source)
    tok = make_tokenizer(tok_json, prompt_entry, img_ids, args)
    d = model.c.sampling
    settings = SampleSettings(steps=args.steps or d.steps, cfg=d.cfg if args.cfg is None else args.cfg,
                              cfg_schedule=args.cfg_schedule or d.cfg_schedule,
                              tokens_per_step=args.tokens_per_step or d.tokens_per_step, order=args.order or d.order)
    load_s = time.time() - t_load
    for i in range(args.warmup):
        with torch.no_grad():
            model.vgt_ae.decode(sample_latents(model.generator, tok, [prompt_text], settings, seed=args.seed - 1 - i,
                                               order_seed=args.seed - 1 - i))
    images, times = [], []
    for i in range(args.count):
        seed = args.seed + i
        order_seed = (args.order_seed if args.order_seed is not None else args.seed) + i
        t0 = time.time()
        with torch.no_grad():
            z = sample_latents(model.generator, tok, [prompt_text], settings, seed=seed, order_seed=order_seed)
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
    result = {"images": images, "model": model.c.name, "modelFrom": model_from, "settings": settings.__dict__,
              "loadSeconds": load_s,
              "msPerImage": 1000 * float(np.mean(times)), "seconds": float(np.sum(times)),
              "threads": torch.get_num_threads()}
    print(json.dumps(result) if args.json else f"{len(images)} image(s), {result['msPerImage']:.0f} ms per image")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
