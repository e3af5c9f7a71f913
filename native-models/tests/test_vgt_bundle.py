"""Bundle manifest round trip, sha256 checks, and refusal of bad bundles with the exact reason."""
import json
import os
import shutil

import numpy as np
import pytest

from vgt import bundle as B

from vgt_testutil import TINY_BUNDLE


@pytest.fixture()
def bdir(tmp_path):
    d = tmp_path / "b"
    shutil.copytree(TINY_BUNDLE, d)
    return str(d)


def edit(d, fn):
    p = os.path.join(d, B.MANIFEST)
    m = json.load(open(p))
    fn(m)
    json.dump(m, open(p, "w"))


def refused(d, deep=False):
    with pytest.raises(B.BundleError) as e:
        B.validate_bundle(d, deep=deep)
    return e.value.problems


def test_committed_tiny_bundle_is_valid():
    m = B.validate_bundle(TINY_BUNDLE, deep=True)
    roles = {e["role"] for e in m["files"].values()}
    assert set(B.REQUIRED_ROLES) <= roles and "vgtae_encode" in roles
    assert m["image"] == {"size": 48, "grid": [8, 8], "stride": 6, "grids": [[8, 8]]}
    assert sum(e["bytes"] for e in m["files"].values()) < 1_200_000


def test_manifest_round_trip_and_raw_tensors(tmp_path):
    d = str(tmp_path)
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    e = B.write_raw(d, "t.bin", arr, "token_embedding")
    assert e["shape"] == [3, 4] and e["dtype"] == "float32" and e["bytes"] == 48
    assert e["sha256"] == B.sha256_file(os.path.join(d, "t.bin"))
    assert np.array_equal(B.read_raw(d, "t.bin", e), arr)
    m = json.load(open(os.path.join(TINY_BUNDLE, B.MANIFEST)))
    B.write_manifest(d, m)
    assert B.load_manifest(d) == m
    h = B.read_raw(d, "t.bin", {**e, "dtype": "float32"})
    assert h.dtype == np.float32


def test_missing_file(bdir):
    os.remove(os.path.join(bdir, "head_velocity.onnx"))
    assert refused(bdir) == ["head_velocity.onnx: file missing"]


def test_wrong_sha256(bdir):
    p = os.path.join(bdir, "pos_8x8.bin")
    raw = bytearray(open(p, "rb").read())
    raw[0] ^= 1
    open(p, "wb").write(raw)
    (problem,) = refused(bdir)
    assert problem.startswith("pos_8x8.bin: sha256 mismatch (manifest ")


def test_wrong_size(bdir):
    with open(os.path.join(bdir, "query_8x8.bin"), "ab") as f:
        f.write(b"\0\0\0\0")
    problems = refused(bdir)
    assert problems[0].startswith("query_8x8.bin: size 12292 bytes, manifest says 12288")


def test_unknown_format_version(bdir):
    edit(bdir, lambda m: m.update(formatVersion=2))
    assert refused(bdir) == ["unknown formatVersion 2 (supported: [1])"]
    edit(bdir, lambda m: m.update(format="something"))
    assert refused(bdir) == ["format is 'something', expected 'vgt-bundle'"]


def test_missing_manifest(tmp_path):
    assert refused(str(tmp_path)) == [f"{B.MANIFEST} not found in {tmp_path}"]


@pytest.mark.parametrize("mutate,expected", [
    (lambda m: m["image"].update(size=50), "image.size (50) != image.stride (6) x image.grid ([8, 8])"),
    (lambda m: m["architecture"].update(kvHeads=3), "architecture.heads (4) is not a multiple of kvHeads (3)"),
    (lambda m: m["architecture"].update(hidden=64), "embed_tokens.bin: shape [145, 48] != [vocabSize 145, hidden 64]"),
    (lambda m: m["architecture"].update(vocabSize=100), "embed_tokens.bin: shape [145, 48] != [vocabSize 100, hidden 48]"),
    (lambda m: m["image"].update(grid=[4, 4], stride=12), "image.grid [4, 4] is not in image.grids [[8, 8]]"),
    (lambda m: m["sampling"].update(cfgSchedule="cosine"), "sampling.cfgSchedule must be linear or constant, got 'cosine'"),
    (lambda m: m["sampling"].update(editContext="some"), "sampling.editContext must be all or none, got 'some'"),
    (lambda m: m["prompt"].update(padTokenId=999), "prompt.padTokenId 999 outside vocabulary of 145"),
    (lambda m: m["files"]["pos_8x8.bin"].update(grid=[4, 4]), "pos_8x8.bin: grid [4, 4] not in image.grids [[8, 8]]"),
    (lambda m: m["files"]["lm_step.onnx"].update(role="mystery"), "lm_step.onnx: unknown role 'mystery'"),
    (lambda m: m["files"].update({"../x.bin": {"role": "pos_table"}}), "../x.bin: file paths must be relative and inside the bundle"),
    (lambda m: m["preview"]["latentRgb"]["weights"].pop(),
     "preview.latentRgb needs 3 x dZ (24) finite weights and 3 finite biases"),
])
def test_inconsistent_numbers(bdir, mutate, expected):
    edit(bdir, mutate)
    assert expected in refused(bdir)


def test_edit_context_is_optional(bdir):
    # Absent (every bundle before it): valid, readers use "all"; "none" is the other value.
    assert "editContext" not in B.validate_bundle(bdir)["sampling"]
    edit(bdir, lambda m: m["sampling"].update(editContext="none"))
    assert B.validate_bundle(bdir)["sampling"]["editContext"] == "none"


def test_deep_check_graph_io(bdir):
    # A manifest whose numbers disagree with the graphs' fixed dims is refused by the deep check.
    def mutate(m):
        m["architecture"]["headWidth"] = 32
    edit(bdir, mutate)
    problems = refused(bdir, deep=True)
    assert "head_cond.onnx: output cond has dims [None, 48], expected [None, 32]" in problems


def test_cli_reports_reasons(bdir, capsys):
    os.remove(os.path.join(bdir, "latent_in.onnx"))
    assert B.main([bdir]) == 1
    assert "invalid: latent_in.onnx: file missing" in capsys.readouterr().out


def test_export_fits_instant_preview_factors():
    # The committed tiny bundle carries the fit; its map is zero-mean per channel (LayerNormed latents sum to 0).
    m = B.validate_bundle(TINY_BUNDLE)
    lrgb = m["preview"]["latentRgb"]
    dz = m["architecture"]["dZ"]
    assert len(lrgb["weights"]) == 3 * dz and len(lrgb["bias"]) == 3
    for c in range(3):
        assert abs(sum(lrgb["weights"][c * dz:(c + 1) * dz])) < 1e-4
    assert 0 <= lrgb["fitRmse255"] < 255
