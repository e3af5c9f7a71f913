"""Export a VGT checkpoint (any config) to a model bundle, then check every graph.

  python -m vgt.export --config tiny --seed 0 --out ../test/fixtures/tiny-bundle     # random-init tiny
  python -m vgt.export --checkpoint runs/shapes/last.pt --out runs/shapes-bundle      # a trained model
  python -m vgt.export ... --dtype float16                                            # fp16 weight storage

The check runs onnx.checker on every graph, then ONNX Runtime (onnxruntime-node, tools/ort_run.mjs) on
seeded inputs, and prints the max abs error against PyTorch per graph.
"""
from __future__ import annotations

import argparse
import io
import inspect
import json
import os
import sys
import time
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import bundle as B
from .config import IMG_TOKEN, UNCOND_PROMPT
from .queryar import VGT, text_position_ids
from .sampler import CFG_SCHEDULES, LAST_STEP
from .tokenizer import WordPieceTokenizer, tokenizer_for

OPSET = 17
FP16_MIN_NUMEL = 256
EXTERNAL_DATA_LIMIT = 1_800_000_000  # graphs above this size store weights in "<graph>.onnx.data"


# ------------------------------------------------------------------------------------ graph wrappers
class LMStep(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.lm = model.generator.lm
        self.L = model.c.lm.layers

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.L)]
        hidden, present = self.lm(inputs_embeds, attention_mask, position_ids, past)
        out = [hidden]
        for k, v in present:
            out += [k, v]
        return tuple(out)


