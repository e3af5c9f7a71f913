"""Reading a bundle's ONNX graphs for the rebuild (rebuild.py): weights by value name, node scopes, and the
architecture that the manifest leaves out, read off weight shapes, node attributes and folded constants."""
from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import bundle as B

PASS_THROUGH = ("Cast", "Identity")


class RebuildError(ValueError):
    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("cannot rebuild the PyTorch model: " + "; ".join(self.problems))


# ------------------------------------------------------------------------------------ reading a graph
class Graph:
    """A graph's weights as float32 arrays by value name (initializers, and their Cast-to-float and Identity
    outputs), its Constant nodes, and who consumes what."""

    def __init__(self, path: str):
        import onnx
        from onnx import TensorProto, numpy_helper
        self.path = path
        proto = onnx.load(path)  # external data (<graph>.onnx.data) is read from the graph's folder
        g = proto.graph
        self.nodes = list(g.node)
        self.inputs = [i.name for i in g.input]
        self.weights: Dict[str, np.ndarray] = {}
        self.origin: Dict[str, str] = {}  # value name -> the initializer it comes from
        self.stored: Dict[str, str] = {}  # initializer -> its stored dtype
        self.consts: Dict[str, np.ndarray] = {}
        for init in g.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype in (np.float32, np.float16, np.float64):
                self.weights[init.name] = arr.astype(np.float32)
                self.origin[init.name] = init.name
                self.stored[init.name] = arr.dtype.name
            else:
                self.consts[init.name] = arr
        self.producer: Dict[str, onnx.NodeProto] = {}
        self.consumers: Dict[str, List[Tuple[object, int]]] = defaultdict(list)
        for n in self.nodes:
            for o in n.output:
                self.producer[o] = n
            for i, x in enumerate(n.input):
                self.consumers[x].append((n, i))
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        self.consts[n.output[0]] = numpy_helper.to_array(a.t)
            elif n.op_type in PASS_THROUGH and n.input and n.input[0] in self.weights:
                to = next((a.i for a in n.attribute if a.name == "to"), TensorProto.FLOAT)
                if n.op_type == "Cast" and to != TensorProto.FLOAT:
                    continue
                self.weights[n.output[0]] = self.weights[n.input[0]]
                self.origin[n.output[0]] = self.origin[n.input[0]]

    def uses(self, name: str):
        """The nodes that compute with a weight (not the Casts and Identities that only pass it on)."""
        return [(n, i) for n, i in self.consumers.get(name, []) if n.op_type not in PASS_THROUGH]

    def leaves(self):
        return [name for name in self.weights if self.uses(name)]

    def scalar(self, name: str) -> Optional[float]:
        arr = self.consts.get(name, self.weights.get(name))
        if arr is None or arr.size != 1:
            return None
        return float(np.asarray(arr).reshape(()))

    def attr(self, node, name: str, default=None):
        import onnx
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default


def node_scope(node) -> List[str]:
    """'/decoder/up_blocks.3/up_blocks.3.1/attn/to_q/MatMul' -> ['decoder', 'up_blocks.3', 'up_blocks.3.1', 'attn',
    'to_q']; each segment keeps its call counter ('mlp.0_1')."""
    parts = node.name.split("/")
    return [p for p in parts[1:-1] if p] if node.name.startswith("/") else []


def split_counter(seg: str) -> Tuple[str, int]:
    m = re.fullmatch(r"(.*?)_(\d+)", seg)
    return (m.group(1), int(m.group(2))) if m else (seg, 0)


