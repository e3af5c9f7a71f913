"""The pad mask of the shorter prompt row (BUNDLE.md "Padding"): "always" (ours, the Shapes World bundle) vs
"prefill" (the reference's generate(): no mask after the prefill; official conversions), in the sampler, the
configs, the bundle manifest and the goldens the engine's parity tests read."""
import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from vgt.checkpoint import seeded_model
from vgt.config import VGTConfig, get_config
from vgt.goldens import MODEL_SEED, ReplayNoise, run_case
from vgt.sampler import SampleSettings, TorchFns, sample_latents
from vgt.tokenizer import default_tokenizer

from vgt_testutil import TINY_GOLDENS


@pytest.fixture(scope="module")
def tiny():
    return seeded_model("tiny", MODEL_SEED)


class RecordingFns(TorchFns):
    def __init__(self, model):
        super().__init__(model)
        self.masks = []

    def lm_step(self, embeds, mask, pos, past):
        self.masks.append(mask.clone())
        return super().lm_step(embeds, mask, pos, past)


def sample(tiny, pad_mask, cfg=3.0, k=4):
    fns = RecordingFns(tiny.generator)
    s = SampleSettings(steps=2, cfg=cfg, tokens_per_step=k, pad_mask=pad_mask)
    z = sample_latents(tiny.generator, default_tokenizer(), ["two red circles"], s, seed=1, order_seed=2, fns=fns)
    return z, fns.masks


def test_masks_given_to_the_lm(tiny):
    tok = default_tokenizer()
    n_cond, n_uncond = len(tok.encode_prompt("two red circles")), len(tok.encode_uncond())
    assert n_cond > n_uncond  # the uncond row has pads
    pads = slice(n_uncond, n_cond)
    _, always = sample(tiny, "always")
    _, prefill = sample(tiny, "prefill")
    assert len(always) == len(prefill) == 16
    assert torch.equal(always[0], prefill[0]) and (prefill[0][1, pads] == 0).all() and (prefill[0][0] == 1).all()
    for a, p in zip(always[1:], prefill[1:]):
        assert (a[1, pads] == 0).all() and a.sum() == a.numel() - (n_cond - n_uncond)
        assert a.shape == p.shape and (p == 1).all()


def test_the_two_masks_differ_only_where_there_are_pads(tiny):
    za, _ = sample(tiny, "always")
    zp, _ = sample(tiny, "prefill")
    assert (za - zp).abs().max() > 0.1
    za, _ = sample(tiny, "always", cfg=1.0)  # the cond row alone: no pads
    zp, _ = sample(tiny, "prefill", cfg=1.0)
    assert torch.equal(za, zp)


def test_settings_default_to_the_model_config(tiny):
    model = seeded_model("tiny", MODEL_SEED)
    model.generator.c = dataclasses.replace(model.generator.c, pad_mask="prefill")
    z_cfg, _ = sample(model, None)
    z_set, _ = sample(tiny, "prefill")
    assert torch.equal(z_cfg, z_set)
    with pytest.raises(ValueError, match="unknown pad_mask 'sometimes'"):
        sample(tiny, "sometimes")


def test_configs_and_old_checkpoints():
    for name in ("internvl3_1_6b", "internvl3_0_6b", "qwen25vl_1_6b", "qwen25vl_2b"):
        assert get_config(name).pad_mask == "prefill", name
    for name in ("tiny", "shapes", "shapes8"):
        assert get_config(name).pad_mask == "always", name
    d = get_config("shapes").to_dict()
    assert VGTConfig.from_dict(json.loads(json.dumps(d))).pad_mask == "always"
    d.pop("pad_mask")  # a checkpoint saved before the field existed keeps masked pads
    assert VGTConfig.from_dict(d).pad_mask == "always"
    d["pad_mask"] = "prefill"
    assert VGTConfig.from_dict(d).pad_mask == "prefill"


@pytest.mark.parametrize("k", [1, 4])
def test_prefill_goldens_match_pytorch(tiny, k):
    with open(os.path.join(TINY_GOLDENS, "golden.json")) as f:
        case = json.load(f)["cases"][f"k{k}-prefill"]

    def load(spec):
        return torch.from_numpy(np.fromfile(os.path.join(TINY_GOLDENS, spec["file"]), dtype="<f4").reshape(spec["shape"]))

    assert case["padMask"] == "prefill"
    fl = case["files"]
    noise = ReplayNoise(load(fl["initial_noise"]), load(fl["sde_noise"]))
    z, rec, _ = run_case(tiny, default_tokenizer(), k, noise=noise, order=torch.tensor(case["order"]), pad_mask="prefill")
    assert torch.allclose(z, load(fl["latents"]), atol=1e-5)
    z_always, _, _ = run_case(tiny, default_tokenizer(), k, noise=noise, order=torch.tensor(case["order"]))
    assert (z_always - load(fl["latents"])).abs().max() > 0.1
