"""`vgt.fullsize_bundle --deepen-from` (the 28-layer bundle without a 28-layer PyTorch model) at tiny size: a 2-layer
bundle deepened to 4 layers by ONNX graph surgery is a valid bundle whose lm_step, run in ONNX Runtime, equals a
4-layer PyTorch model built with the same weights (the source's, and the new layers' read back from the graph)."""
import os

import numpy as np
import onnx
import pytest
import torch

from vgt import bundle as B
from vgt import rebuild as R
from vgt.export import FP16_MIN_NUMEL, check_bundle
from vgt.fullsize_bundle import build, main

from vgt_testutil import need_ort

NEW = ("generator.lm.layers.2.", "generator.lm.layers.3.")


@pytest.fixture(scope="module")
def deepened(tmp_path_factory):
    root = tmp_path_factory.mktemp("deepen")
    src, out = str(root / "l2"), str(root / "l4")
    assert main(["--config", "tiny", "--layers", "2", "--out", src, "--json"]) == 0
    assert main(["--deepen-from", src, "--layers", "4", "--seed", "3", "--out", out, "--json"]) == 0
    return src, out


def test_deepened_bundle_is_valid_and_keeps_every_other_file(deepened):
    src, out = deepened
    ms, m = B.validate_bundle(src, deep=True), B.validate_bundle(out, deep=True)
    assert m["architecture"] == {**ms["architecture"], "layers": 4}
    assert m["source"]["deepenedFrom"]["layers"] == 2 and m["id"].endswith("-l4")
    assert set(m["files"]) == set(ms["files"])
    for rel, e in m["files"].items():
        if rel.startswith("lm_step.onnx"):
            assert e["bytes"] > ms["files"][rel]["bytes"], rel
        else:
            assert e == ms["files"][rel], rel
    g = onnx.load(os.path.join(out, "lm_step.onnx"), load_external_data=False).graph
    assert [i.name for i in g.input][-4:] == ["past_key.2", "past_value.2", "past_key.3", "past_value.3"]
    assert [o.name for o in g.output][-4:] == ["present_key.2", "present_value.2", "present_key.3", "present_value.3"]
    onnx.checker.check_model(os.path.join(out, "lm_step.onnx"))


def test_deepened_lm_step_equals_a_pytorch_model_of_that_depth(deepened):
    src, out = deepened
    r = R.rebuild(out)  # the weights read back from the stitched graph, through its node scopes
    assert r.model.c.lm.layers == 4 and not r.unused
    # A 4-layer model: every weight of the 2-layer source model (float16-rounded as stored), the new layers' from
    # the graph; so the source's part of the deepened graph is untouched and the new layers are where they belong.
    model = build("tiny", 4, None, 0)
    source = build("tiny", 2, None, 0).state_dict()
    stitched = r.model.state_dict()
    sd = model.state_dict()
    with torch.no_grad():
        for k, v in sd.items():
            if k.startswith(NEW):
                v.copy_(stitched[k])
                continue
            fp16 = source[k].dim() >= 2 and source[k].numel() >= FP16_MIN_NUMEL
            want = source[k].half().float() if fp16 else source[k]
            v.copy_(want)
            if "adaptive_metaquery" not in k and "adaLN_modulation" not in k:  # sums that the rebuild inverts
                assert torch.equal(stitched[k], want), k
    # The new layers are fresh, of randomize_'s scales: Linear ~ N(0, 1/fan_in), norms ~ 1 + 0.1 N, biases ~ 0.2 N.
    lm = model.generator.lm
    for j in (2, 3):
        layer = lm.layers[j]
        assert not torch.equal(layer.mlp.up_proj.weight, lm.layers[1].mlp.up_proj.weight)
        w = layer.mlp.down_proj.weight
        assert abs(float(w.std()) * w.shape[1] ** 0.5 - 1) < 0.15
        assert abs(float(layer.input_layernorm.weight.mean()) - 1) < 0.1
        assert 0.1 < float(layer.self_attn.q_proj.bias.std()) < 0.3
    assert not torch.equal(lm.layers[2].mlp.gate_proj.weight, lm.layers[3].mlp.gate_proj.weight)
    need_ort()
    errors = check_bundle(model.eval(), out, log=lambda *a: None)
    assert set(errors) >= {"lm_step", "head_sde", "vgtae_decode"} and max(errors.values()) < 1e-3, errors


def test_deepen_refuses_what_it_cannot_do(deepened, tmp_path):
    src, _ = deepened
    with pytest.raises(ValueError, match="not deeper"):
        main(["--deepen-from", src, "--layers", "2", "--out", str(tmp_path / "x")])
    one = str(tmp_path / "l1")
    assert main(["--config", "tiny", "--layers", "1", "--out", one, "--json"]) == 0
    with pytest.raises(ValueError, match="2 or more"):
        main(["--deepen-from", one, "--layers", "3", "--out", str(tmp_path / "y")])
    with pytest.raises(ValueError, match="another folder"):
        main(["--deepen-from", src, "--layers", "3", "--out", src])
