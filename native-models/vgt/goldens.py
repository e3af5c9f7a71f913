"""Golden parity data for the TypeScript engine (tiny config, fixed prompt, permutation and noise).

  python -m vgt.goldens            # rewrites ../test/fixtures/tiny-bundle and ../test/fixtures/tiny-goldens

Writes the tiny bundle (seeded random init) and, for k = 1 and k = 4, each with pads masked in every step
and in the prefill only (BUNDLE.md "Padding") and with grid image positions ("Image positions"), every
intermediate of one sample (and for grid2d positions, the position ids only)
with all randomness injected: token ids, padded batch and mask, permutation, group sizes, time grid,
per-group position ids and CFG scale, initial and per-step SDE noise, hidden states, head cond, head
velocities (raw rows of the first step; guided for every step), sampled latents and the decoded image;
plus a VGT-AE encode case. Layout: golden.json (see its "layout" notes) + little-endian float32 .bin files.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from typing import Dict, List

import numpy as np
import torch

from .bundle import sha256_file
from .checkpoint import seeded_model
from .sampler import SampleSettings, sample_latents
from .tokenizer import default_tokenizer

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HERE)
BUNDLE_DIR = os.path.join(REPO, "test", "fixtures", "tiny-bundle")
GOLDEN_DIR = os.path.join(REPO, "test", "fixtures", "tiny-goldens")
PROMPT = "a red circle left of a blue square on a black background"
SEED, ORDER_SEED, MODEL_SEED = 7, 11, 0
STEPS, CFG, SCHEDULE = 4, 3.0, "linear"
# (name, k, pad mask, image positions): BUNDLE.md "Padding" and "Image positions"
CASES = (("k1", 1, "always", "sequence"), ("k4", 4, "always", "sequence"), ("k1-prefill", 1, "prefill", "sequence"),
         ("k4-prefill", 4, "prefill", "sequence"), ("k1-grid", 1, "always", "grid"), ("k4-grid", 4, "always", "grid"))
# Position ids only (no tensors): 2-D RoPE needs an lm_step graph that takes [B, S, 2] positions, which the tiny
# bundle's does not; the engine checks the positions it feeds against these, and tests/test_vgt_onnx.py checks a
# grid2d graph against PyTorch.
POSITION_CASES = (("k4-grid2d", 4, "always", "grid2d"),)


class RecordingNoise:
    def __init__(self, seed: int):
        self.g = torch.Generator().manual_seed(seed)
        self.initial_list: List[torch.Tensor] = []
        self.sde_list: List[torch.Tensor] = []

    def initial(self, group, shape):
        x = torch.randn(shape, generator=self.g)
        self.initial_list.append(x)
        return x

    def sde(self, group, step, shape):
        x = torch.randn(shape, generator=self.g)
        self.sde_list.append(x)
        return x


class ReplayNoise:
    """Noise from golden files: initial [G,k,dZ] and sde [G,steps-1,k,dZ] (uniform groups)."""

    def __init__(self, initial: torch.Tensor, sde: torch.Tensor):
        self.i, self.s = initial, sde

    def initial(self, group, shape):
        return self.i[group].reshape(shape)

    def sde(self, group, step, shape):
        return self.s[group, step].reshape(shape)


def run_case(model, tok, k: int, fns=None, noise=None, order=None, pad_mask: str = "always"):
    rec: Dict[str, object] = {"groups": []}

    def trace(kind, data):
        if kind == "setup":
            rec["setup"] = data
        else:
            rec["groups"].append(data)

    settings = SampleSettings(steps=STEPS, cfg=CFG, cfg_schedule=SCHEDULE, tokens_per_step=k, order="random",
                              pad_mask=pad_mask)
    noise = noise or RecordingNoise(SEED)
    z = sample_latents(model.generator, tok, [PROMPT], settings, seed=SEED, order_seed=ORDER_SEED, noise=noise,
                       trace=trace, fns=fns, order=order)
    return z, rec, noise


def _write(dirpath: str, rel: str, t: torch.Tensor, files: dict) -> None:
    arr = np.ascontiguousarray(t.detach().float().numpy().astype("<f4"))
    p = os.path.join(dirpath, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    arr.tofile(p)
    files[rel.split("/")[-1][:-4]] = {"file": rel, "dtype": "float32", "shape": list(arr.shape)}


def write_goldens(out_dir: str = GOLDEN_DIR, bundle_dir: str = BUNDLE_DIR, export: bool = True, log=print) -> dict:
    model = seeded_model("tiny", MODEL_SEED)
    tok = default_tokenizer()
    if export:
        from .export import export_bundle
        if os.path.isdir(bundle_dir):
            shutil.rmtree(bundle_dir)
        export_bundle(model, bundle_dir, name="VGT tiny (random init, tests)", bundle_id="vgt-tiny-test",
                      tokenizer_json=tok.to_hf_json(),
                      source={"config": "tiny", "seed": MODEL_SEED, "init": "vgt.queryar.randomize_"}, log=log)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    c = model.c
    cases = {}
    # pad masks: "always" (the tiny bundle's) and "prefill" (the reference's, official conversions); the prompt
    # rows differ in length, so the two give different images
    for d, k, pad_mask, positions in CASES:
        model.generator.c.image_positions = positions
        try:
            z, rec, noise = run_case(model, tok, k, pad_mask=pad_mask)
        finally:
            model.generator.c.image_positions = "sequence"
        with torch.no_grad():
            image = model.vgt_ae.decode(z)
        st = rec["setup"]
        groups = rec["groups"]
        G = len(groups)
        files: Dict[str, dict] = {}
        _write(out_dir, f"{d}/initial_noise.bin", torch.stack(noise.initial_list).reshape(G, k, c.d_z), files)
        _write(out_dir, f"{d}/sde_noise.bin", torch.stack(noise.sde_list).reshape(G, STEPS - 1, k, c.d_z), files)
        _write(out_dir, f"{d}/hidden.bin", torch.stack([g["hidden"] for g in groups]), files)
        _write(out_dir, f"{d}/cond.bin", torch.stack([g["cond"] for g in groups]), files)
        _write(out_dir, f"{d}/velocity_raw_step0.bin",
               torch.stack([model.generator.head_velocity(torch.cat([g["x0"], g["x0"]]), torch.zeros(2 * k), g["cond"]).detach()
                            for g in groups]), files)
        _write(out_dir, f"{d}/velocity.bin", torch.stack([torch.stack(g["velocities"]) for g in groups]), files)
        _write(out_dir, f"{d}/group_latents.bin", torch.stack([g["z"][0] for g in groups]), files)
        _write(out_dir, f"{d}/latents.bin", z, files)
        _write(out_dir, f"{d}/image.bin", image, files)
        cases[d] = {
            "settings": {"steps": STEPS, "cfg": CFG, "cfgSchedule": SCHEDULE, "tokensPerStep": k, "order": "random",
                         "seed": SEED, "orderSeed": ORDER_SEED},
            "tokens": {"padded": st["ids"].tolist(), "mask": st["text_mask"].tolist(), "img": st["img_ids"].tolist()},
            "padMask": pad_mask,
            "imagePositions": positions,
            "order": st["order"].tolist(),
            "groupSizes": st["sizes"],
            "ts": [float(x) for x in st["ts"]],
            "groups": [{"tokens": g["tokens"].tolist(), "cfg": g["cfg"], "newTokens": g["embeds_len"],
                        "positionIds": g["position_ids"].tolist()} for g in groups],
            "files": files,
        }
        log(f"{d}: {G} groups, latents std {z.std():.3f}, image range [{image.min():.2f}, {image.max():.2f}]")
    for d, k, pad_mask, positions in POSITION_CASES:
        model.generator.c.image_positions = positions
        try:
            _, rec, _ = run_case(model, tok, k, pad_mask=pad_mask)
        finally:
            model.generator.c.image_positions = "sequence"
        cases[d] = {
            "settings": {"steps": STEPS, "cfg": CFG, "cfgSchedule": SCHEDULE, "tokensPerStep": k, "order": "random",
                         "seed": SEED, "orderSeed": ORDER_SEED},
            "padMask": pad_mask,
            "imagePositions": positions,
            "order": rec["setup"]["order"].tolist(),
            "groupSizes": rec["setup"]["sizes"],
            "groups": [{"tokens": g["tokens"].tolist(), "positionIds": g["position_ids"].tolist()}
                       for g in rec["groups"]],
            "files": {},
        }
    # VGT-AE encode: the k=1 image (clamped) back to latents.
    ae_files: Dict[str, dict] = {}
    img = torch.from_numpy(np.fromfile(os.path.join(out_dir, "k1/image.bin"), dtype="<f4")).reshape(1, 3, c.ae.image_size, c.ae.image_size).clamp(-1, 1)
    with torch.no_grad():
        ze = model.vgt_ae.encode(img)
    _write(out_dir, "ae/encode_input.bin", img, ae_files)
    _write(out_dir, "ae/encode_z.bin", ze, ae_files)
    tok_ids = {"cond": tok.encode_prompt(PROMPT), "uncond": tok.encode_uncond(), "img": tok.img_token_ids()}
    golden = {
        "format": "vgt-goldens",
        "version": 1,
        "bundle": os.path.relpath(bundle_dir, out_dir),
        "bundleManifestSha256": sha256_file(os.path.join(bundle_dir, "vgt-bundle.json")),
        "prompt": PROMPT,
        "tokenIds": tok_ids,
        "tolerance": {"perGraph": 1e-4, "latents": 2e-3, "image": 2e-3},
        "layout": {
            "initial_noise": "[G, k, dZ]: x at t=0 of each group (cond and uncond rows share it)",
            "sde_noise": "[G, steps-1, k, dZ]: eps of each Euler-Maruyama step",
            "hidden": "[G, R, k, H]: lm_step hidden_states of the group's k query tokens; rows R = [cond, uncond]",
            "cond": "[G, R*k, W]: head_cond output, rows (row, token) row-major",
            "velocity_raw_step0": "[G, R*k, dZ]: head_velocity at t=0 on [x0; x0] (cond rows then uncond rows)",
            "velocity": "[G, steps, k, dZ]: CFG-guided velocity of each step (the last is the final ODE step)",
            "group_latents": "[G, k, dZ]: sampled latents of the group after the per-token LayerNorm",
            "latents": "[1, dZ, h, w]: all latents on the grid (the input of vgtae_decode)",
            "image": "[1, 3, S, S]: vgtae_decode output in [-1, 1], not clamped",
            "ae/encode_input": "[1, 3, S, S]: k1 image clamped to [-1, 1]",
            "ae/encode_z": "[1, dZ, h, w]: vgtae_encode output",
        },
        "cases": cases,
        "ae": {"files": ae_files},
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out_dir) for fn in fns)
    log(f"goldens: {out_dir} ({total / 1e6:.3f} MB)")
    return golden


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vgt.goldens", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=GOLDEN_DIR)
    ap.add_argument("--bundle", default=BUNDLE_DIR)
    ap.add_argument("--no-bundle", action="store_true", help="keep the existing bundle (goldens only)")
    args = ap.parse_args(argv)
    write_goldens(args.out, args.bundle, export=not args.no_bundle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
