"""ONNX vs PyTorch per graph (<= 1e-4, fp32), the committed fixtures, and the goldens end to end."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch

from vgt import export as E
from vgt.bundle import validate_bundle
from vgt.checkpoint import seeded_model
from vgt.goldens import MODEL_SEED, PROMPT, ReplayNoise, run_case
from vgt.tokenizer import default_tokenizer

from vgt_testutil import REPO, TINY_BUNDLE, TINY_GOLDENS, need_ort

GRAPHS = ("lm_step", "latent_in", "head_cond", "head_velocity", "vgtae_decode", "vgtae_encode")


@pytest.fixture(scope="module")
def tiny():
    return seeded_model("tiny", MODEL_SEED)


@pytest.fixture(scope="module")
def goldens():
    with open(os.path.join(TINY_GOLDENS, "golden.json")) as f:
        return json.load(f)


def load(spec):
    return torch.from_numpy(np.fromfile(os.path.join(TINY_GOLDENS, spec["file"]), dtype="<f4").reshape(spec["shape"]))


def test_export_fresh_bundle_matches_pytorch(tiny, tmp_path):
    need_ort()
    out = str(tmp_path / "b")
    E.export_bundle(tiny, out, name="t", bundle_id="t", tokenizer_json=default_tokenizer().to_hf_json(),
                    grids=[(4, 4)], fused_head=True, log=lambda *a: None)
    errors = E.check_bundle(tiny, out, log=lambda *a: None, extra_grids=[(4, 4)])
    assert set(GRAPHS) | {"head_fused", "head_sde"} == set(errors)
    for g, err in errors.items():
        assert err <= 1e-4, (g, err)


def test_fp16_weight_bundle(tiny, tmp_path):
    need_ort()
    out = str(tmp_path / "b16")
    m = E.export_bundle(tiny, out, name="t", bundle_id="t", tokenizer_json=default_tokenizer().to_hf_json(),
                        dtype="float16", edit_context="none", log=lambda *a: None)
    assert m["files"]["pos_8x8.bin"]["dtype"] == "float16"
    assert m["sampling"]["editContext"] == "none"
    errors = E.check_bundle(tiny, out, log=lambda *a: None)
    assert max(errors.values()) <= 1e-4


def test_grid2d_bundle_matches_pytorch(tiny, tmp_path):
    """2-D RoPE: lm_step takes position_ids [B, S, 2]; the manifest says so and the bundle checks out."""
    need_ort()
    out = str(tmp_path / "b2d")
    tiny.generator.c.image_positions = "grid2d"
    try:
        m = E.export_bundle(tiny, out, name="t", bundle_id="t", tokenizer_json=default_tokenizer().to_hf_json(),
                            log=lambda *a: None)
        errors = E.check_bundle(tiny, out, log=lambda *a: None)
    finally:
        tiny.generator.c.image_positions = "sequence"
    assert m["image"]["positions"] == "grid2d"
    assert validate_bundle(out, deep=True)["image"]["positions"] == "grid2d"
    assert max(errors.values()) <= 1e-4


def test_engine_generates_with_a_grid2d_bundle(tiny, tmp_path):
    """The TypeScript engine loads a 2-D RoPE bundle (its warm-up feeds a position pair) and generates at k = 1 and 4
    (`vgt generate`, as a user runs it)."""
    need_ort()
    out = str(tmp_path / "b2d")
    tiny.generator.c.image_positions = "grid2d"
    try:
        E.export_bundle(tiny, out, name="t", bundle_id="t2d", tokenizer_json=default_tokenizer().to_hf_json(),
                        log=lambda *a: None)
    finally:
        tiny.generator.c.image_positions = "sequence"
    env = dict(os.environ, VGT_STUDIO_HOME=str(tmp_path / "home"))
    vgt = [shutil.which("node") or "node", os.path.join(REPO, "bin", "vgt.mjs")]
    run = lambda *a: subprocess.run(vgt + list(a), env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run("models", "import", out).returncode == 0
    for k in ("1", "4"):
        png = str(tmp_path / f"k{k}.png")
        r = run("generate", "--prompt", "a red circle", "--model", "t2d", "--tokens-per-step", k, "--steps", "2",
                "--json", "--no-history", "--out", png)
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(r.stdout)["images"][0]["file"] == png and os.path.getsize(png) > 0


def test_grid2d_golden_positions_are_the_samplers(tiny, goldens):
    """The position-only golden case the engine replays (k4-grid2d) is what the PyTorch sampler feeds today."""
    case = goldens["cases"]["k4-grid2d"]
    tiny.generator.c.image_positions = "grid2d"
    try:
        _, rec, _ = run_case(tiny, default_tokenizer(), 4, pad_mask=case["padMask"])
    finally:
        tiny.generator.c.image_positions = "sequence"
    assert rec["setup"]["order"].tolist() == case["order"]
    assert [g["position_ids"].tolist() for g in rec["groups"]] == [g["positionIds"] for g in case["groups"]]


def test_committed_bundle_matches_code(tiny):
    """The fixture the TypeScript engine uses is what the current code exports."""
    need_ort()
    errors = E.check_bundle(tiny, TINY_BUNDLE, log=lambda *a: None)
    assert max(errors.values()) <= 1e-4


@pytest.mark.parametrize("k", [1, 4])
def test_goldens_match_pytorch(tiny, goldens, k):
    case = goldens["cases"][f"k{k}"]
    f = case["files"]
    noise = ReplayNoise(load(f["initial_noise"]), load(f["sde_noise"]))
    z, rec, _ = run_case(tiny, default_tokenizer(), k, noise=noise, order=torch.tensor(case["order"]))
    assert torch.allclose(z, load(f["latents"]), atol=1e-5)
    hid = torch.stack([g["hidden"] for g in rec["groups"]])
    assert torch.allclose(hid, load(f["hidden"]), atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(tiny.vgt_ae.decode(z), load(f["image"]), atol=1e-5)
    assert goldens["prompt"] == PROMPT
    assert case["groupSizes"] == [k] * (64 // k)


def test_goldens_replay_through_onnx(tiny, goldens):
    """The whole sampler on the bundle's graphs (what the TS engine does) reproduces the goldens."""
    need_ort()
    from vgt.ortnode import OnnxFns, OrtServer
    tol = goldens["tolerance"]
    with OrtServer() as srv:
        fns = OnnxFns(TINY_BUNDLE, srv)
        for k in (1, 4):
            case = goldens["cases"][f"k{k}"]
            f = case["files"]
            noise = ReplayNoise(load(f["initial_noise"]), load(f["sde_noise"]))
            z, rec, _ = run_case(tiny, default_tokenizer(), k, fns=fns, noise=noise, order=torch.tensor(case["order"]))
            assert (z - load(f["latents"])).abs().max() <= tol["latents"]
            assert (fns.decode(z) - load(f["image"])).abs().max() <= tol["image"]
        ae = goldens["ae"]["files"]
        ze = fns.encode(load(ae["encode_input"]))
        assert (ze - load(ae["encode_z"])).abs().max() <= 1e-4


