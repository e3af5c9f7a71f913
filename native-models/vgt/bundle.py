"""The VGT model bundle: `vgt-bundle.json` + graphs + raw tables + tokenizer.json (BUNDLE.md).

`validate_bundle(dir)` refuses a bundle with a missing file, a wrong size or sha256, an unknown format
version or inconsistent numbers, with the exact reasons.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Dict, List, Optional

import numpy as np

FORMAT = "vgt-bundle"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MANIFEST = "vgt-bundle.json"

DTYPES = {"float32": np.float32, "float16": np.float16}
# sampling.editContext (optional, "all" when absent): what an edit's LM sees besides the prompt (BUNDLE.md "Edits").
EDIT_CONTEXTS = ("all", "none")
REQUIRED_ROLES = ("tokenizer", "token_embedding", "lm_step", "latent_in", "head_cond", "head_velocity",
                  "vgtae_decode", "query_table", "pos_table")
KNOWN_ROLES = REQUIRED_ROLES + ("vgtae_encode", "head_sde", "head_fused", "onnx_external_data")
ARCH_KEYS = ("hidden", "layers", "heads", "kvHeads", "headDim", "ffn", "ropeTheta", "rmsEps", "vocabSize", "dZ",
             "headWidth", "headLayers", "headFreqDim", "maxGrid", "latentLnEps")


class BundleError(ValueError):
    def __init__(self, problems: List[str]):
        self.problems = list(problems)
        super().__init__("invalid VGT bundle: " + "; ".join(self.problems))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(bundle_dir: str, rel: str, role: str, **extra) -> dict:
    p = os.path.join(bundle_dir, rel)
    return {"role": role, **extra, "sha256": sha256_file(p), "bytes": os.path.getsize(p)}


def write_raw(bundle_dir: str, rel: str, arr: np.ndarray, role: str, **extra) -> dict:
    """Little-endian raw tensor, dtype + shape in the manifest."""
    arr = np.ascontiguousarray(arr)
    dt = arr.dtype.name
    if dt not in DTYPES:
        raise ValueError(f"raw tensors are float32 or float16, not {dt}")
    p = os.path.join(bundle_dir, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    arr.astype(arr.dtype.newbyteorder("<")).tofile(p)
    return file_entry(bundle_dir, rel, role, dtype=dt, shape=list(arr.shape), **extra)


def read_raw(bundle_dir: str, rel: str, entry: dict) -> np.ndarray:
    dt = np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<")
    return np.fromfile(os.path.join(bundle_dir, rel), dtype=dt).reshape(entry["shape"])


def write_manifest(bundle_dir: str, manifest: dict) -> str:
    p = os.path.join(bundle_dir, MANIFEST)
    with open(p, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return p


def load_manifest(bundle_dir: str) -> dict:
    p = os.path.join(bundle_dir, MANIFEST)
    if not os.path.isfile(p):
        raise BundleError([f"{MANIFEST} not found in {bundle_dir}"])
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise BundleError([f"{MANIFEST} is not valid JSON: {e}"])


def files_by_role(manifest: dict, role: str) -> Dict[str, dict]:
    return {k: v for k, v in manifest.get("files", {}).items() if v.get("role") == role}


def _check_numbers(m: dict, problems: List[str]) -> None:
    a, img, prm, smp = m.get("architecture"), m.get("image"), m.get("prompt"), m.get("sampling")
    for key, val in (("architecture", a), ("image", img), ("prompt", prm), ("sampling", smp)):
        if not isinstance(val, dict):
            problems.append(f"missing section '{key}'")
    if problems:
        return
    for k in ARCH_KEYS:
        if k not in a:
            problems.append(f"architecture.{k} missing")
    if any(p.startswith("architecture.") for p in problems):
        return
    if a["heads"] % a["kvHeads"]:
        problems.append(f"architecture.heads ({a['heads']}) is not a multiple of kvHeads ({a['kvHeads']})")
    if a["headDim"] % 2:
        problems.append(f"architecture.headDim ({a['headDim']}) must be even (RoPE)")
    for k in ("hidden", "layers", "heads", "kvHeads", "headDim", "ffn", "vocabSize", "dZ", "headWidth", "headLayers"):
        if not isinstance(a[k], int) or a[k] <= 0:
            problems.append(f"architecture.{k} must be a positive integer, got {a[k]!r}")
    size, grid, stride = img.get("size"), img.get("grid"), img.get("stride")
    if not (isinstance(grid, list) and len(grid) == 2 and all(isinstance(g, int) and g > 0 for g in grid)):
        problems.append(f"image.grid must be [h, w], got {grid!r}")
        return
    if not isinstance(size, int) or not isinstance(stride, int) or size != stride * grid[0] or size != stride * grid[1]:
        problems.append(f"image.size ({size}) != image.stride ({stride}) x image.grid ({grid})")
    grids = img.get("grids", [grid])
    if grid not in grids:
        problems.append(f"image.grid {grid} is not in image.grids {grids}")
    for g in grids:
        if g[0] > a["maxGrid"][0] or g[1] > a["maxGrid"][1]:
            problems.append(f"grid {g} exceeds architecture.maxGrid {a['maxGrid']}")
    if "{prompt}" not in prm.get("template", ""):
        problems.append("prompt.template lacks '{prompt}'")
    for k in ("unconditional", "imgToken", "padTokenId", "imgTokenIds", "specialTokens"):
        if k not in prm:
            problems.append(f"prompt.{k} missing")
    if "padTokenId" in prm and not (0 <= prm["padTokenId"] < a["vocabSize"]):
        problems.append(f"prompt.padTokenId {prm['padTokenId']} outside vocabulary of {a['vocabSize']}")
    for t in prm.get("imgTokenIds", []):
        if not (0 <= t < a["vocabSize"]):
            problems.append(f"prompt.imgTokenIds has {t}, outside vocabulary of {a['vocabSize']}")
    if not isinstance(smp.get("steps"), int) or smp["steps"] < 1:
        problems.append(f"sampling.steps must be >= 1, got {smp.get('steps')!r}")
    if smp.get("cfgSchedule") not in ("linear", "constant"):
        problems.append(f"sampling.cfgSchedule must be linear or constant, got {smp.get('cfgSchedule')!r}")
    if smp.get("order") not in ("random", "raster"):
        problems.append(f"sampling.order must be random or raster, got {smp.get('order')!r}")
    if not isinstance(smp.get("tokensPerStep"), int) or smp["tokensPerStep"] < 1:
        problems.append(f"sampling.tokensPerStep must be >= 1, got {smp.get('tokensPerStep')!r}")
    if not isinstance(smp.get("cfg"), (int, float)):
        problems.append("sampling.cfg must be a number")
    if smp.get("editContext", "all") not in EDIT_CONTEXTS:
        problems.append(f"sampling.editContext must be all or none, got {smp.get('editContext')!r}")
    lrgb = (m.get("preview") or {}).get("latentRgb")
    if lrgb is not None:
        w, b = lrgb.get("weights"), lrgb.get("bias")
        if not (isinstance(w, list) and len(w) == 3 * a["dZ"] and isinstance(b, list) and len(b) == 3
                and all(isinstance(v, (int, float)) and math.isfinite(v) for v in w + b)):
            problems.append(f"preview.latentRgb needs 3 x dZ ({3 * a['dZ']}) finite weights and 3 finite biases")
    # Tensor shapes must agree with the architecture.
    H = a["hidden"]
    for rel, e in m.get("files", {}).items():
        role, shape = e.get("role"), e.get("shape")
        if role == "token_embedding" and shape != [a["vocabSize"], H]:
            problems.append(f"{rel}: shape {shape} != [vocabSize {a['vocabSize']}, hidden {H}]")
        if role in ("query_table", "pos_table"):
            g = e.get("grid")
            if g not in grids:
                problems.append(f"{rel}: grid {g} not in image.grids {grids}")
            elif shape != [g[0] * g[1], H]:
                problems.append(f"{rel}: shape {shape} != [{g[0] * g[1]}, hidden {H}]")
    for g in grids:
        for role in ("query_table", "pos_table"):
            if not any(e.get("grid") == g for e in files_by_role(m, role).values()):
                problems.append(f"no {role} for grid {g}")


def _check_graph_io(bundle_dir: str, m: dict, problems: List[str]) -> None:
    """Optional deep check: graph input/output names and fixed dims match the architecture."""
    import onnx
    a = m["architecture"]
    H, L, kvH, hd, dZ, W = a["hidden"], a["layers"], a["kvHeads"], a["headDim"], a["dZ"], a["headWidth"]
    pos = [None, None, 2] if m.get("image", {}).get("positions") == "grid2d" else [None, None]
    expect = {
        "lm_step": ({"inputs_embeds": [None, None, H], "attention_mask": [None, None], "position_ids": pos,
                     **{f"past_{kv}.{i}": [None, kvH, None, hd] for i in range(L) for kv in ("key", "value")}},
                    {"hidden_states": [None, None, H],
                     **{f"present_{kv}.{i}": [None, kvH, None, hd] for i in range(L) for kv in ("key", "value")}}),
        "latent_in": ({"z": [None, dZ], "pos": [None, H]}, {"embeds": [None, H]}),
        "head_cond": ({"hidden": [None, H]}, {"cond": [None, W]}),
        "head_velocity": ({"x": [None, dZ], "t": [None], "cond": [None, W]}, {"v": [None, dZ]}),
        "head_fused": ({"x": [None, dZ], "t": [None], "hidden": [None, H]}, {"v": [None, dZ]}),
        "vgtae_decode": ({"z": [None, dZ, None, None]}, {"image": [None, 3, None, None]}),
        "vgtae_encode": ({"image": [None, 3, None, None]}, {"z": [None, dZ, None, None]}),
    }
    for rel, e in m["files"].items():
        role = e.get("role")
        if role == "head_sde":
            S = e.get("steps")
            if not isinstance(S, int) or S < 2:
                problems.append(f"{rel}: head_sde needs its unrolled step count, steps >= 2 (got {S!r})")
                continue
            expect["head_sde"] = ({"hidden": [None, H], "x": [None, dZ], "eps": [S - 1, None, dZ], "coef": [S - 1, 3],
                                   "ts": [S], "cfg": [1]}, {"x_out": [None, dZ], "v": [S, None, dZ], "cond": [None, W]})
        if role not in expect or not rel.endswith(".onnx"):
            continue
        try:
            g = onnx.load(os.path.join(bundle_dir, rel), load_external_data=False).graph
        except Exception as ex:  # noqa: BLE001 - report any parse failure as a bundle problem
            problems.append(f"{rel}: cannot be parsed as ONNX ({ex})")
            continue
        for kind, vals, want in (("input", g.input, expect[role][0]), ("output", g.output, expect[role][1])):
            have = {}
            for v in vals:
                have[v.name] = [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
            if set(have) != set(want):
                problems.append(f"{rel}: {kind}s {sorted(have)} != expected {sorted(want)}")
                continue
            for name, dims in want.items():
                if len(have[name]) != len(dims) or any(w is not None and h is not None and h != w for h, w in zip(have[name], dims)):
                    problems.append(f"{rel}: {kind} {name} has dims {have[name]}, expected {dims}")


def validate_bundle(bundle_dir: str, deep: bool = False) -> dict:
    """Returns the manifest, or raises BundleError listing every problem found."""
    m = load_manifest(bundle_dir)
    problems: List[str] = []
    if m.get("format") != FORMAT:
        raise BundleError([f"format is {m.get('format')!r}, expected {FORMAT!r}"])
    if m.get("formatVersion") not in SUPPORTED_VERSIONS:
        raise BundleError([f"unknown formatVersion {m.get('formatVersion')!r} (supported: {list(SUPPORTED_VERSIONS)})"])
    for k in ("name", "id", "licence", "dtype"):
        if not isinstance(m.get(k), str) or not m[k]:
            problems.append(f"'{k}' missing")
    if m.get("dtype") not in DTYPES:
        problems.append(f"dtype {m.get('dtype')!r} is not float32 or float16")
    files = m.get("files")
    if not isinstance(files, dict) or not files:
        problems.append("'files' missing or empty")
        raise BundleError(problems)
    for rel, e in files.items():
        if os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
            problems.append(f"{rel}: file paths must be relative and inside the bundle")
            continue
        if e.get("role") not in KNOWN_ROLES:
            problems.append(f"{rel}: unknown role {e.get('role')!r}")
        p = os.path.join(bundle_dir, rel)
        if not os.path.isfile(p):
            problems.append(f"{rel}: file missing")
            continue
        size = os.path.getsize(p)
        if size != e.get("bytes"):
            problems.append(f"{rel}: size {size} bytes, manifest says {e.get('bytes')}")
        elif sha256_file(p) != e.get("sha256"):
            problems.append(f"{rel}: sha256 mismatch (manifest {e.get('sha256')}, file {sha256_file(p)})")
        if "dtype" in e and "shape" in e and not rel.endswith(".onnx") and e["dtype"] in DTYPES:
            want = int(np.prod(e["shape"])) * np.dtype(DTYPES[e["dtype"]]).itemsize
            if want != size:
                problems.append(f"{rel}: {size} bytes but dtype {e['dtype']} x shape {e['shape']} needs {want}")
    roles = {e.get("role") for e in files.values()}
    for r in REQUIRED_ROLES:
        if r not in roles:
            problems.append(f"no file with role '{r}'")
    _check_numbers(m, problems)
    if deep and not problems:
        _check_graph_io(bundle_dir, m, problems)
    if problems:
        raise BundleError(problems)
    return m


def main(argv: Optional[List[str]] = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m vgt.bundle", description="Validate a VGT bundle folder; optionally "
                                 "rebuild its PyTorch model from its own weights (vgt.rebuild).")
    ap.add_argument("bundle")
    ap.add_argument("--deep", action="store_true", help="also check every graph's input/output names and dims")
    ap.add_argument("--rebuild", metavar="OUT.pt", help="write the PyTorch model rebuilt from the bundle's weights "
                    "as a vgt-checkpoint (vgt.export --checkpoint and vgt.generate --checkpoint read it)")
    ap.add_argument("--check", action="store_true", help="rebuild, then run every graph through ONNX Runtime against "
                    "the rebuilt model and print the max abs error per graph (a round trip of the weights)")
    args = ap.parse_args(argv)
    try:
        m = validate_bundle(args.bundle, deep=args.deep)
    except BundleError as e:
        for p in e.problems:
            print(f"invalid: {p}")
        return 1
    total = sum(e["bytes"] for e in m["files"].values())
    print(f"ok: {m['name']} ({m['id']}), {len(m['files'])} files, {total} bytes")
    if args.rebuild or args.check:
        return _rebuild_cli(args.bundle, args.rebuild, args.check)
    return 0


def _rebuild_cli(bundle_dir: str, out: Optional[str], check: bool) -> int:
    from .rebuild import RebuildError, rebuild, save
    try:
        r = rebuild(bundle_dir)
    except RebuildError as e:
        for p in e.problems:
            print(f"cannot rebuild: {p}")
        return 1
    n = sum(p.numel() for p in r.model.parameters())
    print(f"rebuilt: {r.model.c.name}, {n} parameters from {len(r.sources)} tensors")
    for note in r.notes:
        print(f"note: {note}")
    if out:
        save(r, out)
        print(f"wrote {out}")
    if check:
        from .export import check_bundle
        # A float16 bundle stores float16 weights but computes in float32 after its Casts: a little more slack.
        tol = 1e-3 if r.manifest.get("dtype") == "float16" else 1e-4
        errors = check_bundle(r.model, bundle_dir, log=lambda *a: None)
        worst = max(errors.values()) if errors else 0.0
        for g, err in sorted(errors.items()):
            print(f"  {g}: max abs error {err:.3g}")
        if worst > tol:
            print(f"round trip failed: max abs error {worst:.3g} > {tol:g}")
            return 1
        print(f"round trip ok: max abs error {worst:.3g} (limit {tol:g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
