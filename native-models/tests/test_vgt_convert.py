"""Official-checkpoint converter on synthetic state dicts with the official key names (scaled-down config)."""
import dataclasses
from collections import OrderedDict

import pytest
import torch

from vgt import convert_official as C
from vgt.config import tiny as tiny_config
from vgt.queryar import VGT, randomize_

# Names the reference's modules give (vgt-reference.md §5); the synthetic dicts must carry them.
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


def config(encoder="internvit"):
    c = tiny_config()
    c = dataclasses.replace(c, name="tiny_official", max_grid=(64, 64))  # official [1,H,64,64] tables
    return dataclasses.replace(c, ae=dataclasses.replace(c.ae, encoder=encoder))


def official(model, variant="internvl"):
    sd = OrderedDict()
    for k, v in model.state_dict().items():
        if k.startswith("generator.lm."):
            rest = k[len("generator.lm."):]
            if variant == "internvl":
                sd["lmm.language_model.model." + rest] = v.clone()
            else:  # transformers 4.57 Qwen2.5-VL, plus the duplicate the reference's re-assignment creates
                sd["lmm.model.language_model." + rest] = v.clone()
                sd["lmm.language_model." + rest] = v.clone()
        elif k.startswith("generator."):
            sd[k[len("generator."):]] = v.clone()
        else:
            sd[k] = v.clone()
    return sd


@pytest.fixture(scope="module")
def src():
    m = VGT(config())
    randomize_(m, 3)
    return m


def save_mmengine(tmp_path, sd, key="ema_state_dict"):
    ck = {"meta": {"iter": 5000}, key: OrderedDict(("module." + k, v) for k, v in sd.items())}
    if key == "ema_state_dict":
        ck[key]["steps"] = torch.tensor(5000)
        ck["state_dict"] = {"should_not": torch.zeros(1)}  # EMA is preferred
    p = tmp_path / "iter_5000.pth"
    torch.save(ck, p)
    return str(p)


def test_synthetic_dict_uses_official_names(src):
    sd = official(src)
    for n in OFFICIAL_NAMES:
        assert n in sd, n
    assert tuple(sd["adaptive_metaquery.max_metaquery"].shape) == (1, 48, 64, 64)


def test_complete_mmengine_ema_checkpoint(src, tmp_path):
    sd = official(src)
    sd["lmm.language_model.lm_head.weight"] = torch.zeros(145, 48)
    sd["image_head.net.repa_projector.0.weight"] = torch.zeros(4, 4)
    sd["vgt_ae.teacher.embeddings.class_embedding"] = torch.zeros(1, 1, 32)
    sd["vgt_ae.teacher_mlp1.0.weight"] = torch.zeros(128)
    path = save_mmengine(tmp_path, sd)
    logs = []
    model, report = C.convert(config(), path, log=logs.append)
    assert "from ema_state_dict" in logs[0]
    for k, v in src.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    assert len(report["mapped"]) == len(src.state_dict())
    assert {k for k, _ in report["dropped"]} == {"lmm.language_model.lm_head.weight", "image_head.net.repa_projector.0.weight",
                                                 "vgt_ae.teacher.embeddings.class_embedding", "vgt_ae.teacher_mlp1.0.weight"}
    lines = []
    C.print_report(report, log=lines.append)
    assert any(l.startswith("mapped ") for l in lines) and any("training only" in l for l in lines)


def test_separate_ae_file(src, tmp_path):
    sd = official(src)
    gen = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("vgt_ae."))
    ae = OrderedDict((k[len("vgt_ae."):], v) for k, v in sd.items() if k.startswith("vgt_ae."))
    torch.save({"state_dict": gen}, tmp_path / "vgt.pth")
    torch.save(ae, tmp_path / "vgt_ae_internvl3.pth")  # raw state dict, keys without vgt_ae.
    model, _ = C.convert(config(), str(tmp_path / "vgt.pth"), str(tmp_path / "vgt_ae_internvl3.pth"), log=lambda *a: None)
    assert torch.equal(model.vgt_ae.decoder.conv_in.weight, src.vgt_ae.decoder.conv_in.weight)