def test_export_cli_prints_per_graph_errors(tmp_path, capsys):
    need_ort()
    assert E.main(["--config", "tiny", "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "per-graph max abs error" in out
    for g in GRAPHS:
        assert g in out
    validate_bundle(str(tmp_path / "cli"))


def test_export_cli_sampling_defaults(tmp_path):
    """--order, --cfg, --cfg-schedule and --tokens-per-step set the bundle's sampling defaults (chosen after
    training)."""
    need_ort()
    d = str(tmp_path / "s")
    assert E.main(["--config", "tiny", "--out", d, "--no-check", "--order", "raster", "--cfg", "4.5",
                   "--cfg-schedule", "constant", "--tokens-per-step", "1", "--edit-context", "all"]) == 0
    s = validate_bundle(d)["sampling"]
    assert (s["order"], s["cfg"], s["cfgSchedule"], s["tokensPerStep"], s["editContext"]) == \
        ("raster", 4.5, "constant", 1, "all")
    # out-of-range defaults are refused before the folder is touched (the bundle just written stays)
    for bad in (["--tokens-per-step", "0"], ["--tokens-per-step", "65"], ["--cfg", "-1"], ["--cfg-schedule", "cosine"]):
        with pytest.raises(SystemExit):
            E.main(["--config", "tiny", "--out", d, "--no-check", *bad])
        assert validate_bundle(d)["sampling"]["cfg"] == 4.5


def test_generate_cli(tmp_path, capsys):
    from vgt.generate import main
    png = tmp_path / "a.png"
    assert main(["--bundle", TINY_BUNDLE, "--prompt", "a red circle", "--out", str(png), "--json",
                 "--tokens-per-step", "4"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["images"][0]["width"] == 48 and png.exists() and res["msPerImage"] > 0
