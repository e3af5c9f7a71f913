"""Convert released hustvl/vgt_* checkpoints into this project's checkpoint (and optionally a bundle).

  python -m vgt.convert_official --config internvl3_1_6b \\
      --checkpoint ckpts/vgt_internvl3_1_6B_sft/iter_5000.pth \\
      [--ae ckpts/vgt_ae/vgt_ae_internvl3.pth] \\
      --tokenizer ckpts/InternVL3-2B/tokenizer.json \\
      --out checkpoints/vgt_internvl3_1_6b.pt [--bundle checkpoints/vgt_internvl3_1_6b-bundle]
  python -m vgt.convert_official --list-keys --checkpoint X.pth      # print every key and shape

Unlike the reference (load_state_dict(strict=False), issues #9 and #11), every key must be accounted for:
a key of our model that nothing maps to, a checkpoint key that maps to nothing and is not on the
explicit list of known-unused keys, or a shape mismatch stops the conversion with the full list.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

from .config import VGTConfig, get_config
from .queryar import VGT

# Official prefix -> our prefix. Longest first: "lmm.language_model." is a prefix of the InternVL form.
LM_PREFIXES = ("lmm.language_model.model.", "lmm.model.language_model.", "lmm.language_model.")
DIRECT = ("adaptive_metaquery.", "image_in_projector.", "image_out_projector.", "image_head.net.")

# Present in released checkpoints but unused at inference: dropped, and listed in the report.
KNOWN_UNUSED = (
    (re.compile(r"^lmm\.(language_model\.)?lm_head\."), "LM head (frozen, unused by VGT)"),
    (re.compile(r"^lmm\.(model\.)?(vision_model|visual|mlp1)\."), "base VLM vision tower (deleted by VGT)"),
    (re.compile(r"rotary_emb\.inv_freq$"), "RoPE buffer (recomputed)"),
    (re.compile(r"^image_head\.net\.repa_projector\."), "REPA projector (training only)"),
    (re.compile(r"^vgt_ae\.teacher"), "VGT-AE self-distillation teacher (training only)"),
)
# For configs whose AE has no encoder (Qwen2.5-VL ViT is not ported): the encode path is dropped.
ENCODER_PARTS = re.compile(r"^vgt_ae\.(encoder|mlp1|down_blocks|down_mlp)\.")


class ConversionError(RuntimeError):
    pass


def load_state(path: str) -> Tuple["OrderedDict[str, torch.Tensor]", str]:
    """A raw state dict, or mmengine's {ema_state_dict | state_dict | model}; `module.` stripped."""
    ck = torch.load(path, map_location="cpu")
    where = "raw"
    if isinstance(ck, dict):
        for k in ("ema_state_dict", "state_dict", "model"):
            if k in ck and isinstance(ck[k], dict):
                ck, where = ck[k], k
                break
    if not isinstance(ck, dict):
        raise ConversionError(f"{path}: not a state dict (got {type(ck).__name__})")
    out = OrderedDict()
    for k, v in ck.items():
        if where == "ema_state_dict" and k == "steps":  # mmengine EMA step counter
            continue
        if not torch.is_tensor(v):
            raise ConversionError(f"{path}: entry {k!r} is not a tensor")
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out, where


def map_key(k: str) -> Optional[str]:
    for p in LM_PREFIXES:
        if k.startswith(p):
            return "generator.lm." + k[len(p):]
    for p in DIRECT:
        if k.startswith(p):
            return "generator." + k
    if k.startswith("vgt_ae."):
        return k
    return None


def convert_state(cfg: VGTConfig, main: Dict[str, torch.Tensor], ae: Optional[Dict[str, torch.Tensor]] = None):
    """Returns (our state dict, report). Raises ConversionError with every problem."""
    target = VGT(cfg).state_dict()
    report = {"mapped": [], "dropped": [], "duplicates": []}
    problems: List[str] = []
    src: "OrderedDict[str, Tuple[str, torch.Tensor]]" = OrderedDict()
    if ae is not None:
        moved = [k for k in main if k.startswith("vgt_ae.")]
        for k in moved:
            report["dropped"].append((k, "vgt_ae.* of the main checkpoint replaced by --ae"))
        main = OrderedDict((k, v) for k, v in main.items() if not k.startswith("vgt_ae."))
        main.update(("vgt_ae." + k if not k.startswith("vgt_ae.") else k, v) for k, v in ae.items())
    unexpected = []
    for k, v in main.items():
        reason = next((why for rx, why in KNOWN_UNUSED if rx.search(k)), None)
        if reason is None and cfg.ae.encoder == "none" and ENCODER_PARTS.search(k):
            reason = "VGT-AE encoder path (not ported for this config: decode only)"
        if reason:
            report["dropped"].append((k, reason))
            continue
        ours = map_key(k)
        if ours is None or ours not in target:
            unexpected.append(k)
            continue
        if ours in src:
            prev_k, prev_v = src[ours]
            if prev_v.shape != v.shape or not torch.equal(prev_v, v):
                problems.append(f"{k} and {prev_k} both map to {ours} but differ")
            else:
                report["duplicates"].append((k, prev_k))
            continue
        src[ours] = (k, v)
    for k in unexpected:
        problems.append(f"unexpected key {k} {tuple(main[k].shape)}")
    layer_ids = {int(m.group(1)) for k in main for m in [re.search(r"language_model\.(?:model\.)?layers\.(\d+)\.", k)] if m}
    if layer_ids and max(layer_ids) + 1 != cfg.lm.layers:
        problems.append(f"checkpoint has {max(layer_ids) + 1} LM layers, config {cfg.name} has {cfg.lm.layers} "
                        "(Qwen2.5-VL 1.6B keeps 18 of 36: reference issue #11)")
    for ours, shape in ((k, t.shape) for k, t in target.items()):
        if ours not in src:
            problems.append(f"missing key for {ours} {tuple(shape)}")
            continue
        k, v = src[ours]
        if tuple(v.shape) != tuple(shape):
            problems.append(f"shape mismatch {k} {tuple(v.shape)} -> {ours} expects {tuple(shape)}")
        else:
            report["mapped"].append((k, ours, tuple(shape), str(v.dtype)))
    if problems:
        raise ConversionError(f"{len(problems)} problem(s) converting to config {cfg.name}:\n  " + "\n  ".join(problems))
    state = OrderedDict((ours, src[ours][1].float().contiguous()) for ours in target)
    return state, report


