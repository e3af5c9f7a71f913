"""A random-weight bundle of an official architecture at full width, for the engine's large-model paths.

  python -m vgt.fullsize_bundle --out checkpoints/fullsize-L2 --layers 2        # reduced depth, full width
  python -m vgt.fullsize_bundle --out checkpoints/fullsize                      # the whole internvl3_1_6b
  python -m vgt.fullsize_bundle --deepen-from checkpoints/fullsize-L2 --out checkpoints/fullsize-L28  # 28 layers

float16 weights, every graph's weights in ONNX external data (`<graph>.onnx.data`, as a > 2 GB graph must be),
the studio's WordPiece tokenizer (token ids stay inside the 151,674-token vocabulary). `--layers` keeps the first N
LM layers and changes nothing else: the vocabulary, widths, flow head and VGT-AE stay full size. The instant-preview
fit is skipped (it encodes 64 renders with the 448 px ViT). Prints the export time and this process's peak RSS.
`scripts/fullsize-engine.mjs` builds one with this and runs it through the studio's engine.

`--deepen-from DIR` makes the full depth without tracing it: exporting the 28-layer model in PyTorch float32 was
extrapolated to need about 22 GB, too much for a 24 GB machine (2 layers measured a 9.8 GB peak). It copies a
reduced-depth bundle made by this module and deepens its `lm_step.onnx` by graph surgery: the last decoder layer's
nodes are replicated (renamed `/lm/layers.<j>/...`, as the exporter names them, so `vgt.rebuild` maps their weights
to `generator.lm.layers.<j>`), each copy wired to the previous one's residual output and to its own
`past_key.<j>`/`past_value.<j>` inputs and `present_key.<j>`/`present_value.<j>` outputs, the final RMSNorm moved
behind the last copy. Each new layer gets fresh seeded weights of `randomize_`'s scales (Linear `N(0, 1/fan_in)`,
norm weights `1 + 0.1 N`, biases `0.2 N`) in the source's storage dtype, appended to `lm_step.onnx.data` one layer
at a time, so the process holds one layer and never the model (2 -> 28 layers at full width: peak RSS 423 MiB, 66
s). Every other file is copied unchanged; the manifest gets the new `architecture.layers`, name, id, source and
`lm_step` file entries. `tests/test_fullsize_deepen.py` checks, at tiny size, that the deepened graph equals a
PyTorch model of the deeper depth built from the same weights.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import shutil
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from . import bundle as B
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


def _init_kind(node, slot: int) -> str:
    """What a weight is, from the node that computes with it: a Linear's [in, out] matrix (MatMul, slot 1), an
    RMSNorm weight (Mul in a *layernorm scope) or a Linear bias (Add in a *_proj scope)."""
    if node.op_type == "MatMul" and slot == 1:
        return "linear"
    if node.op_type == "Mul" and "layernorm/" in node.name:
        return "norm"
    if node.op_type == "Add" and "_proj/" in node.name:
        return "bias"
    raise ValueError(f"deepen: unexpected weight use {node.op_type} {node.name} (input {slot})")


def _fresh(kind: str, dims: List[int], rng: np.random.Generator) -> np.ndarray:
    r = rng.standard_normal(dims, dtype=np.float32)
    if kind == "linear":
        return r / np.float32(np.sqrt(dims[0]))  # stored transposed, [in, out]: randomize_'s 1 / sqrt(fan_in)
    if kind == "norm":
        return 1.0 + np.float32(0.1) * r
    return np.float32(0.2) * r


def deepen_bundle(src: str, out: str, layers: int, seed: int = 0, log=print) -> dict:
    """Copies the bundle `src` to `out` with its `lm_step` graph deepened to `layers` decoder layers (the module
    docstring). Returns the new manifest, validated (`--deep`: graph I/O names and dims)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = B.validate_bundle(src, deep=True)
    L0 = m["architecture"]["layers"]
    if L0 < 2:
        raise ValueError(f"deepen: {src} has {L0} LM layer; 2 or more are needed (layer 0 holds the shared nodes)")
    if layers <= L0:
        raise ValueError(f"deepen: {layers} layers is not deeper than the source's {L0}")
    lm_rel = next(iter(B.files_by_role(m, "lm_step")))
    data_rel = lm_rel + ".data"
    if m["files"].get(data_rel, {}).get("role") != "onnx_external_data":
        raise ValueError(f"deepen: {src} keeps {lm_rel}'s weights inline; build it with external data")
    if os.path.abspath(src) == os.path.abspath(out):
        raise ValueError("deepen: --out must be another folder than the source")
    os.makedirs(out, exist_ok=True)
    for rel in m["files"]:
        if rel not in (lm_rel, data_rel):
            os.makedirs(os.path.dirname(os.path.join(out, rel)) or out, exist_ok=True)
            shutil.copyfile(os.path.join(src, rel), os.path.join(out, rel))

    proto = onnx.load(os.path.join(src, lm_rel), load_external_data=False)
    g = proto.graph
    t = L0 - 1  # the template: the last layer (its inputs from layer 0's shared nodes stay shared)
    scope = f"/lm/layers.{t}/"
    nodes = list(g.node)
    tmpl_idx = [i for i, n in enumerate(nodes) if n.name.startswith(scope)]
    tmpl = [nodes[i] for i in tmpl_idx]
    if not tmpl or tmpl_idx != list(range(tmpl_idx[0], tmpl_idx[-1] + 1)):
        raise ValueError(f"deepen: the nodes of {scope} are not one run in {lm_rel}")
    inits = {i.name: i for i in g.initializer}
    producer = {o: n for n in nodes for o in n.output}
    produced = {o for n in tmpl for o in n.output}
    outputs = {o.name for o in g.output}
    consumers: Dict[str, list] = {}
    for n in nodes:
        for k, x in enumerate(n.input):
            consumers.setdefault(x, []).append((n, k))
    in_tmpl = {id(n) for n in tmpl}
    # The residual stream: the one value of the template that a later node (the final norm) reads.
    leaving = sorted({o for o in produced if o not in outputs
                      and any(id(c) not in in_tmpl for c, _ in consumers.get(o, []))})
    if len(leaving) != 1:
        raise ValueError(f"deepen: {scope} passes {leaving} on; expected one residual output")
    r_out = leaving[0]
    r_in = r_out.replace(scope, f"/lm/layers.{t - 1}/")
    if r_in not in {x for n in tmpl for x in n.input}:
        raise ValueError(f"deepen: {scope} does not read {r_in}")
    # The template's own weights: initializers it reads, directly or through a Cast that only it reads.
    weights = []  # (value the template reads, initializer, cast node or None, kind)
    for n in tmpl:
        for k, x in enumerate(n.input):
            cast = producer.get(x)
            if any(w[0] == x for w in weights):
                continue
            if x in inits and x.startswith(f"lm.layers.{t}."):
                weights.append((x, inits[x], None, _init_kind(n, k)))
            elif (cast is not None and cast.op_type == "Cast" and cast.input[0] in inits
                  and all(id(c) in in_tmpl for c, _ in consumers[x])):
                weights.append((x, inits[cast.input[0]], cast, _init_kind(n, k)))
            elif x in inits and inits[x].data_type in (TensorProto.FLOAT, TensorProto.FLOAT16) and \
                    int(np.prod(inits[x].dims)) > 1:
                raise ValueError(f"deepen: {n.name} reads {x}, a weight this code does not know how to copy")
    taken = set(inits) | {x for n in nodes for x in list(n.input) + list(n.output)}
    counter = 1 + max([int(mt.group(1)) for mt in (re.fullmatch(r"onnx::\w+?_(\d+)(?:__fp16)?", x) for x in taken)
                       if mt] + [0])  # onnx::MatMul_<n>: above every number the exporter used
    io = {v.name: v for v in list(g.input) + list(g.output)}
    new_inputs, new_outputs, new_nodes, new_inits = [], [], [], []
    data_path = os.path.join(out, data_rel)
    shutil.copyfile(os.path.join(src, data_rel), data_path)  # the source's offsets stay valid
    prev = r_out
    with open(data_path, "ab") as data:
        for j in range(L0, layers):
            rng = np.random.default_rng([seed, j])
            ren: Dict[str, str] = {r_in: prev}
            for kv in ("key", "value"):
                ren[f"past_{kv}.{t}"] = f"past_{kv}.{j}"
                ren[f"present_{kv}.{t}"] = f"present_{kv}.{j}"
                for name, dst in ((f"past_{kv}.{t}", new_inputs), (f"present_{kv}.{t}", new_outputs)):
                    v = onnx.ValueInfoProto()
                    v.CopyFrom(io[name])
                    v.name = ren[name]
                    dst.append(v)
            for o in produced:
                ren.setdefault(o, o.replace(scope, f"/lm/layers.{j}/") if o.startswith(scope) else f"{o}__l{j}")
            for value, init, cast, kind in weights:
                arr = _fresh(kind, list(init.dims), rng).astype(
                    np.float16 if init.data_type == TensorProto.FLOAT16 else np.float32)
                if cast is None:  # named after its parameter: lm.layers.<j>.<...>
                    name = value.replace(f"lm.layers.{t}.", f"lm.layers.{j}.", 1)
                    stored = name
                else:  # a folded Linear weight, onnx::MatMul_<n>[__fp16] -> a fresh <n>
                    name = f"onnx::MatMul_{counter}"
                    counter += 1
                    if name in taken:
                        raise ValueError(f"deepen: {name} is taken")
                    stored = name + init.name[len(cast.output[0]):]  # keeps the __fp16 suffix
                    attrs = {a.name: helper.get_attribute_value(a) for a in cast.attribute}
                    new_nodes.append(helper.make_node("Cast", [stored], [name], name=name + "__cast", **attrs))
                ren[value] = name
                tensor = numpy_helper.from_array(arr, stored)
                if arr.nbytes >= 1024:  # onnx's size_threshold, as vgt.export saves
                    offset = data.tell()
                    data.write(tensor.raw_data)
                    tensor.ClearField("raw_data")
                    tensor.data_location = TensorProto.EXTERNAL
                    for key, val in (("location", os.path.basename(data_rel)), ("offset", str(offset)),
                                     ("length", str(arr.nbytes))):
                        e = tensor.external_data.add()
                        e.key, e.value = key, val
                new_inits.append(tensor)
            for n in tmpl:
                c = onnx.NodeProto()
                c.CopyFrom(n)
                c.name = n.name.replace(scope, f"/lm/layers.{j}/", 1)
                for k, x in enumerate(n.input):
                    c.input[k] = ren.get(x, x)
                for k, x in enumerate(n.output):
                    c.output[k] = ren[x]
                new_nodes.append(c)
            prev = ren[r_out]
            log(f"deepen: layer {j} ({data.tell() / 1e9:.2f} GB of {data_rel})")
    after = nodes[tmpl_idx[-1] + 1:]
    for n in after:
        for k, x in enumerate(n.input):
            if x == r_out:
                n.input[k] = prev
    del g.node[:]
    g.node.extend(nodes[:tmpl_idx[-1] + 1] + new_nodes + after)
    g.initializer.extend(new_inits)
    g.input.extend(new_inputs)
    g.output.extend(new_outputs)
    with open(os.path.join(out, lm_rel), "wb") as f:
        f.write(proto.SerializeToString())

    files = dict(m["files"])
    files[lm_rel] = B.file_entry(out, lm_rel, "lm_step", **{k: v for k, v in m["files"][lm_rel].items()
                                                           if k not in ("role", "sha256", "bytes")})
    files[data_rel] = B.file_entry(out, data_rel, "onnx_external_data", graph=lm_rel)
    config = m["architecture"]["config"]
    src_source = m.get("source") or {}
    manifest = {**m, "architecture": {**m["architecture"], "layers": layers},
                "name": f"{config} random weights ({layers} LM layers)",
                "id": f"fullsize-{config.replace('_', '-')}-l{layers}",
                "source": {**src_source, "layers": layers,
                           "deepenedFrom": {"id": m["id"], "layers": L0, "lmStepSha256": m["files"][lm_rel]["sha256"],
                                            "newLayerSeed": seed}},
                "files": files}
    B.write_manifest(out, manifest)
    return B.validate_bundle(out, deep=True)