def resolve_scope(names: Sequence[str], segs: Sequence[str]) -> Optional[str]:
    """The module (a name in `names`, relative to the scope root) that a node's scope path denotes, or None.

    A scope segment is a module's name relative to the module whose forward called it, so `layers.0` can skip a
    container (`encoder.encoder.layers.0` is scope `encoder/layers.0`). Each segment goes to the shallowest
    descendant of the current module whose name ends with it. Where several siblings match (repeated blocks
    called through a method, as the flow head's `step`), the segment's call counter picks one, cyclically.
    A Sequential's child at the root is named in full (`mlp1/mlp1.1`)."""
    current = [""]
    for seg in segs:
        base, count = split_counter(seg)
        found: List[str] = []
        for cur in current:
            pre = cur + "." if cur else ""
            cands = [n for n in names if n.startswith(pre) and n != cur
                     and (n == pre + base or n == base or n.endswith("." + base))]
            if cands:
                depth = min(n.count(".") for n in cands)
                found += [n for n in cands if n.count(".") == depth]
        found = sorted(set(found), key=names.index)
        if not found:
            return None
        if len(found) > 1:
            found = [found[count % len(found)]]
        current = found
    return current[0] if current and current[0] else None


# ------------------------------------------------------------------------------------ architecture
def _named(graph: Graph, part: str) -> Dict[str, str]:
    """State-dict key (under `part`) -> value name, for weights that carry their parameter's name."""
    out = {}
    for name in graph.leaves():
        if name.startswith("onnx::") or "." not in name or name.endswith("__fp16"):
            continue
        out[part + "." + name.split(".", 1)[1]] = name
    return out


def _ln_eps(graph: Graph, value: Optional[str], default: float) -> float:
    for n, i in graph.uses(value) if value else []:
        if n.op_type == "LayerNormalization":
            return float(graph.attr(n, "epsilon", 1e-5))
    return default


def _decoder_config(graph: Graph, named: Dict[str, str]):
    from .config import DecoderConfig
    shape = {k: graph.weights[v].shape for k, v in named.items()}
    stages: Dict[int, Dict[int, str]] = defaultdict(dict)
    widths: Dict[int, int] = {}
    up_in: Dict[int, int] = {}
    kernels: Dict[int, Dict[int, int]] = defaultdict(dict)
    head_dim = expand = None
    for key, shp in shape.items():
        m = re.fullmatch(r"vgt_ae\.decoder\.up_blocks\.(\d+)\.(\d+)\.(.+)", key)
        if not m:
            continue
        i, j, rest = int(m.group(1)), int(m.group(2)), m.group(3)
        if rest == "conv.weight":  # UpBlock: [width, deeper width, 3, 3]
            stages[i][j] = "up"
            widths[i], up_in[i] = shp[0], shp[1]
        elif rest == "conv1.weight":
            stages[i][j] = "ResBlock"
            widths[i] = shp[0]
        elif rest == "conv_out.conv_inverted.weight":  # GLUMBConv: [2 * expand * width, width, 1, 1]
            stages[i][j] = "EfficientViTBlock"
            widths[i] = shp[1]
            expand = shp[0] // 2 // shp[1]
        mm = re.fullmatch(r"attn\.to_qkv_multiscale\.(\d+)\.(proj_in|proj_out)\.weight", rest)
        if mm and mm.group(2) == "proj_in":
            kernels[i][int(mm.group(1))] = shp[2]
        elif mm:  # grouped 1x1 conv, groups = 3 * heads: each group has head_dim inputs
            head_dim = shp[1]
    conv_in = shape.get("vgt_ae.decoder.conv_in.weight")
    if conv_in is None or not stages:
        raise RebuildError(["vgtae_decode.onnx: no decoder.conv_in / up_blocks weights under their names"])
    n = max(stages) + 1
    if widths.get(n - 1, conv_in[0]) != conv_in[0]:
        n += 1  # a deepest stage without layers
    for i in range(n):
        if i not in widths:
            widths[i] = up_in[i - 1] if i - 1 in up_in else conv_in[0]
    types, layers, scales = [], [], []
    for i in range(n):
        kinds = [k for _, k in sorted(stages.get(i, {}).items()) if k != "up"]
        types.append(kinds[0] if kinds else "ResBlock")
        layers.append(len(kinds))
        scales.append(tuple(k for _, k in sorted(kernels.get(i, {}).items())))
    if head_dim is None:  # no multiscale projections: only the attention reshape would tell; take the default
        head_dim = DecoderConfig().attention_head_dim
    return DecoderConfig(block_out_channels=tuple(widths[i] for i in range(n)), layers_per_block=tuple(layers),
                         block_types=tuple(types), qkv_multiscales=tuple(scales), attention_head_dim=head_dim,
                         glu_expand_ratio=expand or DecoderConfig().glu_expand_ratio)


