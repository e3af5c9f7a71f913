"""The PyTorch VGT rebuilt from a bundle's own weights: the inverse of `vgt.export` (BUNDLE.md).

  python -m vgt.bundle DIR --rebuild OUT.pt       # writes a vgt-checkpoint that `vgt.export --checkpoint` reads
  python -m vgt.bundle DIR --check                # rebuild, then every graph in ONNX Runtime against it
  python -m vgt.generate --bundle DIR ...         # the reference sampler (and `npm run bench`) on the rebuilt model

Reading the graphs and inferring the architecture is in bundle_graph.py.

A bundle ships ONNX graphs and raw tables only. Every parameter of `VGT` (`generator.*`, `vgt_ae.*`) is in them,
in one of these forms, which the export produces and this module undoes:

- an initializer under the parameter's own name, prefixed by the export wrapper's attribute (`lm.`, `g.`, `ae.`);
  with `--dtype float16`, `<name>__fp16` followed by a Cast whose output carries the name;
- a constant-folded copy under a node-derived name (`onnx::MatMul_123`): Linear weights transposed for MatMul,
  the decoder's RMSNorm weight and bias viewed as [1, C, 1, 1], the ViT position embedding after `.to(dtype)`.
  These are mapped through the node that consumes them: its scope (`/lm/layers.0/self_attn/q_proj/MatMul`)
  names the module, its op and input slot the parameter and the transform;
- torch's export merges initializers of equal value into one, read under the other names through Identity nodes:
  each name still reaches its own consumer, so nothing is lost;
- the flow head's adaLN modulations of all blocks as one matmul (`SimpleMLPAdaLN.modulation_y`), whose bias has
  modulate's `1 +` folded into the scale parts: split back per block, the 1 taken off again;
- `embed_tokens.bin` is `lm.embed_tokens.weight`; `pos_{h}x{w}.bin` is the centre crop of
  `adaptive_metaquery.pos_encoding.grid_embed`, `query_{h}x{w}.bin` that crop plus the same crop of `max_metaquery`.

What the bundle does not hold, the rebuild cannot invent; it reports it in `Rebuilt.notes`:
- the query tables outside the crops of `image.grids` (`maxGrid` is larger): zero there;
- `max_metaquery` inside the crops, and the modulation scale biases, are recovered from a float32 sum, so they can
  differ from the originals in the last bit; they are chosen so that the sums the model computes (the query table,
  the fused bias) are bit-identical to the bundle's;
- a float16 bundle gives the float16-rounded weights (computed in float32, as the graphs do).

The architecture comes from the manifest (`architecture`, `image`, `sampling`) and, for what it does not say (the
AE's widths, depths, kernel sizes, norm eps, pixel mean/std, head MLP ratio, ViT heads), from the graphs' weight
shapes, node attributes and folded constants. `image_positions` is read from `image.positions` when a manifest has
it, else the reference's "sequence".
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn

from . import bundle as B
from .bundle_graph import Graph, RebuildError, _named, infer_config, node_scope, resolve_scope

GRAPH_ROLES = ("lm_step", "latent_in", "head_cond", "head_velocity", "head_sde", "head_fused", "vgtae_decode",
               "vgtae_encode")
HEAD_ROLES = ("head_velocity", "head_sde", "head_fused")
# Each export wrapper (export.py) holds one part of the model under one attribute, so an initializer named
# "<attr>.<rest>" is the parameter "<part>.<rest>", and node scopes start at that part.
ROLE_PART = {"lm_step": "generator.lm", "latent_in": "generator", "head_cond": "generator",
             "head_velocity": "generator", "head_sde": "generator", "head_fused": "generator",
             "vgtae_decode": "vgt_ae", "vgtae_encode": "vgt_ae"}
# Where node scopes are resolved from: lm_step's scopes begin with the wrapper attribute `lm`.
SCOPE_ROOT = {"lm_step": "generator", "vgtae_decode": "vgt_ae", "vgtae_encode": "vgt_ae"}


@dataclass
class Rebuilt:
    model: nn.Module
    tokenizer_json: dict
    manifest: dict
    # state-dict key -> where its value came from ("lm_step.onnx: onnx::MatMul_569 (MatMul, transposed)")
    sources: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    # float initializers no parameter came from (folded buffers such as pixel mean/std): name -> element count
    unused: Dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ weights
def invert_sum(total: np.ndarray, addend: np.ndarray) -> np.ndarray:
    """x with float32(x + addend) == total wherever one exists near total - addend (the last-bit search of a
    rounded sum): recovers a summand so that the model's own sum reproduces the stored one bit for bit."""
    total = np.asarray(total, np.float32)
    addend = np.broadcast_to(np.asarray(addend, np.float32), total.shape)
    x = (total - addend).astype(np.float32)
    for _ in range(4):
        got = (x + addend).astype(np.float32)
        bad = got != total
        if not bad.any():
            break
        x = np.where(bad, np.nextafter(x, np.where(got < total, np.inf, -np.inf).astype(np.float32)), x)
    return x.astype(np.float32)


