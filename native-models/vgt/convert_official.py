"""Convert released hustvl/vgt_* checkpoints into this project's checkpoint (and optionally a bundle).

  python -m vgt.convert_official --config internvl3_1_6b \\
      --checkpoint ckpts/vgt_internvl3_1_6B_sft/iter_5000.pth \\
      [--ae ckpts/vgt_ae/vgt_ae_internvl3.pth] \\
      --tokenizer ckpts/InternVL3-2B/tokenizer.json \\
      --out checkpoints/vgt_internvl3_1_6b.pt [--bundle checkpoints/vgt_internvl3_1_6b-bundle]
  python -m vgt.convert_official --list-keys --checkpoint X.pth      # print every key and shape

Unlike the reference (load_state_dict(strict=False), issues #9 and #11), every key must be accounted for:
a key of our model that nothing maps to, a checkpoint key that maps to nothing and is not on the
explicit list of known-unused keys, or a shape mismatch stops the conversion, naming the first keys of
each kind and the fix (--verbose lists them all).

mmengine checkpoints load without mmengine (vgt/ckpt_io.py). The target model is built on the meta
device and filled tensor by tensor, so the peak memory is about one fp32 model (InternVL3-1.6B: 8.4 GiB
measured, README "Official VGT checkpoints"). The official configs sample with the reference's pad mask
(pad_mask "prefill", BUNDLE.md "Padding"); --pad-mask always keeps pads masked.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import sys
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from . import ckpt_io
from .ckpt_io import is_tensor, materialize
from .config import CONFIGS, VGTConfig, get_config
from .queryar import VGT
from .vgtae import VGTAE

# Official LM prefix -> generator.lm. Order matters: "lmm.language_model." is a prefix of the InternVL form.
LM_PREFIXES = (
    re.compile(r"^lmm\.language_model\.model\."),   # InternVL3 (Qwen2ForCausalLM inside InternVLChatModel)
    re.compile(r"^lmm\.model\.language_model\."),   # Qwen2.5-VL, transformers >= 4.52
    re.compile(r"^lmm\.language_model\."),          # its identical re-registered copy (checked equal)
    re.compile(r"^lmm\.model\.(?=(?:layers|embed_tokens|norm)\.)"),  # Qwen2.5-VL, transformers < 4.52
)
DIRECT = ("adaptive_metaquery.", "image_in_projector.", "image_out_projector.", "image_head.net.")
LM_LAYER = re.compile(r"^generator\.lm\.layers\.(\d+)\.")

# Present in released checkpoints but unused at inference: dropped, and counted in the report.
KNOWN_UNUSED = (
    (re.compile(r"^lmm\.(language_model\.)?lm_head\."), "LM head (frozen, unused by VGT)"),
    (re.compile(r"^lmm\.(model\.)?(vision_model|visual|mlp1)\."), "base VLM vision tower (deleted by VGT)"),
    (re.compile(r"rotary_emb\.inv_freq$"), "RoPE buffer (recomputed)"),
    (re.compile(r"^image_head\.net\.repa_projector\."), "REPA projector (training only)"),
    (re.compile(r"^dinov3_extractor\."), "REPA teacher DINOv3 (training only)"),  # comes with repa_projector
    (re.compile(r"^vgt_ae\.teacher"), "VGT-AE self-distillation teacher (training only)"),
)
# For configs whose AE has no encoder (Qwen2.5-VL ViT is not ported): the encode path is dropped.
ENCODER_PARTS = re.compile(r"^vgt_ae\.(encoder|mlp1|down_blocks|down_mlp)\.")
SHOW = 4  # offending keys named per kind of problem in a refusal


class ConversionError(RuntimeError):
    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details or message  # every offending key (printed with --verbose)


def _refuse(what: str, problems: Dict[str, List[str]], fixes: Dict[str, str]) -> ConversionError:
    short, full = [], []
    for kind, items in problems.items():
        if items:
            more = f"; … ({len(items) - SHOW} more)" if len(items) > SHOW else ""
            short.append(f"{len(items)} {kind}: {'; '.join(items[:SHOW])}{more}\n    fix: {fixes[kind]}")
            full.append(f"{len(items)} {kind}:\n    " + "\n    ".join(items))
    return ConversionError(f"{what}:\n  " + "\n  ".join(short), f"{what}:\n  " + "\n  ".join(full))


@contextlib.contextmanager
def meta_params():
    """Modules built inside get their parameters on the meta device: shapes without memory. (torch 1.13 has
    no `with torch.device("meta")`; buffers stay real, so the non-persistent ones keep their values.)"""
    register = nn.Module.register_parameter

    def on_meta(self, name, p):
        register(self, name, p)
        if p is not None:
            self._parameters[name] = nn.Parameter(p.to("meta"), requires_grad=p.requires_grad)

    nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def _set_tensor(model: nn.Module, name: str, t: torch.Tensor) -> None:
    owner, _, leaf = name.rpartition(".")
    mod = model.get_submodule(owner)
    if leaf in mod._parameters:
        mod._parameters[leaf] = nn.Parameter(t)
    else:
        mod._buffers[leaf] = t


def load_state(path: str, weights: str = "auto", log=print) -> Tuple["OrderedDict[str, object]", str]:
    """A raw state dict, or one entry of a checkpoint (`weights`: auto = ema_state_dict, else state_dict, else
    model, as the reference picks); `module.` stripped. Values are tensors or ckpt_io.LazyTensor."""
    ck = ckpt_io.load(path, log)
    where = "raw"
    if isinstance(ck, dict) and not all(is_tensor(v) for v in ck.values()):
        names = ("ema_state_dict", "state_dict", "model") if weights == "auto" else (weights,)
        found = [n for n in names if isinstance(ck.get(n), dict)]
        if not found:
            raise ConversionError(f"{path}: no state dict under {', '.join(names)}; its entries: "
                                  f"{', '.join(map(str, list(ck)[:8]))}\n    fix: --weights NAME (one of those)")
        where = found[0]
        if weights == "auto" and where == "ema_state_dict" and isinstance(ck.get("state_dict"), dict):
            log(f"{path}: has ema_state_dict and state_dict; using ema_state_dict as the reference does "
                "(--weights state_dict for the other)")
        ck = ck[where]
    if not isinstance(ck, dict):
        raise ConversionError(f"{path}: not a state dict (got {type(ck).__name__})")
    out, bad = OrderedDict(), []
    for k, v in ck.items():
        if where == "ema_state_dict" and k == "steps":  # mmengine EMA step counter
            continue
        if not is_tensor(v):
            bad.append(f"{k} ({type(v).__name__})")
        out[k[len("module."):] if k.startswith("module.") else k] = v
    if bad:
        raise _refuse(f"{path}: {where} is not a state dict", {"entries that are not tensors": bad},
                      {"entries that are not tensors": "pick the weights with --weights (see --list-keys)"})
    return out, where


def map_key(k: str) -> Optional[str]:
    for rx in LM_PREFIXES:
        m = rx.match(k)
        if m:
            return "generator.lm." + k[m.end():]
    if k.startswith(DIRECT):
        return "generator." + k
    if k.startswith("vgt_ae."):
        return k
    return None


def dropped_reason(cfg: VGTConfig, k: str) -> Optional[str]:
    reason = next((why for rx, why in KNOWN_UNUSED if rx.search(k)), None)
    if reason is None and cfg.ae.encoder == "none" and ENCODER_PARTS.search(k):
        reason = "VGT-AE encoder path (not ported for this config: decode only)"
    return reason


def _lm_fits(emb: Optional[tuple], layers: Optional[int]) -> str:
    """The named configs whose LM fits the checkpoint's embedding [vocab, hidden] (and how many layers)."""
    fit = []
    for name, make in CONFIGS.items():
        c = make()
        if emb == (c.lm.vocab_size, c.lm.hidden):
            fit.append(name if c.lm.layers == layers else f"{name} (built with {layers} layers)")
    return ", ".join(fit) or "none"