def _pixel_norm(graph: Graph) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """(mean, std) of `((image + 1) / 2 - mean) / std`: the first Sub and Div by 3-element constants."""
    mean = std = None
    frontier = {graph.inputs[0]}
    for n in graph.nodes:
        if not frontier.intersection(n.input):
            continue
        frontier.update(n.output)
        c = [graph.consts.get(x, graph.weights.get(x)) for x in n.input[1:2]]
        vec = c[0] if c and c[0] is not None and np.asarray(c[0]).size == 3 else None
        if vec is not None and n.op_type == "Sub" and mean is None:
            mean = tuple(float(v) for v in np.asarray(vec, dtype=np.float32).reshape(-1))
        elif vec is not None and n.op_type == "Div" and mean is not None:
            std = tuple(float(v) for v in np.asarray(vec, dtype=np.float32).reshape(-1))
            break
        if n.op_type in ("Conv", "MatMul"):
            break
    if mean is None or std is None:
        raise RebuildError(["vgtae_encode.onnx: the pixel normalisation (Sub mean, Div std) was not found"])
    return mean, std


def _vit_head_dim(graph: Graph) -> int:
    """The head size from the first attention's softmax scale (Div by sqrt(hd), or Mul by 1/sqrt(hd)), before any
    additive bias (a local-window encoder adds its mask after the scale)."""
    for n in graph.nodes:
        if n.op_type != "Softmax":
            continue
        p = graph.producer.get(n.input[0])
        if p is not None and p.op_type == "Add":
            p = next((q for q in map(graph.producer.get, p.input) if q is not None and q.op_type in ("Div", "Mul")),
                     None)
        if p is not None and p.op_type in ("Div", "Mul"):
            c = graph.scalar(p.input[1])
            if c:
                return int(round(c * c if p.op_type == "Div" else 1.0 / (c * c)))
    raise RebuildError(["vgtae_encode.onnx: no attention softmax scale to read the ViT head size from"])


def _scale_embedding(dec: Graph) -> float:
    """`decode` divides z by scale_embedding before the decoder: the Div right on the graph input."""
    for n, i in dec.consumers.get(dec.inputs[0], []):
        if n.op_type == "Div" and i == 0:
            c = dec.scalar(n.input[1])
            if c is not None:
                return c
    return 1.0