class Weights:
    """Collects state-dict values, checking that every value a parameter gets agrees with the others."""

    def __init__(self, model: nn.Module):
        self.sd = model.state_dict()
        self.got: Dict[str, torch.Tensor] = {}
        self.sources: Dict[str, str] = {}
        self.problems: List[str] = []

    def put(self, key: str, arr: np.ndarray, source: str) -> None:
        if key not in self.sd:
            self.problems.append(f"{source}: {key} is not a parameter of VGT")
            return
        want = tuple(self.sd[key].shape)
        arr = np.asarray(arr, np.float32)
        if arr.shape != want:
            if arr.size != int(np.prod(want)):
                self.problems.append(f"{source}: shape {list(arr.shape)} cannot be {key} {list(want)}")
                return
            arr = arr.reshape(want)
        t = torch.from_numpy(np.ascontiguousarray(arr)).to(self.sd[key].dtype)
        if key in self.got:
            if not torch.equal(self.got[key], t):
                err = float((self.got[key] - t).abs().max())
                self.problems.append(f"{key}: {source} disagrees with {self.sources[key]} (max diff {err:.3g})")
            return
        self.got[key] = t
        self.sources[key] = source


def _module_param(mod: nn.Module, path: str, node, slot: int, arr: np.ndarray, graph: Graph):
    """(key, array) pairs for a weight consumed by `node` at input `slot` inside module `path`, or []."""
    from .lm import RMSNorm
    from .vgtae import ChannelRMSNorm
    op = node.op_type
    if isinstance(mod, nn.Linear):
        if op == "MatMul" and slot == 1:
            return [(f"{path}.weight", arr.T)]
        if op == "Gemm" and slot == 1:
            return [(f"{path}.weight", arr if graph.attr(node, "transB", 0) else arr.T)]
        if (op == "Gemm" and slot == 2) or (op == "Add" and arr.ndim == 1):
            return [(f"{path}.bias", arr)]
        return []
    if isinstance(mod, (nn.Conv2d, nn.LayerNorm)) and slot in (1, 2):
        return [(f"{path}.{'weight' if slot == 1 else 'bias'}", arr)]
    if isinstance(mod, (ChannelRMSNorm, RMSNorm)):
        if op == "Mul":
            return [(f"{path}.weight", arr.reshape(-1))]
        if op == "Add" and isinstance(mod, ChannelRMSNorm):
            return [(f"{path}.bias", arr.reshape(-1))]
        return []
    # Anything else (ViT embeddings, layer scales): the module's own parameter of that shape, if only one fits.
    own = [(n, p) for n, p in mod.named_parameters(recurse=False)]
    fits = [n for n, p in own if tuple(p.shape) == arr.shape] or \
           [n for n, p in own if p.numel() == arr.size and _squeezed(p.shape) == _squeezed(arr.shape)]
    return [(f"{path}.{fits[0]}", arr)] if len(fits) == 1 else []


def _squeezed(shape) -> tuple:
    return tuple(s for s in shape if s != 1)


def _modulation(head, node, slot: int, arr: np.ndarray, graph: Graph, prefix: str):
    """The fused adaLN modulation (`modulation_y`): weight [M w, w] (Gemm, or transposed for MatMul) and bias [M w]
    with 1 added to every scale part; split back into each block's adaLN_modulation.1 (then the final layer's)."""
    w = head.input_proj.out_features
    mods = [f"res_blocks.{i}.adaLN_modulation.1" for i in range(len(head.res_blocks))] + \
           ["final_layer.adaLN_modulation.1"]
    widths = [head.get_submodule(p).out_features for p in mods]
    total = sum(widths)
    if arr.ndim == 2:
        if node.op_type == "MatMul" and arr.shape == (w, total):
            arr = arr.T
        elif node.op_type == "Gemm" and not graph.attr(node, "transB", 0):
            arr = arr.T
        if arr.shape != (total, w):
            return []
        out, r = [], 0
        for p, n in zip(mods, widths):
            out.append((f"{prefix}{p}.weight", arr[r:r + n]))
            r += n
        return out
    if arr.ndim == 1 and arr.shape[0] == total:
        out, r = [], 0
        for p, n in zip(mods, widths):
            unit = np.zeros(n, np.float32)
            unit[w:2 * w] = 1.0  # (shift, 1 + scale[, gate])
            out.append((f"{prefix}{p}.bias", invert_sum(arr[r:r + n], unit)))
            r += n
        return out
    return []