def convert(cfg: VGTConfig, checkpoint: str, ae_path: Optional[str] = None, log=print):
    main, where = load_state(checkpoint)
    log(f"{checkpoint}: {len(main)} tensors from {where}")
    ae = None
    if ae_path:
        ae, where_ae = load_state(ae_path)
        log(f"{ae_path}: {len(ae)} tensors from {where_ae}")
    state, report = convert_state(cfg, main, ae)
    model = VGT(cfg)
    model.load_state_dict(state, strict=True)
    return model.eval(), report


def print_report(report, log=print, verbose: bool = False) -> None:
    groups: Dict[str, int] = {}
    for k, ours, shape, dt in report["mapped"]:
        head = ".".join(ours.split(".")[:3])
        groups[head] = groups.get(head, 0) + 1
        if verbose:
            log(f"  {k} -> {ours} {shape} {dt}")
    log(f"mapped {len(report['mapped'])} tensors:")
    for g, n in sorted(groups.items()):
        log(f"  {g}.*: {n}")
    if report["duplicates"]:
        log(f"{len(report['duplicates'])} duplicate keys (identical copies, checked equal), e.g. {report['duplicates'][0]}")
    if report["dropped"]:
        log(f"dropped {len(report['dropped'])} known-unused tensors:")
        reasons: Dict[str, int] = {}
        for _, why in report["dropped"]:
            reasons[why] = reasons.get(why, 0) + 1
        for why, n in reasons.items():
            log(f"  {n:6d}  {why}")


def main(argv: Optional[List[str]] = None) -> int:
    from .checkpoint import save_checkpoint
    ap = argparse.ArgumentParser(prog="python -m vgt.convert_official", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="internvl3_1_6b, internvl3_0_6b or qwen25vl_1_6b")
    ap.add_argument("--checkpoint", required=True, help="VGT .pth (mmengine ema_state_dict/state_dict or raw)")
    ap.add_argument("--ae", help="separate vgt_ae_*.pth (keys without the vgt_ae. prefix)")
    ap.add_argument("--tokenizer", help="the base VLM's tokenizer.json (Hugging Face format)")
    ap.add_argument("--img-token-ids", help="ids of '<img>' when it is not a special token (Qwen2.5-VL), e.g. 27,1892,29")
    ap.add_argument("--out", help="output vgt-checkpoint .pt")
    ap.add_argument("--bundle", help="also export a bundle folder")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float16")
    ap.add_argument("--list-keys", action="store_true", help="print every key and shape of the inputs and exit")
    ap.add_argument("--verbose", action="store_true", help="list every mapped key")
    args = ap.parse_args(argv)
    if args.list_keys:
        for path in filter(None, [args.checkpoint, args.ae]):
            sd, where = load_state(path)
            print(f"# {path} ({where}, {len(sd)} tensors)")
            for k, v in sd.items():
                print(f"{k}\t{tuple(v.shape)}\t{v.dtype}")
        return 0
    if not args.config or not args.out or not args.tokenizer:
        ap.error("--config, --out and --tokenizer are required (unless --list-keys)")
    cfg = get_config(args.config)
    with open(args.tokenizer, encoding="utf-8") as f:
        tok_json = json.load(f)
    img_ids = [int(x) for x in args.img_token_ids.split(",")] if args.img_token_ids else None
    try:
        model, report = convert(cfg, args.checkpoint, args.ae)
    except ConversionError as e:
        print(f"conversion refused: {e}", file=sys.stderr)
        return 2
    print_report(report, verbose=args.verbose)
    save_checkpoint(args.out, model, tok_json, extra={"source": {"checkpoint": args.checkpoint, "ae": args.ae}, "imgTokenIds": img_ids})
    print(f"wrote {args.out}")
    if args.bundle:
        from .export import export_bundle
        export_bundle(model, args.bundle, name=cfg.description or cfg.name, bundle_id=f"vgt-{cfg.name}",
                      tokenizer_json=tok_json, dtype=args.dtype, img_token_ids=img_ids,
                      source={"checkpoint": args.checkpoint, "ae": args.ae, "converted": args.out})
        print(f"wrote bundle {args.bundle}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