def infer_config(m: dict, graphs: Dict[str, Graph]):
    """VGTConfig of a bundle: the manifest's numbers, the rest read off the graphs."""
    from .config import AEConfig, HeadConfig, LMConfig, SamplingDefaults, VGTConfig, ViTConfig
    a, img, s = m["architecture"], m["image"], m["sampling"]
    if img["grid"][0] != img["grid"][1]:
        raise RebuildError([f"image.grid {img['grid']} is not square; VGT-AE's config has one grid side"])
    (emb,) = B.files_by_role(m, "token_embedding").values()
    lm = LMConfig(vocab_size=emb["shape"][0], hidden=a["hidden"], layers=a["layers"], heads=a["heads"],
                  kv_heads=a["kvHeads"], head_dim=a["headDim"], ffn=a["ffn"], rope_theta=float(a["ropeTheta"]),
                  rms_eps=float(a["rmsEps"]))
    hv = graphs["head_velocity"]
    named_h = _named(hv, "generator")
    mlp_bias = named_h.get("generator.image_head.net.res_blocks.0.mlp.0.bias")
    mlp_ratio = hv.weights[mlp_bias].shape[0] / a["headWidth"] if mlp_bias else 1.0
    head = HeadConfig(width=a["headWidth"], layers=a["headLayers"], mlp_ratio=mlp_ratio, freq_dim=a["headFreqDim"])

    dec = graphs["vgtae_decode"]
    decoder = _decoder_config(dec, _named(dec, "vgt_ae"))
    encoder = a.get("aeEncoder", "internvit" if "vgtae_encode" in graphs else "none")
    group = int(a.get("aeLatentGroup", 1))  # BUNDLE.md: a token is group x group AE cells
    ae_kw = dict(encoder=encoder, d_z=a["dZ"] // group ** 2, decoder=decoder, image_size=img["size"],
                 grid=img["grid"][0] * group, latent_group=group, latent_ln_eps=float(a["latentLnEps"]),
                 scale_embedding=_scale_embedding(dec))
    if encoder == "internvit":
        if "vgtae_encode" not in graphs:
            raise RebuildError(["architecture.aeEncoder is internvit but the bundle has no vgtae_encode graph"])
        enc = graphs["vgtae_encode"]
        named = _named(enc, "vgt_ae")
        w = lambda k: enc.weights[named[k]] if k in named else None  # noqa: E731
        patch = w("vgt_ae.encoder.embeddings.patch_embedding.weight")
        if patch is None:
            raise RebuildError(["vgtae_encode.onnx: no encoder.embeddings.patch_embedding.weight"])
        hidden = patch.shape[0]
        layers = len({k.split(".")[4] for k in named if k.startswith("vgt_ae.encoder.encoder.layers.")})
        mean, std = _pixel_norm(enc)
        hd = _vit_head_dim(enc)
        vit = ViTConfig(image_size=img["size"], patch_size=patch.shape[2], hidden=hidden, layers=layers,
                        heads=hidden // hd, mlp_dim=w("vgt_ae.encoder.encoder.layers.0.mlp.fc1.bias").shape[0],
                        ln_eps=_ln_eps(enc, named.get("vgt_ae.encoder.encoder.layers.0.norm1.weight"), 1e-6),
                        mean=mean, std=std, local_window=int(a.get("aeLocalWindow", 0)))
        res = len({k.split(".")[2] for k in named if k.startswith("vgt_ae.down_blocks.")})
        ae_kw.update(vit=vit, proj_dim=w("vgt_ae.mlp1.1.bias").shape[0], res_blocks=res,
                     mlp1_ln_eps=_ln_eps(enc, named.get("vgt_ae.mlp1.0.weight"), 1e-5),
                     res_ln_eps=_ln_eps(enc, named.get("vgt_ae.down_blocks.0.mlp.0.weight"), 1e-6),
                     down_ln_eps=_ln_eps(enc, named.get("vgt_ae.down_mlp.0.weight"), 1e-5))
    kw = dict(name=a.get("config") or m["id"], lm=lm, head=head, ae=AEConfig(**ae_kw),
              max_grid=tuple(a["maxGrid"]),
              sampling=SamplingDefaults(steps=s["steps"], cfg=float(s["cfg"]), cfg_schedule=s["cfgSchedule"],
                                        tokens_per_step=s["tokensPerStep"], order=s["order"]),
              licence=m.get("licence", "MIT"), description=m.get("description", ""))
    fields = {f.name for f in dataclasses.fields(VGTConfig)}
    if "image_positions" in fields:
        kw["image_positions"] = m["image"].get("positions", "sequence")  # BUNDLE.md "Image positions"
    if "pad_mask" in fields:  # BUNDLE.md "Padding": absent means pads stay masked in every step
        kw["pad_mask"] = m["prompt"].get("padMask", "always")
    return VGTConfig(**kw)
