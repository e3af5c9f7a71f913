"""Official-checkpoint converter on synthetic state dicts with the official key names (scaled-down config):
key mapping, the separate AE file, layer counts, layouts and refusals. Loading files: test_vgt_convert_loading.py."""
import dataclasses
from collections import OrderedDict

import pytest
import torch

import vgt.config as cfgmod
from vgt import convert_official as C
from vgt.config import tiny as tiny_config
from vgt.queryar import VGT, randomize_

# Names the official model's modules give (github.com/hustvl/VGT); the synthetic dicts must carry them.
OFFICIAL_NAMES = [
    "lmm.language_model.model.embed_tokens.weight", "lmm.language_model.model.layers.0.self_attn.q_proj.bias",
    "lmm.language_model.model.layers.1.mlp.gate_proj.weight", "lmm.language_model.model.norm.weight",
    "adaptive_metaquery.max_metaquery", "adaptive_metaquery.pos_encoding.grid_embed",
    "image_in_projector.weight", "image_out_projector.bias", "image_head.net.input_proj.weight",
    "image_head.net.cond_embed.weight", "image_head.net.time_embed.mlp.0.weight", "image_head.net.time_embed.mlp.2.bias",
    "image_head.net.res_blocks.0.in_ln.weight", "image_head.net.res_blocks.1.mlp.2.weight",
    "image_head.net.res_blocks.0.adaLN_modulation.1.weight", "image_head.net.final_layer.linear.weight",
    "image_head.net.final_layer.adaLN_modulation.1.bias", "vgt_ae.encoder.embeddings.class_embedding",
    "vgt_ae.encoder.embeddings.position_embedding", "vgt_ae.encoder.embeddings.patch_embedding.weight",
    "vgt_ae.encoder.encoder.layers.0.attn.qkv.weight", "vgt_ae.encoder.encoder.layers.1.ls2",
    "vgt_ae.encoder.encoder.layers.0.mlp.fc1.weight", "vgt_ae.encoder.encoder.layers.0.norm1.weight",
    "vgt_ae.mlp1.0.weight", "vgt_ae.mlp1.1.weight", "vgt_ae.mlp1.3.weight", "vgt_ae.down_blocks.2.mlp.3.bias",
    "vgt_ae.down_mlp.0.weight", "vgt_ae.down_mlp.3.weight", "vgt_ae.decoder.conv_in.weight",
    "vgt_ae.decoder.up_blocks.0.0.conv.weight", "vgt_ae.decoder.up_blocks.0.1.conv1.weight",
    "vgt_ae.decoder.up_blocks.3.0.attn.to_qkv_multiscale.0.proj_in.weight",
    "vgt_ae.decoder.up_blocks.3.0.conv_out.conv_inverted.weight", "vgt_ae.decoder.norm_out.weight",
    "vgt_ae.decoder.conv_out.weight",
]
# Training-only parts of a REPA-trained official checkpoint (names from the official modules, tiny sizes).
TRAINING_ONLY = {
    "lmm.language_model.lm_head.weight": (145, 48),
    "image_head.net.repa_projector.0.weight": (64, 48), "image_head.net.repa_projector.4.bias": (16,),
    "dinov3_extractor.model.cls_token": (1, 1, 16), "dinov3_extractor.model.blocks.0.attn.qkv.weight": (48, 16),
    "dinov3_extractor.model.norm.weight": (16,),
    "vgt_ae.teacher.embeddings.class_embedding": (1, 1, 32), "vgt_ae.teacher_mlp1.0.weight": (128,),
}


def config(encoder="internvit", layers=2):
    c = tiny_config()
    c = dataclasses.replace(c, name="tiny_official", max_grid=(64, 64))  # official [1,H,64,64] tables
    return dataclasses.replace(c, ae=dataclasses.replace(c.ae, encoder=encoder),
                               lm=dataclasses.replace(c.lm, layers=layers))


def official(model, variant="internvl"):
    """Our state dict under the official names: "internvl", "qwen" (transformers 4.57, with the duplicate
    the reference's re-assignment creates) or "qwen_old" (transformers < 4.52)."""
    sd = OrderedDict()
    for k, v in model.state_dict().items():
        if k.startswith("generator.lm."):
            rest = k[len("generator.lm."):]
            if variant == "internvl":
                sd["lmm.language_model.model." + rest] = v.clone()
            elif variant == "qwen":
                sd["lmm.model.language_model." + rest] = v.clone()
                sd["lmm.language_model." + rest] = v.clone()
            else:
                sd["lmm.model." + rest] = v.clone()
        elif k.startswith("generator."):
            sd[k[len("generator."):]] = v.clone()
        else:
            sd[k] = v.clone()
    return sd


