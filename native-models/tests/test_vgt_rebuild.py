"""The PyTorch model rebuilt from a bundle's own weights (vgt.rebuild): equal to the model the bundle was exported
from, for float32 and float16 bundles, extra grids and the fused head; round trip through ONNX Runtime on the shipped
Shapes World bundle; the reference sampler on it; refusal of a bundle that lacks a weight."""
import json
import os
import shutil

import numpy as np
import onnx
import pytest
import torch

from vgt import bundle as B
from vgt import rebuild as R
from vgt.bundle_graph import resolve_scope
from vgt.checkpoint import load_checkpoint, seeded_model
from vgt.sampler import SampleSettings, sample_latents
from vgt.tokenizer import default_tokenizer

from vgt_testutil import ROOT, TINY_BUNDLE, need_ort

SHAPES_BUNDLE = os.path.join(ROOT, "bundles", "vgt-shapes")
QUERY_KEYS = ("generator.adaptive_metaquery.max_metaquery", "generator.adaptive_metaquery.pos_encoding.grid_embed")


def assert_same_weights(original, rebuilt, grids, fp16=False):
    """Every parameter equal to the original (float16-rounded where the export rounds); the query tables inside
    the exported crops, and their sum exactly; the adaLN biases to the last bit."""
    from vgt.export import FP16_MIN_NUMEL
    sd, rd = original.state_dict(), rebuilt.state_dict()
    assert set(sd) == set(rd)
    for k, v in sd.items():
        want = v.half().float() if fp16 and v.dim() >= 2 and v.numel() >= FP16_MIN_NUMEL else v
        if k in QUERY_KEYS:
            continue
        tol = 1.2e-7 if "adaLN_modulation" in k and k.endswith(".bias") else 0.0
        assert torch.allclose(rd[k], want, rtol=0, atol=tol), k
    amq_o, amq_r = original.generator.adaptive_metaquery, rebuilt.generator.adaptive_metaquery
    for gh, gw in grids:
        q_o, q_r = amq_o.queries(gh, gw), amq_r.queries(gh, gw)
        if fp16:
            q_o = q_o.half().float()
        assert torch.equal(q_r, q_o), (gh, gw)
        p_o = amq_o.pos(gh, gw)
        assert torch.equal(amq_r.pos(gh, gw), p_o.half().float() if fp16 else p_o), (gh, gw)


def test_float32_bundle_rebuilds_its_source_model():
    r = R.rebuild(TINY_BUNDLE)
    assert_same_weights(seeded_model("tiny", 0), r.model, [(8, 8)])
    assert r.model.c.name == "tiny" and not r.unused
    assert any("64 of 256 cells" in n for n in r.notes)
    # The reference sampler gives the same latents on the rebuilt model as on the source (to float32 rounding: the
    # adaLN biases may differ in the last bit).
    s = SampleSettings(steps=3, cfg=3.0, cfg_schedule="linear", tokens_per_step=4, order="random")
    tok = default_tokenizer()
    with torch.no_grad():
        a = sample_latents(seeded_model("tiny", 0).generator, tok, ["a red circle"], s, seed=1, order_seed=2)
        b = sample_latents(r.model.generator, tok, ["a red circle"], s, seed=1, order_seed=2)
    assert torch.allclose(a, b, rtol=0, atol=1e-4) and a.abs().max() > 0.1


@pytest.fixture(scope="module")
def fp16_bundle(tmp_path_factory):
    from vgt.export import export_bundle
    d = str(tmp_path_factory.mktemp("fp16") / "b")
    export_bundle(seeded_model("tiny", 3), d, name="t", bundle_id="t16",
                  tokenizer_json=default_tokenizer().to_hf_json(), dtype="float16", grids=[(4, 4), (12, 12)],
                  fused_head=True, log=lambda *a: None)
    return d


def test_float16_bundle_with_grids_and_fused_head(fp16_bundle):
    r = R.rebuild(fp16_bundle)
    assert_same_weights(seeded_model("tiny", 3), r.model, [(4, 4), (8, 8), (12, 12)], fp16=True)
    assert any("144 of 256 cells" in n for n in r.notes)
    assert any("float16" in n for n in r.notes)


def test_rebuild_cli_writes_a_checkpoint(tmp_path, capsys):
    out = str(tmp_path / "tiny.pt")
    assert B.main([TINY_BUNDLE, "--rebuild", out]) == 0
    model, ck = load_checkpoint(out)
    assert ck["rebuiltFrom"]["bundle"] == "vgt-tiny-test" and ck["imgTokenIds"] == [2]
    assert_same_weights(seeded_model("tiny", 0), model, [(8, 8)])
    assert "rebuilt: tiny" in capsys.readouterr().out


def test_shipped_bundle_round_trip_through_onnx_runtime(capsys):
    """The shipped default model: every graph in ONNX Runtime against the model rebuilt from it."""
    need_ort()
    assert B.main([SHAPES_BUNDLE, "--check"]) == 0
    out = capsys.readouterr().out
    assert "round trip ok" in out and "lm_step: max abs error" in out
    # the shipped model departs from the named config on purpose: a local-window encoder and grid image positions
    assert "architecture differs from the named config 'shapes8' in: ae.vit.local_window, image_positions" in out