def map_graph(role: str, graph: Graph, model: nn.Module, weights: Weights, unused: Dict[str, int]) -> None:
    part = ROLE_PART[role]
    rel = os.path.basename(graph.path)
    root_name = SCOPE_ROOT.get(role, "generator")
    root = model.get_submodule(root_name)
    names = [n for n, _ in root.named_modules()]
    named = {v: k for k, v in _named(graph, part).items()}
    head = model.generator.head
    head_prefix = "generator.image_head.net."
    for name in graph.leaves():
        arr = graph.weights[name]
        key = named.get(name)
        if key is not None and key in weights.sd and weights.sd[key].numel() == arr.size:
            weights.put(key, arr, f"{rel}: {name}")
            continue
        placed = False
        for node, slot in graph.uses(name):
            segs = node_scope(node)
            pairs = []
            if role in HEAD_ROLES and not segs and node.op_type in ("Gemm", "MatMul", "Add"):
                pairs = _modulation(head, node, slot, arr, graph, head_prefix)
            if not pairs:
                path = resolve_scope(names, segs) if segs else None
                if path is not None:
                    pairs = _module_param(root.get_submodule(path), f"{root_name}.{path}", node, slot, arr, graph)
            how = f"{rel}: {graph.origin.get(name, name)} ({node.op_type} {node.name})"
            for k, v in pairs:
                weights.put(k, v, how)
            placed = placed or bool(pairs)
        if not placed:
            unused[f"{rel}: {graph.origin.get(name, name)}"] = int(arr.size)


def _tables(m: dict, bundle_dir: str, model: nn.Module, weights: Weights, notes: List[str]) -> None:
    emb = B.files_by_role(m, "token_embedding")
    for rel, e in emb.items():
        weights.put("generator.lm.embed_tokens.weight", B.read_raw(bundle_dir, rel, e), rel)
    amq = model.generator.adaptive_metaquery
    H, gh, gw = amq.max_metaquery.shape[1:]
    mq = np.zeros((H, gh, gw), np.float32)
    pe = np.zeros((H, gh, gw), np.float32)
    known = np.zeros((gh, gw), bool)
    queries = {tuple(e["grid"]): (rel, e) for rel, e in B.files_by_role(m, "query_table").items()}
    poss = {tuple(e["grid"]): (rel, e) for rel, e in B.files_by_role(m, "pos_table").items()}
    for h, w in sorted(queries, key=lambda g: -g[0] * g[1]):
        if (h, w) not in poss:
            weights.problems.append(f"no pos_table for grid {h}x{w}")
            continue
        q = B.read_raw(bundle_dir, *queries[(h, w)]).astype(np.float32).T.reshape(H, h, w)
        p = B.read_raw(bundle_dir, *poss[(h, w)]).astype(np.float32).T.reshape(H, h, w)
        r0, c0 = (gh - h) // 2, (gw - w) // 2
        win = (slice(None), slice(r0, r0 + h), slice(c0, c0 + w))
        x = invert_sum(q, p)
        seen = known[r0:r0 + h, c0:c0 + w]
        if seen.any() and not (np.array_equal(pe[win][:, seen], p[:, seen])
                               and np.array_equal((mq[win] + pe[win])[:, seen].astype(np.float32), q[:, seen])):
            weights.problems.append(f"query/pos tables of grid {h}x{w} disagree with a larger grid's where they "
                                    "overlap")
        pe[win], mq[win] = p, x
        known[r0:r0 + h, c0:c0 + w] = True
    weights.put("generator.adaptive_metaquery.max_metaquery", mq[None], "query_*.bin - pos_*.bin")
    weights.put("generator.adaptive_metaquery.pos_encoding.grid_embed", pe[None], "pos_*.bin")
    if not known.all():
        notes.append(f"query tables: {int(known.sum())} of {gh * gw} cells of the {gh}x{gw} tables are in the bundle "
                     f"(the crops of image.grids); the others are zero")