def with_training_parts(sd):
    sd = OrderedDict(sd)
    sd.update((k, torch.randn(s)) for k, s in TRAINING_ONLY.items())
    return sd


def split_ae(sd, prefix=""):
    gen = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("vgt_ae."))
    ae = OrderedDict((prefix + k[len("vgt_ae."):], v.clone()) for k, v in sd.items() if k.startswith("vgt_ae."))
    return gen, ae


@pytest.fixture(scope="module")
def src():
    m = VGT(config())
    randomize_(m, 3)
    return m.eval()


def quiet(*a):
    pass


def assert_same_weights(model, ref):
    sd = model.state_dict()
    assert sd.keys() == ref.state_dict().keys()
    for k, v in ref.state_dict().items():
        assert sd[k].dtype == torch.float32 and torch.equal(sd[k], v), k


def test_synthetic_dict_uses_official_names(src):
    sd = official(src)
    for n in OFFICIAL_NAMES:
        assert n in sd, n
    assert tuple(sd["adaptive_metaquery.max_metaquery"].shape) == (1, 48, 64, 64)


def test_training_parts_dropped_and_counted(src):
    model, report = C.convert_state(config(), with_training_parts(official(src)), log=quiet)
    assert_same_weights(model, src)
    assert len(report["mapped"]) == len(src.state_dict())
    assert {k for k, _ in report["dropped"]} == set(TRAINING_ONLY)
    lines = []
    C.print_report(report, log=lines.append)
    assert "       3  REPA teacher DINOv3 (training only)" in lines and "       2  REPA projector (training only)" in lines


def test_model_built_on_meta_computes_like_the_source(src):
    model, _ = C.convert_state(config(), official(src), log=quiet)
    assert not any(p.is_meta for p in model.parameters()) and not any(b.is_meta for b in model.buffers())
    torch.manual_seed(0)
    z = torch.randn(1, src.c.d_z, *src.c.grid)
    x = torch.randn(2, 5, 48)
    mask, pos = torch.ones(2, 5, dtype=torch.long), torch.arange(5).repeat(2, 1)
    with torch.no_grad():
        assert torch.equal(model.vgt_ae.decode(z), src.vgt_ae.decode(z))
        assert torch.equal(model.generator.lm(x, mask, pos)[0], src.generator.lm(x, mask, pos)[0])
        img = torch.rand(1, 3, 48, 48) * 2 - 1
        assert torch.equal(model.vgt_ae.encode(img), src.vgt_ae.encode(img))


@pytest.mark.parametrize("prefix", ["", "vgt_ae.", "model.", "module.", "ae.", "ema.autoencoder."])
def test_separate_ae_file_prefix_detected(src, prefix):
    gen, ae = split_ae(with_training_parts(official(src)), prefix)
    logs = []
    model, report = C.convert_state(config(), gen, ae, log=logs.append)
    assert_same_weights(model, src)
    assert report["ae"]["prefix"] == (prefix if prefix != "module." else "module.")
    assert f"--ae: key prefix {prefix!r} (detected)" in logs


def test_ae_prefix_option_and_refusal_when_nothing_fits(src):
    gen, ae = split_ae(official(src), "first_stage_model.")
    model, report = C.convert_state(config(), OrderedDict(gen), OrderedDict(ae), log=quiet,
                                    ae_prefix="first_stage_model.")
    assert_same_weights(model, src)
    # names that no prefix can fix (e.g. another module layout): refused, naming keys and the fix
    bad = OrderedDict((k.replace("decoder.", "dec.").replace("encoder.", "enc."), v) for k, v in ae.items())
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(config(), OrderedDict(gen), bad, log=quiet)
    msg = str(e.value)
    assert "--ae: no key prefix makes the keys fit the VGT-AE" in msg and "fix: --ae-prefix" in msg
    assert "first_stage_model.enc.embeddings.class_embedding" in msg and len(msg.splitlines()) <= 3
    # a wrong explicit prefix: the keys it does not strip are named as the --ae file's
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(config(), OrderedDict(gen), OrderedDict(ae), log=quiet, ae_prefix="model.")
    msg = str(e.value)
    assert "nothing: [--ae] first_stage_model.encoder.embeddings.class_embedding (1, 1, 32);" in msg
    assert "keys marked [--ae]: --ae-prefix TEXT" in msg and "fix: the --ae file's names do not fit: --ae-prefix" in msg