def merge_ae(cfg: VGTConfig, main: Dict, ae: Dict, prefix: Optional[str], log=print) -> dict:
    """Adds the separate AE file's tensors to `main` as vgt_ae.*. The main checkpoint's own vgt_ae.* win, as
    in the reference (it builds the AE from the file, then load_checkpoint(strict=False) overwrites it)."""
    with meta_params():
        names = set(VGTAE(cfg.ae).state_dict())

    def fits(rest: str) -> bool:
        return rest in names or dropped_reason(cfg, "vgt_ae." + rest) is not None

    how = "--ae-prefix"
    if prefix is None:  # the prefix (ending at a dot) whose removal makes the most keys AE names
        votes = Counter(k[:i + 1] for k in ae for i in [-1] + [j for j, ch in enumerate(k) if ch == "."]
                        if fits(k[i + 1:]))
        best = max(votes.items(), key=lambda kv: (kv[1], -len(kv[0])), default=("", 0))
        if best[1] * 2 < len(ae):
            raise ConversionError(
                f"--ae: no key prefix makes the keys fit the VGT-AE (best: {best[0]!r}, {best[1]} of {len(ae)}); "
                f"its keys: {', '.join(list(ae)[:SHOW])}; expected names such as decoder.conv_in.weight\n"
                "    fix: --ae-prefix TEXT (what to strip), or compare with --list-keys")
        prefix, how = best[0], "detected"
    log(f"--ae: key prefix {prefix!r} ({how})")
    renamed = OrderedDict((("vgt_ae." + k[len(prefix):]) if k.startswith(prefix) else f"[--ae] {k}", v)
                          for k, v in ae.items())
    ae.clear()
    own = [k for k in main if k.startswith("vgt_ae.") and not dropped_reason(cfg, k)]
    differ, both = [], 0
    for k in own:
        if k in renamed:
            both += 1
            a = main[k] = materialize(main[k])
            b = materialize(renamed.pop(k))
            if a.shape != b.shape:
                differ.append(f"{k} (shape {tuple(a.shape)} vs {tuple(b.shape)})")
            elif a.numel() and not torch.equal(a, b):
                differ.append(f"{k} (max |diff| {(a.float() - b.float()).abs().max().item():.3g})")
    only_ae = [k for k in renamed if k not in main]
    if own:
        log(f"vgt_ae.*: the checkpoint's {len(own)} tensors win over --ae's, as in the reference "
            f"({both} in both, {len(only_ae)} only in --ae)")
    for k in only_ae:
        main[k] = renamed[k]
    if differ:
        log(f"WARNING: {len(differ)} vgt_ae tensors of the checkpoint differ from --ae; the checkpoint's are used: "
            + "; ".join(differ[:8]) + ("; …" if len(differ) > 8 else ""))
    return {"prefix": prefix, "own": len(own), "both": both, "from_ae": len(only_ae), "differ": differ}