def test_missing_weight_is_named(tmp_path):
    d = str(tmp_path / "b")
    shutil.copytree(TINY_BUNDLE, d)
    path = os.path.join(d, "vgtae_decode.onnx")
    proto = onnx.load(path)
    victim = next(i for i in proto.graph.initializer if i.name == "ae.decoder.conv_out.bias")
    proto.graph.initializer.remove(victim)
    onnx.save(proto, path)
    m = json.load(open(os.path.join(d, B.MANIFEST)))
    m["files"]["vgtae_decode.onnx"].update(B.file_entry(d, "vgtae_decode.onnx", "vgtae_decode"))
    B.write_manifest(d, m)
    with pytest.raises(R.RebuildError) as e:
        R.rebuild(d)
    assert "vgt_ae.decoder.conv_out.bias" in str(e.value)


def test_resolve_scope_and_invert_sum():
    names = ["", "mlp1", "mlp1.0", "mlp1.1", "decoder", "decoder.up_blocks", "decoder.up_blocks.3",
             "decoder.up_blocks.3.1", "encoder", "encoder.encoder", "encoder.encoder.layers.0"]
    assert resolve_scope(names, ["mlp1", "mlp1.1"]) == "mlp1.1"  # a root Sequential's child, named in full
    assert resolve_scope(names, ["decoder", "up_blocks.3", "up_blocks.3.1"]) == "decoder.up_blocks.3.1"
    assert resolve_scope(names, ["encoder", "layers.0"]) == "encoder.encoder.layers.0"  # skips a container
    assert resolve_scope(names, ["nothing"]) is None
    rng = np.random.default_rng(0)
    addend = rng.standard_normal(1000).astype(np.float32) * 100
    total = (rng.standard_normal(1000).astype(np.float32) + addend).astype(np.float32)  # a rounded sum
    x = R.invert_sum(total, addend)
    assert np.array_equal((x + addend).astype(np.float32), total)


def test_external_data_bundle_round_trip(tmp_path):
    """The large-model paths at tiny size: vgt.fullsize_bundle (float16, every graph's weights in external data),
    validated, rebuilt through onnx's external-data loading, and run in ONNX Runtime against the rebuilt model."""
    from vgt.fullsize_bundle import build, main
    d = str(tmp_path / "ext")
    assert main(["--config", "tiny", "--layers", "1", "--out", d, "--json"]) == 0
    m = B.validate_bundle(d, deep=True)
    graphs = [f for f in m["files"] if f.endswith(".onnx")]
    data = {e["graph"] for e in m["files"].values() if e["role"] == "onnx_external_data"}
    # Every graph with a weight over onnx's 1 KB threshold (tiny's latent_in has none) keeps it outside.
    assert m["dtype"] == "float16" and m["architecture"]["layers"] == 1
    assert {"lm_step.onnx", "head_velocity.onnx", "head_sde.onnx", "vgtae_decode.onnx", "vgtae_encode.onnx"} <= data
    r = R.rebuild(d)
    assert_same_weights(build("tiny", 1, None, 0), r.model, [(8, 8)], fp16=True)
    need_ort()
    from vgt.export import check_bundle
    errors = check_bundle(r.model, d, log=lambda *a: None)
    assert set(errors) == {g[:-5] for g in graphs} and max(errors.values()) < 1e-3


def test_image_positions_come_from_the_manifest(tmp_path):
    """`image.positions` (BUNDLE.md "Image positions") reaches the rebuilt config; absent means "sequence"."""
    assert R.rebuild(TINY_BUNDLE).model.c.image_positions == "sequence"
    d = str(tmp_path / "b")
    shutil.copytree(TINY_BUNDLE, d)
    path = os.path.join(d, "vgt-bundle.json")
    with open(path) as f:
        m = json.load(f)
    m["image"]["positions"] = "grid"
    with open(path, "w") as f:
        json.dump(m, f)
    assert R.rebuild(d).model.c.image_positions == "grid"


def test_grid2d_bundle_round_trip(tmp_path):
    """A 2-D RoPE bundle (lm_step position_ids [B, S, 2]) rebuilds to its source's weights and positions."""
    from vgt.export import export_bundle
    model = seeded_model("tiny", 5)
    model.generator.c.image_positions = "grid2d"
    d = str(tmp_path / "b2d")
    export_bundle(model, d, name="t", bundle_id="t2d", tokenizer_json=default_tokenizer().to_hf_json(),
                  log=lambda *a: None)
    r = R.rebuild(d)
    assert r.model.c.image_positions == "grid2d" and not r.unused
    assert_same_weights(model, r.model, [(8, 8)])