def test_checkpoint_ae_wins_over_ae_file_and_differences_are_named(src):
    sd = official(src)
    gen, ae = split_ae(sd)
    ae["decoder.conv_in.bias"] += 0.25
    ae["mlp1.0.weight"] += 0.5
    del sd["vgt_ae.decoder.conv_out.bias"]  # only in --ae: taken from there
    logs = []
    model, report = C.convert_state(config(), sd, ae, log=logs.append)
    assert_same_weights(model, src)
    assert report["ae"]["from_ae"] == 1 and len(report["ae"]["differ"]) == 2
    warn = next(l for l in logs if l.startswith("WARNING"))
    assert "vgt_ae.decoder.conv_in.bias (max |diff| 0.25)" in warn and "vgt_ae.mlp1.0.weight (max |diff| 0.5)" in warn
    assert any("the checkpoint's" in l and "win over --ae's, as in the reference" in l for l in logs)


def test_missing_ae_asks_for_the_ae_file(src):
    gen, _ = split_ae(official(src))
    with pytest.raises(C.ConversionError, match=r"model tensors nothing maps to: vgt_ae\.[^\n]*\(\d+ more\)\n"
                                                r"    fix: pass the separate AE file with --ae"):
        C.convert_state(config(), gen, log=quiet)


def test_qwen_layout_duplicates_and_decode_only():
    m = VGT(config())
    randomize_(m, 4)
    sd = official(m, "qwen")
    cfg = config(encoder="none")
    model, report = C.convert_state(cfg, OrderedDict(sd), log=quiet)
    assert report["duplicates"] and all(k.startswith("lmm.language_model.") for k, _ in report["duplicates"])
    assert any("encoder path" in why for _, why in report["dropped"])
    assert torch.equal(model.generator.lm.norm.weight, m.generator.lm.norm.weight)
    sd["lmm.language_model.norm.weight"] = sd["lmm.language_model.norm.weight"] + 1  # duplicates that differ
    with pytest.raises(C.ConversionError, match="1 duplicate LM copies that differ: lmm.language_model.norm.weight vs "
                                                "lmm.model.language_model.norm.weight"):
        C.convert_state(cfg, sd, log=quiet)


def test_older_transformers_qwen_layout():
    m = VGT(config())
    randomize_(m, 5)
    sd = official(m, "qwen_old")
    sd["lmm.visual.blocks.0.attn.qkv.weight"] = torch.zeros(3, 3)
    sd["lmm.lm_head.weight"] = torch.zeros(145, 48)
    model, report = C.convert_state(config(encoder="none"), sd, log=quiet)
    assert torch.equal(model.generator.lm.layers[1].mlp.down_proj.weight, m.generator.lm.layers[1].mlp.down_proj.weight)
    assert torch.equal(model.generator.lm.embed_tokens.weight, m.generator.lm.embed_tokens.weight)
    assert {k for k, _ in report["dropped"] if k.startswith("lmm.")} == {"lmm.visual.blocks.0.attn.qkv.weight",
                                                                         "lmm.lm_head.weight"}


@pytest.mark.parametrize("variant", ["internvl", "qwen"])
def test_layer_count_taken_from_the_checkpoint(variant):
    """A Qwen2.5-VL release with all 36 layers (or 18) converts with the checkpoint's count (issue #11)."""
    m = VGT(config(layers=4))
    randomize_(m, 6)
    logs = []
    model, report = C.convert_state(config(encoder="none"), official(m, variant), log=logs.append)
    assert model.c.lm.layers == 4 and model.c.name == "tiny_official_4layers" and len(model.generator.lm.layers) == 4
    assert torch.equal(model.generator.lm.layers[3].self_attn.o_proj.weight, m.generator.lm.layers[3].self_attn.o_proj.weight)
    assert any("the checkpoint's LM has 4 layers, config tiny_official 2: building with 4" in l and "issue #11" in l
               for l in logs)