def lm_shape(main: Dict) -> Tuple[Optional[int], Optional[tuple]]:
    """The checkpoint's LM layer count (highest layers.N + 1) and embedding shape [vocab, hidden]."""
    ids = {int(m.group(1)) for k in main for m in [LM_LAYER.match(map_key(k) or "")] if m}
    emb = next((tuple(v.shape) for k, v in main.items() if map_key(k) == "generator.lm.embed_tokens.weight"), None)
    return (max(ids) + 1 if ids else None), emb


def fit_layers(cfg: VGTConfig, main: Dict, log=print) -> VGTConfig:
    """The checkpoint's LM layer count wins when the rest of the LM fits (Qwen2.5-VL: 18 or 36, issue #11)."""
    n, emb = lm_shape(main)
    if n is None or n == cfg.lm.layers or emb != (cfg.lm.vocab_size, cfg.lm.hidden):
        return cfg
    lm = dataclasses.replace(cfg.lm, layers=n)
    named = next((c for c in (make() for make in CONFIGS.values())
                  if (c.lm, c.head, c.ae, c.max_grid) == (lm, cfg.head, cfg.ae, cfg.max_grid)), None)
    built = (dataclasses.replace(named, pad_mask=cfg.pad_mask) if named else dataclasses.replace(
        cfg, name=f"{cfg.name}_{n}layers", lm=lm,
        description=f"{cfg.description} Built with the checkpoint's {n} LM layers.".strip()))
    log(f"the checkpoint's LM has {n} layers, config {cfg.name} {cfg.lm.layers}: building with {n} "
        f"(config {built.name}; Qwen2.5-VL 1.6B keeps 18 of 36, reference issue #11)")
    return built