def test_local_window_encoder_round_trip(tmp_path):
    """A local-window VGT-AE (config ae.vit.local_window) exports `architecture.aeLocalWindow`, and the rebuilt model
    encodes exactly as the source: without the field a rebuild would run the encoder globally."""
    import dataclasses

    from vgt.export import export_bundle
    from vgt.queryar import VGT, randomize_

    c = seeded_model("tiny", 0).c
    c = dataclasses.replace(c, ae=dataclasses.replace(c.ae, vit=dataclasses.replace(c.ae.vit, local_window=1)))
    model = randomize_(VGT(c), 4).eval()
    d = str(tmp_path / "b")
    export_bundle(model, d, name="t", bundle_id="tlw", tokenizer_json=default_tokenizer().to_hf_json(),
                  log=lambda *a: None)
    with open(os.path.join(d, "vgt-bundle.json")) as f:
        assert json.load(f)["architecture"]["aeLocalWindow"] == 1
    r = R.rebuild(d).model.eval()
    assert r.c.ae.vit.local_window == 1
    x = torch.rand(2, 3, c.ae.image_size, c.ae.image_size) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(r.vgt_ae.encode(x), model.vgt_ae.encode(x), atol=1e-5)


def test_latent_group_round_trip(tmp_path):
    """A generator of 2x2-cell tokens (config ae.latent_group) exports a 4x4 grid of 4*d_z channels at twice the
    stride with `architecture.aeLatentGroup`, and the rebuilt model encodes and decodes exactly as the source."""
    import dataclasses

    from vgt.bundle import validate_bundle
    from vgt.export import export_bundle
    from vgt.queryar import VGT, randomize_

    c = seeded_model("tiny", 0).c
    c = dataclasses.replace(c, ae=dataclasses.replace(c.ae, latent_group=2))
    model = randomize_(VGT(c), 4).eval()
    d = str(tmp_path / "b")
    export_bundle(model, d, name="t", bundle_id="tlg", tokenizer_json=default_tokenizer().to_hf_json(),
                  log=lambda *a: None)
    with open(os.path.join(d, "vgt-bundle.json")) as f:
        m = json.load(f)
    assert m["architecture"]["aeLatentGroup"] == 2 and m["architecture"]["dZ"] == 4 * c.ae.d_z
    assert m["image"]["grid"] == [c.ae.grid // 2] * 2 and m["image"]["stride"] == 2 * c.ae.stride
    validate_bundle(d, deep=True)  # graph inputs and outputs agree with the manifest's grid and dZ
    r = R.rebuild(d).model.eval()
    assert (r.c.ae.latent_group, r.c.ae.d_z, r.c.ae.grid) == (2, c.ae.d_z, c.ae.grid)
    x = torch.rand(2, 3, c.ae.image_size, c.ae.image_size) * 2 - 1
    with torch.no_grad():
        z = model.vgt_ae.encode(x)
        assert z.shape[1:] == (4 * c.ae.d_z, c.ae.grid // 2, c.ae.grid // 2)
        assert torch.allclose(r.vgt_ae.encode(x), z, atol=1e-5)
        assert torch.allclose(r.vgt_ae.decode(z), model.vgt_ae.decode(z), atol=1e-4)


def test_phrase_token_bundle_round_trip(tmp_path):
    """A generator with phrase tokens (config text_phrases) and the echo template exports them in tokenizer.json and
    the manifest's prompt.template; the rebuild reads both back into the config, so the tokenizer the Python side
    picks for it (tokenizer_for) is the bundle's own."""
    import dataclasses

    from vgt.config import ECHO_TEMPLATE, PROMPT_TEMPLATE
    from vgt.export import export_bundle
    from vgt.queryar import VGT, randomize_
    from vgt.tokenizer import phrase_tokenizer, tokenizer_for

    tok = phrase_tokenizer()
    c = seeded_model("tiny", 0).c
    c = dataclasses.replace(c, text_phrases=True, prompt_template=ECHO_TEMPLATE,
                            lm=dataclasses.replace(c.lm, vocab_size=tok.vocab_size))
    model = randomize_(VGT(c), 4).eval()
    d = str(tmp_path / "b")
    export_bundle(model, d, name="t", bundle_id="tph", tokenizer_json=tok.to_hf_json(), log=lambda *a: None)
    r = R.rebuild(d).model.eval()
    assert r.c.text_phrases and not R.rebuild(TINY_BUNDLE).model.c.text_phrases
    assert json.load(open(os.path.join(d, "vgt-bundle.json")))["prompt"]["template"] == ECHO_TEMPLATE
    assert r.c.prompt_template == ECHO_TEMPLATE and R.rebuild(TINY_BUNDLE).model.c.prompt_template == PROMPT_TEMPLATE
    assert tokenizer_for(r.c).encode_prompt("a red circle").count(tok.ids["red circle"]) == 2
    assert tokenizer_for(r.c).to_hf_json() == json.load(open(os.path.join(d, "tokenizer.json")))
    assert torch.equal(r.generator.lm.embed_tokens.weight, model.generator.lm.embed_tokens.weight)