def test_wrong_config_is_refused_with_the_configs_that_fit(src, monkeypatch):
    monkeypatch.setitem(cfgmod.CONFIGS, "tiny_official", config)
    wide = dataclasses.replace(config(), name="wide", lm=dataclasses.replace(config().lm, hidden=64, head_dim=16, layers=3))
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(wide, official(src), log=quiet)
    msg = str(e.value)
    assert "1 LM layer count mismatch: the checkpoint's LM has 2 layers and embedding (145, 48), config wide " \
           "3 layers and (145, 64)\n    fix: --config one of: tiny, tiny_official\n" in msg
    assert "shape mismatches: lmm.language_model.model.embed_tokens.weight (145, 48) -> generator.lm.embed_tokens.weight " \
           "expects (145, 64)" in msg
    deep = VGT(config(layers=3))
    with pytest.raises(C.ConversionError, match=r"fix: check --config \(configs whose LM fits the checkpoint's: tiny "
                                                r"\(built with 3 layers\), tiny_official \(built with 3 layers\)\)"):
        C.convert_state(wide, official(deep), log=quiet)
    with pytest.raises(C.ConversionError, match=r"fix: --config one of: none\n"):
        C.convert_state(config(), official(VGT(wide)), log=quiet)


def test_refusals_name_the_first_keys_and_the_fix(src):
    sd = official(src)
    del sd["image_head.net.res_blocks.1.adaLN_modulation.1.weight"]
    sd["image_head.net.extra_block.weight"] = torch.zeros(3)
    sd.update((f"other.part{i}", torch.zeros(2, 2)) for i in range(6))
    sd["image_in_projector.weight"] = torch.zeros(48, 32)
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(config(), sd, log=quiet)
    msg, details = str(e.value), e.value.details
    assert "7 checkpoint keys that map to nothing: image_head.net.extra_block.weight (3,); other.part0 (2, 2); " \
           "other.part1 (2, 2); other.part2 (2, 2); … (3 more)\n    fix: a training-only part belongs on KNOWN_UNUSED" in msg
    assert "1 model tensors nothing maps to: generator.image_head.net.res_blocks.1.adaLN_modulation.1.weight (144, 48)" in msg
    assert "1 shape mismatches: image_in_projector.weight (48, 32) -> generator.image_in_projector.weight expects (48, 8)" in msg
    assert "other.part5" not in msg and "other.part5 (2, 2)" in details


def test_cli_refuses_and_converts(src, tmp_path, capsys, monkeypatch):
    import json
    from vgt.checkpoint import load_checkpoint
    from vgt.tokenizer import default_tokenizer
    monkeypatch.setitem(cfgmod.CONFIGS, "tiny_official", config)  # a scaled-down "official" config for the CLI
    sd = official(src)
    tokp = tmp_path / "tokenizer.json"
    default_tokenizer().save(str(tokp))
    bad = dict(sd)
    bad.pop("vgt_ae.decoder.conv_out.bias")
    torch.save(bad, tmp_path / "bad.pth")
    args = ["--config", "tiny_official", "--tokenizer", str(tokp), "--out", str(tmp_path / "x.pt")]
    assert C.main(args + ["--checkpoint", str(tmp_path / "bad.pth")]) == 2
    assert "model tensors nothing maps to: vgt_ae.decoder.conv_out.bias (3,)" in capsys.readouterr().err
    torch.save(with_training_parts(sd), tmp_path / "good.pth")
    assert C.main(args + ["--checkpoint", str(tmp_path / "good.pth")]) == 0
    out = capsys.readouterr().out
    assert "wrote " in out and "peak RSS" in out and "REPA teacher DINOv3" in out
    model, ck = load_checkpoint(str(tmp_path / "x.pt"))
    assert ck["tokenizer"] == json.loads(tokp.read_text())
    assert_same_weights(model, src)
    assert model.c.pad_mask == "always"  # the config's (tiny); the official configs say "prefill"
    bundle = tmp_path / "bundle"
    assert C.main(args + ["--checkpoint", str(tmp_path / "good.pth"), "--pad-mask", "prefill", "--bundle", str(bundle),
                          "--dtype", "float32"]) == 0
    capsys.readouterr()
    assert load_checkpoint(str(tmp_path / "x.pt"))[0].c.pad_mask == "prefill"
    assert json.loads((bundle / "vgt-bundle.json").read_text())["prompt"]["padMask"] == "prefill"
    assert C.main(["--list-keys", "--checkpoint", str(tmp_path / "good.pth")]) == 0
    assert "adaptive_metaquery.max_metaquery\t(1, 48, 64, 64)\ttorch.float32" in capsys.readouterr().out