def test_qwen_layout_duplicates_and_decode_only(tmp_path):
    m = VGT(config())
    randomize_(m, 4)
    sd = official(m, "qwen")
    cfg = config(encoder="none")
    state, report = C.convert_state(cfg, sd)
    assert report["duplicates"] and all(k.startswith("lmm.language_model.") for k, _ in report["duplicates"])
    assert any("encoder path" in why for _, why in report["dropped"])
    assert torch.equal(state["generator.lm.norm.weight"], m.generator.lm.norm.weight)
    sd["lmm.language_model.norm.weight"] = sd["lmm.language_model.norm.weight"] + 1  # duplicates that differ
    with pytest.raises(C.ConversionError, match="both map to generator.lm.norm.weight but differ"):
        C.convert_state(cfg, sd)


def test_missing_key_is_refused(src):
    sd = official(src)
    del sd["image_head.net.res_blocks.1.adaLN_modulation.1.weight"]
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(config(), sd)
    assert "missing key for generator.image_head.net.res_blocks.1.adaLN_modulation.1.weight (144, 48)" in str(e.value)


def test_unexpected_key_is_refused(src):
    sd = official(src)
    sd["image_head.net.extra_block.weight"] = torch.zeros(3)
    sd["something_else"] = torch.zeros(2, 2)
    with pytest.raises(C.ConversionError) as e:
        C.convert_state(config(), sd)
    msg = str(e.value)
    assert "unexpected key image_head.net.extra_block.weight (3,)" in msg and "unexpected key something_else (2, 2)" in msg


def test_wrong_shape_is_refused(src):
    sd = official(src)
    sd["image_in_projector.weight"] = torch.zeros(48, 32)
    with pytest.raises(C.ConversionError, match=r"shape mismatch image_in_projector.weight \(48, 32\) -> "
                                                r"generator.image_in_projector.weight expects \(48, 8\)"):
        C.convert_state(config(), sd)


def test_layer_count_mismatch_names_issue_11(src):
    sd = official(src)
    for k in [k for k in sd if ".layers.1." in k and k.startswith("lmm.")]:
        sd[k.replace(".layers.1.", ".layers.2.")] = sd[k]
    with pytest.raises(C.ConversionError, match="checkpoint has 3 LM layers, config tiny_official has 2"):
        C.convert_state(config(), sd)


def test_cli_refuses_and_converts(src, tmp_path, capsys):
    import json
    from vgt.checkpoint import load_checkpoint
    from vgt.tokenizer import default_tokenizer
    sd = official(src)
    tokp = tmp_path / "tokenizer.json"
    default_tokenizer().save(str(tokp))
    bad = dict(sd)
    bad.pop("vgt_ae.decoder.conv_out.bias")
    torch.save(bad, tmp_path / "bad.pth")
    C_main = C.main
    import vgt.config as cfgmod
    cfgmod.CONFIGS["tiny_official"] = config  # a scaled-down "official" config for the CLI
    try:
        assert C_main(["--config", "tiny_official", "--checkpoint", str(tmp_path / "bad.pth"), "--tokenizer", str(tokp),
                       "--out", str(tmp_path / "x.pt")]) == 2
        assert "missing key for vgt_ae.decoder.conv_out.bias" in capsys.readouterr().err
        torch.save(sd, tmp_path / "good.pth")
        assert C_main(["--config", "tiny_official", "--checkpoint", str(tmp_path / "good.pth"), "--tokenizer", str(tokp),
                       "--out", str(tmp_path / "x.pt")]) == 0
        model, ck = load_checkpoint(str(tmp_path / "x.pt"))
        assert ck["tokenizer"] == json.loads(tokp.read_text())
        assert C_main(["--list-keys", "--checkpoint", str(tmp_path / "good.pth")]) == 0
        assert "adaptive_metaquery.max_metaquery\t(1, 48, 64, 64)" in capsys.readouterr().out
    finally:
        del cfgmod.CONFIGS["tiny_official"]