@torch.no_grad()  # not torch.set_grad_enabled(False): tests call main() in-process and train afterwards
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
    ap.add_argument("--deepen-from", metavar="DIR", help="copy this bundle (made by this module, 2 or more layers) "
                    "with its lm_step deepened to --layers (default: its config's) by graph surgery; no PyTorch model")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.deepen_from:
        src = B.load_manifest(args.deepen_from)
        layers = args.layers or get_config(src["architecture"]["config"]).lm.layers
        m = deepen_bundle(args.deepen_from, args.out, layers, args.seed, log=lambda s: print(s, file=sys.stderr))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lm_bytes = sum(e["bytes"] for e in m["files"].values()
                       if e["role"] == "lm_step" or e.get("graph") == "lm_step.onnx")
        result = {"bundle": args.out, "id": m["id"], "layers": layers, "deepenedFrom": args.deepen_from,
                  "bytes": sum(e["bytes"] for e in m["files"].values()), "lmStepBytes": lm_bytes,
                  "deepenSeconds": round(time.time() - t0, 1), "peakRssMB": round(peak_mb)}
        print(json.dumps(result) if args.json else
              f"wrote {args.out}: {layers} LM layers, {result['bytes'] / 1e9:.2f} GB, {result['deepenSeconds']:.0f} s, "
              f"peak RSS {peak_mb:.0f} MB")
        return 0
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