class LatentIn(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.g = model.generator

    def forward(self, z, pos):
        return self.g.latent_in(z, pos)


class HeadCond(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.g = model.generator

    def forward(self, hidden):
        return self.g.head_cond(hidden)


class HeadVelocity(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.g = model.generator

    def forward(self, x, t, cond):
        return self.g.head.velocity_fused(x, t, cond)


class HeadSDE(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.g = model.generator

    def forward(self, hidden, x, eps, coef, ts, cfg):
        cond = self.g.head_cond(hidden)
        x, v = self.g.head.sde(cond, x, eps, coef, ts, cfg, LAST_STEP)
        return x, v, cond


class HeadFused(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.g = model.generator

    def forward(self, x, t, hidden):
        return self.g.head.velocity_fused(x, t, self.g.head_cond(hidden))


class AEDecode(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.ae = model.vgt_ae

    def forward(self, z):
        return self.ae.decode(z)


class AEEncode(nn.Module):
    def __init__(self, model: VGT):
        super().__init__()
        self.ae = model.vgt_ae

    def forward(self, image):
        return self.ae.encode(image)


def lm_io_names(L: int) -> Tuple[List[str], List[str]]:
    ins = ["inputs_embeds", "attention_mask", "position_ids"]
    outs = ["hidden_states"]
    for i in range(L):
        ins += [f"past_key.{i}", f"past_value.{i}"]
        outs += [f"present_key.{i}", f"present_value.{i}"]
    return ins, outs


# ------------------------------------------------------------------------------------ sample inputs
def graph_specs(model: VGT, grid: Tuple[int, int], fused_head: bool = False):
    """For each graph: (wrapper, input names, output names, dynamic axes, example-input builder(seed, case),
    check cases). Graph I/O is float32 in every bundle (float16 bundles store fp16 weights only)."""
    c = model.c
    H, L, kvH, hd, dZ, W = c.lm.hidden, c.lm.layers, c.lm.kv_heads, c.lm.head_dim, c.d_z, c.head.width
    dt = torch.float32
    gh, gw = grid

    def lm_inputs(seed, case):
        g = torch.Generator().manual_seed(seed)
        Bn, S, P = {"trace": (2, 3, 4), "prefill": (2, 7, 0), "decode": (2, 5, 9)}[case]
        emb = torch.randn(Bn, S, H, generator=g).to(dt)
        mask = torch.ones(Bn, P + S, dtype=torch.long)
        mask[1, 2:4] = 0  # second row carries pads (right-padded text): they stay masked in every step
        pos = text_position_ids(mask, c.image_positions)[:, -S:]
        if pos.dim() == 3:  # 2-D RoPE [B,S,2]: rows and columns apart, as image items have them
            pos = pos + torch.stack([torch.zeros(S, dtype=torch.long), torch.arange(S) % 3 - 1], -1).clamp(min=0)
        past = [(torch.randn(Bn, kvH, P, hd, generator=g) * 0.5).to(dt) for _ in range(2 * L)]
        return [emb, mask, pos] + past

    ins, outs = lm_io_names(L)
    dyn_lm = {"inputs_embeds": {0: "B", 1: "S"}, "attention_mask": {0: "B", 1: "T"}, "position_ids": {0: "B", 1: "S"},
              "hidden_states": {0: "B", 1: "S"}}
    for i in range(L):
        for kv in ("key", "value"):
            dyn_lm[f"past_{kv}.{i}"] = {0: "B", 2: "P"}
            dyn_lm[f"present_{kv}.{i}"] = {0: "B", 2: "T"}

    def rnd(seed, *shape, scale=1.0):
        return (torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale).to(dt)

    def t_in(seed, n):
        return torch.rand(n, generator=torch.Generator().manual_seed(seed + 1)).to(dt)

    sde_steps = c.sampling.steps

    def sde_inputs(seed, case):
        n = {"trace": 2, "n1": 1, "n3": 3}[case]
        ts = torch.linspace(0, 1 - LAST_STEP, sde_steps, dtype=dt)
        d = ts[1:] - ts[:-1]
        coef = torch.stack([1 + ts[:-1], d, torch.sqrt(2 * (1 - ts[:-1])) * torch.sqrt(d)], 1)
        return [rnd(seed, 2 * n, H), rnd(seed + 1, n, dZ), rnd(seed + 2, sde_steps - 1, n, dZ), coef, ts,
                torch.tensor([2.5], dtype=dt)]

    specs = {
        "lm_step": (LMStep(model), ins, outs, dyn_lm, lm_inputs, ("prefill", "decode")),
        "latent_in": (LatentIn(model), ["z", "pos"], ["embeds"], {"z": {0: "N"}, "pos": {0: "N"}, "embeds": {0: "N"}},
                      lambda s, case: [rnd(s, 6, dZ), rnd(s + 1, 6, H, scale=0.5)], ("n6",)),
        "head_cond": (HeadCond(model), ["hidden"], ["cond"], {"hidden": {0: "N"}, "cond": {0: "N"}},
                      lambda s, case: [rnd(s, 6, H)], ("n6",)),
        "head_velocity": (HeadVelocity(model), ["x", "t", "cond"], ["v"],
                          {"x": {0: "N"}, "t": {0: "N"}, "cond": {0: "N"}, "v": {0: "N"}},
                          lambda s, case: [rnd(s, 6, dZ), t_in(s, 6), rnd(s + 2, 6, W)], ("n6",)),
        "head_sde": (HeadSDE(model), ["hidden", "x", "eps", "coef", "ts", "cfg"], ["x_out", "v", "cond"],
                     {"hidden": {0: "R"}, "x": {0: "N"}, "eps": {1: "N"}, "x_out": {0: "N"}, "v": {1: "N"},
                      "cond": {0: "R"}},
                     sde_inputs, ("n1", "n3")),
        "vgtae_decode": (AEDecode(model), ["z"], ["image"],
                         {"z": {0: "B", 2: "h", 3: "w"}, "image": {0: "B", 2: "H", 3: "W"}},
                         lambda s, case: [rnd(s, 2 if case != "b1" else 1, dZ, gh, gw)], ("b2", "b1")),
    }
    if model.vgt_ae.has_encoder:
        S = c.ae.image_size
        specs["vgtae_encode"] = (AEEncode(model), ["image"], ["z"], {"image": {0: "B"}, "z": {0: "B"}},
                                 lambda s, case: [(torch.rand(2, 3, S, S, generator=torch.Generator().manual_seed(s)) * 2 - 1).to(dt)],
                                 ("b2",))
    if fused_head:
        specs["head_fused"] = (HeadFused(model), ["x", "t", "hidden"], ["v"],
                               {"x": {0: "N"}, "t": {0: "N"}, "hidden": {0: "N"}, "v": {0: "N"}},
                               lambda s, case: [rnd(s, 6, dZ), t_in(s, 6), rnd(s + 2, 6, H)], ("n6",))
    return specs


def fp16_weights(proto) -> None:
    """Store float initializers as float16, each followed by a Cast to float: the file halves while compute
    and graph I/O stay float32 (torch 1.13 on CPU cannot trace a half model, and fp32 compute is safer).
    Tensors under FP16_MIN_NUMEL elements (norm weights, folded constants such as pixel mean/std) stay
    float32: they weigh nothing and rounding folded constants would break the parity check; so do vectors
    (biases: the fused head folds modulate's `1 +` into them, where fp16's 2^-11 step would show)."""
    from onnx import TensorProto, helper, numpy_helper
    g = proto.graph
    casts, keep = [], []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT and len(init.dims) >= 2 and int(np.prod(init.dims)) >= FP16_MIN_NUMEL:
            arr = numpy_helper.to_array(init).astype(np.float16)
            keep.append(numpy_helper.from_array(arr, init.name + "__fp16"))
            casts.append(helper.make_node("Cast", [init.name + "__fp16"], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "__cast"))
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)


def export_graph(wrapper: nn.Module, example: Sequence[torch.Tensor], path: str, ins, outs, dyn,
                 dtype: str = "float32") -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = io.BytesIO()
        # The TorchScript exporter (custom symbolics, dynamic_axes): newer torch defaults to the dynamo one.
        kw = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
        torch.onnx.export(wrapper, tuple(example), f, input_names=ins, output_names=outs, dynamic_axes=dyn,
                          opset_version=OPSET, do_constant_folding=True, **kw)
    import onnx
    proto = onnx.load_from_string(f.getvalue())
    if dtype == "float16":
        fp16_weights(proto)
    if proto.ByteSize() > EXTERNAL_DATA_LIMIT:
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=1024)
    else:
        onnx.save_model(proto, path)


# ------------------------------------------------------------------------------------ bundle export
def latent_preview_factors(model: VGT, n: int = 64, seed: int = 5) -> Optional[dict]:
    """Linear latent -> RGB factors for instant previews (image studios' "latent2rgb"): a least-squares fit of
    each token's decoded cell colour (mean over its stride x stride pixels, in [-1, 1]) on its latent, over
    Shapes World renders encoded by the model's own VGT-AE. Fitting on random latents does not work (measured
    on vgt-shapes: RMSE 173/255 vs 16/255 on real ones), so decode-only models (no encoder) get none."""
    from .shapes import world
    ae, c = model.vgt_ae, model.c
    if not ae.has_encoder:
        return None
    rng = np.random.default_rng(seed)
    images = np.stack([world.sample(rng, c.ae.image_size, train=False)[0] for _ in range(n)])
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        z = ae.encode(x)
        cells = F.avg_pool2d(ae.decode(z), c.ae.token_stride)
    dz = z.shape[1]
    X = torch.cat([z.permute(0, 2, 3, 1).reshape(-1, dz), torch.ones(z.shape[0] * z.shape[2] * z.shape[3], 1)], 1)
    Y = cells.permute(0, 2, 3, 1).reshape(-1, 3)
    sol = torch.linalg.lstsq(X.double(), Y.double()).solution  # [dZ + 1, 3]
    weights = sol[:dz].t()
    # LayerNormed latents sum to 0 over channels, so a constant added to a row of weights changes nothing and
    # lstsq leaves one arbitrary (~600 on vgt-shapes): take the row's zero-mean form, which float32 keeps exact.
    weights = weights - weights.mean(1, keepdim=True)
    rmse = float(((X[:, :dz].double() @ weights.t() + sol[dz] - Y.double()) * 127.5).pow(2).mean().sqrt())
    return {"weights": [round(float(v), 6) for v in weights.reshape(-1)],
            "bias": [round(float(v), 6) for v in sol[dz]], "fitRmse255": round(rmse, 2)}


def tokenizer_info(tok_json: dict, img_token_ids: Optional[List[int]] = None) -> Tuple[dict, int, List[int]]:
    """(specialTokens, padTokenId, imgTokenIds) from an HF tokenizer.json."""
    specials = {a["content"]: a["id"] for a in tok_json.get("added_tokens", [])}
    if tok_json.get("model", {}).get("type") == "WordPiece":
        tok = WordPieceTokenizer.load_dict(tok_json)  # its phrase tokens are added tokens, not special ones
        return {s: tok.ids[s] for s in tok.specials}, tok.pad_id, img_token_ids or tok.img_token_ids()
    if img_token_ids is None:
        if IMG_TOKEN not in specials:
            raise ValueError(f"tokenizer has no special {IMG_TOKEN}; pass its ids (--img-token-ids)")
        img_token_ids = [specials[IMG_TOKEN]]
    pad = specials.get("<|endoftext|>", specials.get("<pad>"))
    if pad is None:
        raise ValueError("tokenizer has neither <|endoftext|> nor <pad> to pad with")
    return specials, pad, img_token_ids


def export_bundle(model: VGT, out_dir: str, *, name: str, bundle_id: str, tokenizer_json: dict,
                  dtype: str = "float32", grids: Optional[List[Tuple[int, int]]] = None, source: Optional[dict] = None,
                  fused_head: bool = False, img_token_ids: Optional[List[int]] = None,
                  edit_context: Optional[str] = None, log=print) -> dict:
    c = model.c
    model = model.eval()
    grid = tuple(c.grid)
    grids = [tuple(g) for g in (grids or [grid])]
    if grid not in grids:
        grids.insert(0, grid)
    os.makedirs(out_dir, exist_ok=True)
    files: Dict[str, dict] = {}
    npdt = np.float16 if dtype == "float16" else np.float32

    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json, f, ensure_ascii=False)
    files["tokenizer.json"] = B.file_entry(out_dir, "tokenizer.json", "tokenizer")
    g = model.generator
    with torch.no_grad():
        files["embed_tokens.bin"] = B.write_raw(out_dir, "embed_tokens.bin",
                                                g.lm.embed_tokens.weight.float().numpy().astype(npdt), "token_embedding")
        for gh, gw in grids:
            q = g.adaptive_metaquery.queries(gh, gw).float().numpy().astype(npdt)
            p = g.adaptive_metaquery.pos(gh, gw).float().numpy().astype(npdt)
            files[f"query_{gh}x{gw}.bin"] = B.write_raw(out_dir, f"query_{gh}x{gw}.bin", q, "query_table", grid=[gh, gw])
            files[f"pos_{gh}x{gw}.bin"] = B.write_raw(out_dir, f"pos_{gh}x{gw}.bin", p, "pos_table", grid=[gh, gw])

    specs = graph_specs(model, grid, fused_head)
    for role, (wrapper, ins, outs, dyn, make, _cases) in specs.items():
        t0 = time.time()
        rel = f"{role}.onnx"
        export_graph(wrapper, make(1234, "trace"), os.path.join(out_dir, rel), ins, outs, dyn, dtype)
        files[rel] = B.file_entry(out_dir, rel, role, dtype=dtype)
        if role == "head_sde":
            files[rel]["steps"] = c.sampling.steps
        if os.path.exists(os.path.join(out_dir, rel + ".data")):
            files[rel + ".data"] = B.file_entry(out_dir, rel + ".data", "onnx_external_data", graph=rel)
        log(f"exported {rel:20s} {files[rel]['bytes'] / 1e6:8.3f} MB  ({time.time() - t0:.1f} s)")

    specials, pad_id, img_ids = tokenizer_info(tokenizer_json, img_token_ids)
    s = c.sampling
    manifest = {
        "format": B.FORMAT,
        "formatVersion": B.FORMAT_VERSION,
        "name": name,
        "id": bundle_id,
        "licence": c.licence,
        "description": c.description,
        "dtype": dtype,
        "architecture": {
            "config": c.name, "hidden": c.lm.hidden, "layers": c.lm.layers, "heads": c.lm.heads,
            "kvHeads": c.lm.kv_heads, "headDim": c.lm.head_dim, "ffn": c.lm.ffn, "ropeTheta": c.lm.rope_theta,
            "rmsEps": c.lm.rms_eps, "vocabSize": c.lm.vocab_size, "dZ": c.d_z, "headWidth": c.head.width,
            "headLayers": c.head.layers, "headFreqDim": c.head.freq_dim, "maxGrid": list(c.max_grid),
            "latentLnEps": c.ae.latent_ln_eps, "aeEncoder": c.ae.encoder,
            # a local-window encoder's mask is a constant of vgtae_encode; the field lets a rebuild reproduce it
            **({"aeLocalWindow": c.ae.vit.local_window} if c.ae.vit.local_window else {}),
            # tokens of G x G AE cells: the graphs group and ungroup inside; the field lets a rebuild split dZ and grid
            **({"aeLatentGroup": c.ae.latent_group} if c.ae.latent_group > 1 else {}),
        },
        "image": {"size": c.ae.image_size, "grid": list(grid), "stride": c.ae.token_stride,
                  "grids": [list(x) for x in grids], "positions": c.image_positions},  # BUNDLE.md "Image positions"
        "prompt": {"template": c.prompt_template, "unconditional": UNCOND_PROMPT, "imgToken": IMG_TOKEN,
                   "imgTokenIds": img_ids, "padTokenId": pad_id, "specialTokens": specials,
                   "padMask": getattr(c, "pad_mask", "always")},  # BUNDLE.md "Padding"
        "sampling": {"steps": s.steps, "cfg": s.cfg, "cfgSchedule": s.cfg_schedule, "tokensPerStep": s.tokens_per_step,
                     "order": s.order, "timeGrid": "linspace(0, 0.96, steps)", "lastStep": 0.04},
        "source": source or {},
        "files": files,
    }
    preview = latent_preview_factors(model)
    if preview is not None:
        manifest["preview"] = {"latentRgb": preview}
    if edit_context is not None:  # BUNDLE.md "Edits"; absent: "all"
        if edit_context not in B.EDIT_CONTEXTS:
            raise ValueError(f"edit_context must be one of {B.EDIT_CONTEXTS}, got {edit_context!r}")
        manifest["sampling"]["editContext"] = edit_context
    B.write_manifest(out_dir, manifest)
    B.validate_bundle(out_dir, deep=True)
    return manifest


# ------------------------------------------------------------------------------------ checks
def check_bundle(model: VGT, bundle_dir: str, log=print, extra_grids: Sequence[Tuple[int, int]] = ()) -> Dict[str, float]:
    """onnx.checker + ONNX Runtime vs PyTorch on seeded inputs; returns max abs error per graph."""
    import onnx
    from .ortnode import ort_unavailable_reason, run_graphs
    m = B.validate_bundle(bundle_dir, deep=True)
    model = model.eval()
    if m["dtype"] == "float16":  # compare against the same fp16-rounded weights, computed in fp32
        import copy
        model = copy.deepcopy(model).eval()
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() >= 2 and p.numel() >= FP16_MIN_NUMEL:
                    p.copy_(p.half().float())
    grid = tuple(m["image"]["grid"])
    specs = graph_specs(model, grid, fused_head="head_fused.onnx" in m["files"])
    for rel, e in m["files"].items():
        if rel.endswith(".onnx"):
            onnx.checker.check_model(os.path.join(bundle_dir, rel))
    log("onnx.checker: all graphs ok")
    why = ort_unavailable_reason()
    if why:
        raise RuntimeError(f"cannot run ONNX Runtime: {why}")
    runs, refs = [], []
    for role, (wrapper, ins, outs, _dyn, make, cases) in specs.items():
        if f"{role}.onnx" not in m["files"]:  # optional graphs (head_sde) of older bundles
            continue
        for ci, case in enumerate(cases):
            example = make(100 + ci, case)
            with torch.no_grad():
                ref = wrapper(*example)
            ref = ref if isinstance(ref, tuple) else (ref,)
            feeds = {n: x.numpy() for n, x in zip(ins, example)}
            runs.append((os.path.join(bundle_dir, f"{role}.onnx"), feeds))
            refs.append((role, case, dict(zip(outs, [r.float().numpy() for r in ref]))))
    for gh, gw in extra_grids:  # decoder at another grid (dynamic h, w)
        z = torch.randn(1, model.c.d_z, gh, gw, generator=torch.Generator().manual_seed(7))
        with torch.no_grad():
            ref = model.vgt_ae.decode(z)
        runs.append((os.path.join(bundle_dir, "vgtae_decode.onnx"), {"z": z.numpy()}))
        refs.append(("vgtae_decode", f"grid{gh}x{gw}", {"image": ref.float().numpy()}))
    results = run_graphs(runs)
    errors: Dict[str, float] = {}
    for (role, case, ref), got in zip(refs, results):
        err = 0.0
        for name, r in ref.items():
            if name not in got:
                raise RuntimeError(f"{role}: ONNX output {name} missing")
            if tuple(got[name].shape) != r.shape:
                raise RuntimeError(f"{role} ({case}): {name} shape {got[name].shape} != torch {r.shape}")
            err = max(err, float(np.abs(got[name].astype(np.float32) - r).max()))
        errors[role] = max(errors.get(role, 0.0), err)
        log(f"  {role:14s} {case:10s} max abs err {err:.3e}")
    return errors


def _parse_grids(s: Optional[str]) -> List[Tuple[int, int]]:
    if not s:
        return []
    out = []
    for part in s.split(","):
        h, w = part.lower().split("x")
        out.append((int(h), int(w)))
    return out


def main(argv: Optional[List[str]] = None) -> int:
    from .checkpoint import load_checkpoint, seeded_model
    ap = argparse.ArgumentParser(prog="python -m vgt.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="a vgt-checkpoint .pt (our training or convert_official output)")
    src.add_argument("--config", help="random-init model of a named config (tests): tiny, shapes")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random init (--config)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name")
    ap.add_argument("--id")
    ap.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                    help="weight storage; graph I/O and compute stay float32")
    ap.add_argument("--grids", help="extra latent grids for the query/pos tables, e.g. 4x4,12x12")
    ap.add_argument("--fused-head", action="store_true", help="also export head_fused.onnx (x, t, hidden) -> v")
    ap.add_argument("--edit-context", choices=list(B.EDIT_CONTEXTS), default=None,
                    help="sampling.editContext: what an edit's LM sees besides the prompt by default, every kept "
                         "token (all) or the prompt alone (none); left out, the manifest has none and readers use all")
    ap.add_argument("--order", choices=("random", "raster"), default=None,
                    help="sampling.order of the bundle instead of the checkpoint's (a generator trained in the "
                         "coarse-first order, which bundles do not name, samples in random order)")
    ap.add_argument("--cfg", type=float, default=None, help="sampling.cfg of the bundle instead of the checkpoint's")
    ap.add_argument("--cfg-schedule", choices=CFG_SCHEDULES, default=None,
                    help="sampling.cfgSchedule of the bundle instead of the checkpoint's")
    ap.add_argument("--tokens-per-step", type=int, default=None,
                    help="sampling.tokensPerStep of the bundle instead of the checkpoint's")
    ap.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime vs PyTorch comparison")
    ap.add_argument("--tol", type=float, default=None, help="fail if any graph's max abs error exceeds this "
                                                                "(default 1e-4)")
    args = ap.parse_args(argv)

    tok_json = None
    if args.checkpoint:
        model, ck = load_checkpoint(args.checkpoint)
        tok_json = ck.get("tokenizer")
        img_ids = ck.get("imgTokenIds")
        # The file name and hash identify the checkpoint; an absolute path would only leak this machine's layout.
        source = {"checkpoint": os.path.basename(args.checkpoint), "sha256": B.sha256_file(args.checkpoint)}
    else:
        model = seeded_model(args.config, args.seed)
        source = {"config": args.config, "seed": args.seed, "init": "vgt.queryar.randomize_"}
        img_ids = None
    if tok_json is None:
        tok_json = tokenizer_for(model.c).to_hf_json()
    c = model.c
    # sampling defaults chosen after training (validation ShapesEval), not baked into the checkpoint; refused before
    # the output folder is touched, in the ranges the studio accepts
    cells = c.grid[0] * c.grid[1]
    if args.cfg is not None and not 0 <= args.cfg <= 100:
        ap.error(f"--cfg must be from 0 to 100, got {args.cfg}")
    if args.tokens_per_step is not None and not 1 <= args.tokens_per_step <= cells:
        ap.error(f"--tokens-per-step must be from 1 to the {cells} tokens of an image, got {args.tokens_per_step}")
    if args.order:
        c.sampling.order = args.order
    if args.cfg is not None:
        c.sampling.cfg = args.cfg
    if args.cfg_schedule:
        c.sampling.cfg_schedule = args.cfg_schedule
    if args.tokens_per_step is not None:
        c.sampling.tokens_per_step = args.tokens_per_step
    if os.path.isdir(args.out):
        for f in os.listdir(args.out):  # stale graphs would otherwise survive next to the new manifest
            p = os.path.join(args.out, f)
            if os.path.isfile(p) and (f.endswith((".onnx", ".bin", ".data")) or f in ("tokenizer.json", B.MANIFEST)):
                os.remove(p)
    manifest = export_bundle(model, args.out, name=args.name or f"VGT {c.name}", bundle_id=args.id or f"vgt-{c.name}",
                             tokenizer_json=tok_json, dtype=args.dtype, grids=_parse_grids(args.grids), source=source,
                             fused_head=args.fused_head, img_token_ids=img_ids, edit_context=args.edit_context)
    total = sum(e["bytes"] for e in manifest["files"].values())
    print(f"bundle {args.out}: {len(manifest['files'])} files, {total / 1e6:.3f} MB")
    if args.no_check:
        return 0
    extra = [tuple(g) for g in manifest["image"]["grids"] if tuple(g) != tuple(manifest["image"]["grid"])]
    errors = check_bundle(model, args.out, extra_grids=extra)
    print("per-graph max abs error (ONNX Runtime vs PyTorch):")
    for k, v in errors.items():
        print(f"  {k:14s} {v:.3e}")
    tol = args.tol if args.tol is not None else 1e-4
    if tol is not None and max(errors.values()) > tol:
        print(f"FAIL: error above {tol}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