def convert_state(cfg: VGTConfig, main: Dict, ae: Optional[Dict] = None, log=print, ae_prefix: Optional[str] = None):
    """Returns (VGT model, report); raises ConversionError naming the problems. Consumes `main` and `ae`
    (entries are popped as they are converted, so that memory holds about one model)."""
    report = {"mapped": [], "dropped": [], "duplicates": [], "ae": None}
    if ae is not None:
        report["ae"] = merge_ae(cfg, main, ae, ae_prefix, log)
    cfg = fit_layers(cfg, main, log)
    with meta_params():
        model = VGT(cfg)
    target = OrderedDict((k, tuple(v.shape)) for k, v in model.state_dict().items())
    kinds = ("LM layer count mismatch", "checkpoint keys that map to nothing", "model tensors nothing maps to",
             "shape mismatches", "duplicate LM copies that differ")
    problems: Dict[str, List[str]] = {kind: [] for kind in kinds}
    layers, unexpected, missing, shapes, differ = problems.values()
    n, emb = lm_shape(main)
    if n is not None and n != cfg.lm.layers:
        layers.append(f"the checkpoint's LM has {n} layers and embedding {emb}, config {cfg.name} "
                      f"{cfg.lm.layers} layers and ({cfg.lm.vocab_size}, {cfg.lm.hidden})")
    src: Dict[str, str] = {}
    for k in list(main):
        reason = dropped_reason(cfg, k)
        if reason:
            report["dropped"].append((k, reason))
            del main[k]  # frees it where torch.load read everything
            continue
        ours = map_key(k)
        if ours not in target:
            unexpected.append(f"{k} {tuple(main[k].shape)}")
        elif ours in src:
            prev = src[ours]
            a = main[prev] = materialize(main[prev])  # kept: it is converted later
            b = materialize(main[k])
            if a.shape == b.shape and torch.equal(a, b):
                report["duplicates"].append((k, prev))
                del main[k]
            else:
                differ.append(f"{k} vs {prev}")
        else:
            src[ours] = k
    for ours, shape in target.items():
        if ours not in src:
            missing.append(f"{ours} {shape}")
        elif tuple(main[src[ours]].shape) != shape:
            shapes.append(f"{src[ours]} {tuple(main[src[ours]].shape)} -> {ours} expects {shape}")
    if any(problems.values()):
        fits = _lm_fits(emb, n)
        fixes = {
            kinds[0]: f"--config one of: {fits}",
            kinds[1]: "a training-only part belongs on KNOWN_UNUSED in vgt/convert_official.py; another layout or "
                      "prefix: compare with --list-keys" + ("; keys marked [--ae]: --ae-prefix TEXT" if ae is not None else ""),
            kinds[2]: f"check --config (LM fits: {fits}) and --list-keys" if not all(
                m.startswith("vgt_ae.") for m in missing) else "pass the separate AE file with --ae (hustvl/vgt_ae)"
                if ae is None else "the --ae file's names do not fit: --ae-prefix TEXT, or compare with --list-keys",
            kinds[3]: f"check --config (configs whose LM fits the checkpoint's: {fits})",
            kinds[4]: "the two copies of the Qwen LM must be identical: the file is inconsistent (send --list-keys)",
        }
        raise _refuse(f"conversion to config {cfg.name} refused", problems, fixes)
    for ours, shape in target.items():
        k = src[ours]
        v = materialize(main.pop(k))
        report["mapped"].append((k, ours, shape, str(v.dtype)))
        _set_tensor(model, ours, v.to(torch.float32).contiguous())  # no copy when already fp32
    return model.eval(), report