def rebuild(bundle_dir: str, check_names: bool = True) -> Rebuilt:
    """The PyTorch VGT of a bundle, from its own weights; raises RebuildError listing every problem."""
    from .config import get_config
    from .queryar import VGT
    m = B.validate_bundle(bundle_dir)
    graphs: Dict[str, Graph] = {}
    for rel, e in m["files"].items():
        if e["role"] in GRAPH_ROLES and rel.endswith(".onnx"):
            graphs[e["role"]] = Graph(os.path.join(bundle_dir, rel))
    cfg = infer_config(m, graphs)
    with open(os.path.join(bundle_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok_json = json.load(f)
    if tok_json.get("model", {}).get("type") == "WordPiece":  # our models: phrase tokens or not
        from .tokenizer import WordPieceTokenizer
        cfg.text_phrases = bool(WordPieceTokenizer.load_dict(tok_json).phrases)
        cfg.prompt_template = m["prompt"]["template"]
    model = VGT(cfg).eval()
    weights = Weights(model)
    notes: List[str] = []
    unused: Dict[str, int] = {}
    _tables(m, bundle_dir, model, weights, notes)
    for role, graph in graphs.items():
        map_graph(role, graph, model, weights, unused)
    missing = [k for k in weights.sd if k not in weights.got]
    problems = list(weights.problems)
    if missing:
        more = " …" if len(missing) > 12 else ""
        problems.append(f"no value in the bundle for {len(missing)} parameter(s): {', '.join(missing[:12])}{more}")
    if problems:
        raise RebuildError(problems)
    model.load_state_dict(weights.got, strict=True)
    model.eval()
    if m.get("dtype") == "float16":
        notes.append("float16 bundle: the weights are the float16-rounded ones, held and computed in float32")
    notes.append("max_metaquery and the flow head's adaLN scale biases come from float32 sums (query = metaquery + "
                 "pos, 1 + scale): they reproduce those sums bit for bit and may differ from the originals in the "
                 "last bit")
    if check_names and cfg.name in _known_configs():
        diff = _config_diff(get_config(cfg.name), cfg)
        if diff:
            notes.append(f"architecture differs from the named config {cfg.name!r} in: {', '.join(diff)}")
    return Rebuilt(model=model, tokenizer_json=tok_json, manifest=m, sources=weights.sources, notes=notes,
                   unused=unused)


def _known_configs():
    from .config import CONFIGS
    return CONFIGS


def _config_diff(a, b, prefix: str = "") -> List[str]:
    """Paths of config fields that differ (vocabulary size, texts and sampling defaults aside)."""
    out = []
    skip = {"name", "description", "licence", "sampling", "vocab_size", "text_phrases", "prompt_template"}
    for f in dataclasses.fields(a):
        if f.name in skip or not hasattr(b, f.name):
            continue
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x):
            out += _config_diff(x, y, prefix + f.name + ".")
        elif not _same_value(x, y):
            out.append(prefix + f.name)
    return out


def _same_value(x, y) -> bool:
    """Equal, floats (also inside tuples: pixel mean/std) to float32 precision, as the graphs store them."""
    if isinstance(x, (list, tuple)) or isinstance(y, (list, tuple)):
        x, y = tuple(x), tuple(y)
        return len(x) == len(y) and all(_same_value(u, v) for u, v in zip(x, y))
    if isinstance(x, float) or isinstance(y, float):
        return bool(np.isclose(float(x), float(y), rtol=1e-6, atol=0))
    return x == y


def save(rebuilt: Rebuilt, path: str) -> None:
    """A vgt-checkpoint (checkpoint.py) of the rebuilt model; `rebuiltFrom` says which bundle and how."""
    from .checkpoint import save_checkpoint
    m = rebuilt.manifest
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    save_checkpoint(tmp, rebuilt.model, rebuilt.tokenizer_json, extra={
        "imgTokenIds": m["prompt"]["imgTokenIds"],
        "rebuiltFrom": {"bundle": m["id"], "name": m["name"], "dtype": m["dtype"], "source": m.get("source") or {},
                        "notes": rebuilt.notes}})
    os.replace(tmp, path)