def convert(cfg: VGTConfig, checkpoint: str, ae_path: Optional[str] = None, log=print, weights: str = "auto",
            ae_prefix: Optional[str] = None):
    main, where = load_state(checkpoint, weights, log)
    log(f"{checkpoint}: {len(main)} tensors from {where}")
    ae = None
    if ae_path:
        ae, where_ae = load_state(ae_path, "auto", log)
        log(f"{ae_path}: {len(ae)} tensors from {where_ae}")
    model, report = convert_state(cfg, main, ae, log, ae_prefix)
    log(f"converted; peak RSS {ckpt_io.peak_rss_gib():.2f} GiB")
    return model, report


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
        for why, n in Counter(why for _, why in report["dropped"]).items():
            log(f"  {n:6d}  {why}")


def main(argv: Optional[List[str]] = None) -> int:
    from .checkpoint import save_checkpoint
    ap = argparse.ArgumentParser(prog="python -m vgt.convert_official", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", help="internvl3_1_6b, internvl3_0_6b, qwen25vl_1_6b (18 layers) or qwen25vl_2b (36)")
    ap.add_argument("--checkpoint", required=True, help="VGT .pth (mmengine checkpoint or raw state dict)")
    ap.add_argument("--weights", default="auto", choices=["auto", "ema_state_dict", "state_dict", "model"],
                    help="which state dict of an mmengine checkpoint (auto: ema_state_dict, else state_dict)")
    ap.add_argument("--ae", help="separate vgt_ae_*.pth; the checkpoint's own vgt_ae.* win over it")
    ap.add_argument("--ae-prefix", help="text to strip from the --ae keys (default: detected)")
    ap.add_argument("--tokenizer", help="the base VLM's tokenizer.json (Hugging Face format)")
    ap.add_argument("--img-token-ids", help="ids of '<img>' when it is not a special token (Qwen2.5-VL), e.g. 27,1892,29")
    ap.add_argument("--out", help="output vgt-checkpoint .pt")
    ap.add_argument("--bundle", help="also export a bundle folder")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float16")
    ap.add_argument("--pad-mask", choices=["prefill", "always"],
                    help="pads of the shorter prompt row: masked in the prefill only, as the reference's generate() "
                         "(the official configs' default), or in every step (batch-invariant)")
    ap.add_argument("--list-keys", action="store_true", help="print every key and shape of the inputs and exit")
    ap.add_argument("--verbose", action="store_true", help="list every mapped key, and every offending key of a refusal")
    args = ap.parse_args(argv)
    try:
        if args.list_keys:
            for path in filter(None, [args.checkpoint, args.ae]):
                sd, where = load_state(path, args.weights if path == args.checkpoint else "auto")
                print(f"# {path} ({where}, {len(sd)} tensors)")
                for k, v in sd.items():
                    print(f"{k}\t{tuple(v.shape)}\t{v.dtype}")
            return 0
        if not args.config or not args.out or not args.tokenizer:
            ap.error("--config, --out and --tokenizer are required (unless --list-keys)")
        with open(args.tokenizer, encoding="utf-8") as f:
            tok_json = json.load(f)
        img_ids = [int(x) for x in args.img_token_ids.split(",")] if args.img_token_ids else None
        cfg = get_config(args.config)
        if args.pad_mask:
            cfg = dataclasses.replace(cfg, pad_mask=args.pad_mask)
        model, report = convert(cfg, args.checkpoint, args.ae, weights=args.weights,
                                ae_prefix=args.ae_prefix)
    except ConversionError as e:
        print(f"conversion refused: {e.details if args.verbose else e}", file=sys.stderr)
        return 2
    print_report(report, verbose=args.verbose)
    cfg = model.c  # the checkpoint's layer count may have changed it
    save_checkpoint(args.out, model, tok_json,
                    extra={"source": {"checkpoint": args.checkpoint, "ae": args.ae}, "imgTokenIds": img_ids})
    print(f"wrote {args.out} (peak RSS {ckpt_io.peak_rss_gib():.2f} GiB)")
    if args.bundle:
        from .export import export_bundle
        export_bundle(model, args.bundle, name=cfg.description or cfg.name, bundle_id=f"vgt-{cfg.name}",
                      tokenizer_json=tok_json, dtype=args.dtype, img_token_ids=img_ids,
                      source={"checkpoint": args.checkpoint, "ae": args.ae, "converted": args.out})
        print(f"wrote bundle {args.bundle}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
