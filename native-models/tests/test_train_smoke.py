"""Every stage of the Shapes World recipe runs a couple of steps on the tiny config, resumes, and chains
into the next one (stage 0 -> AE stage 1 -> AE stage 2 -> latents -> QueryAR -> evaluation -> checkpoint)."""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

torch = pytest.importorskip("torch")

from vgt.config import ECHO_TEMPLATE, PROMPT_TEMPLATE  # noqa: E402
from vgt.tokenizer import PHRASES, WordPieceTokenizer  # noqa: E402
from vgt.train import ae, ar, assemble, encode_latents, evaluate, probes, stage0  # noqa: E402

COMMON = ["--config", "tiny", "--batch", "2", "--log-every", "1", "--save-every", "2", "--warmup", "2"]


def _log(run):
    with open(os.path.join(run, "log.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_recipe_end_to_end(tmp_path, capsys):
    d = str(tmp_path)
    s0, a1, a2, lat, arr = (os.path.join(d, n) for n in ("stage0", "ae1", "ae2", "latents", "ar"))

    stage0.main(COMMON + ["--steps", "2", "--out", s0, "--eval-every", "2", "--eval-batch", "4"])
    stage0.main(COMMON + ["--steps", "3", "--out", s0, "--eval-every", "3", "--eval-batch", "4"])  # resumes at 2
    steps = [r["step"] for r in _log(s0) if "loss" in r]
    assert steps == [1, 2, 3]

    ae.main(COMMON + ["--stage", "1", "--stage0", os.path.join(s0, "ckpt.pt"), "--steps", "2", "--out", a1,
                      "--eval-every", "2", "--eval-batch", "4"])
    rec = _log(a1)
    assert any("l_distill" in r for r in rec) and any("eval_psnr" in r for r in rec)
    ae.main(COMMON + ["--stage", "2", "--init", os.path.join(a1, "ckpt.pt"), "--steps", "2", "--out", a2,
                      "--eval-every", "2", "--eval-batch", "4", "--sigma", "0.1"])
    ck = torch.load(os.path.join(a2, "ckpt.pt"))
    sd1 = torch.load(os.path.join(a1, "ckpt.pt"))["modules"]["ae"]
    # stage 2 freezes the encoder: its raw weights are those stage 2 started from (stage 1's EMA)
    ema1 = torch.load(os.path.join(a1, "ckpt.pt"))["ema"]
    key = "encoder.embeddings.patch_embedding.weight"
    assert torch.equal(ck["modules"]["ae"][key], ema1[key]) and key in sd1

    encode_latents.main(["--ae", os.path.join(a2, "ckpt.pt"), "--out", lat, "--n", "10", "--shard", "4"])
    z, caps, _ = encode_latents.load_latents(lat)
    assert z.shape == (10, 8, 8, 8) and len(caps) == 10
    # per-token LayerNormed latents
    assert torch.allclose(z.float().mean(1), torch.zeros(10, 8, 8), atol=1e-2)
    # a category mix: only the named categories' captions
    lat2 = os.path.join(d, "latents-two")
    encode_latents.main(["--ae", os.path.join(a2, "ckpt.pt"), "--out", lat2, "--n", "6", "--shard", "3",
                         "--categories", "two_object", "position"])
    _, caps2, cats2 = encode_latents.load_latents(lat2)
    assert set(cats2) <= {"two_object", "position"} and len(caps2) == 6
    # shards carry per-cell labels; --backfill-labels rebuilds them without the AE from the same draws
    labels = encode_latents.load_labels(lat2)
    assert labels["shape"].shape == (6, 64) and (labels["shape"] >= 0).any() and (labels["colour"] < 6).all()
    for f in os.listdir(lat2):
        sd = torch.load(os.path.join(lat2, f))
        del sd["cell_colour"], sd["cell_shape"]
        torch.save(sd, os.path.join(lat2, f))
    with pytest.raises(SystemExit):
        encode_latents.load_labels(lat2)
    with pytest.raises(SystemExit):  # other draws than the shards': refused
        encode_latents.main(["--backfill-labels", "--out", lat2, "--categories", "two_object"])
    encode_latents.main(["--backfill-labels", "--out", lat2, "--categories", "two_object", "position"])
    again = encode_latents.load_labels(lat2)
    assert all(torch.equal(again[a], labels[a]) for a in labels)

    ar.main(COMMON + ["--latents", lat, "--steps", "2", "--out", arr, "--ae", os.path.join(a2, "ckpt.pt"),
                      "--eval-every", "2", "--eval-prompts", "2"])
    assert any("eval_k4_overall" in r for r in _log(arr))
    # 2x2-cell tokens from the same per-cell latents: a 4x4 grid of 32 channels, evaluated through the same AE
    arg = os.path.join(d, "ar-group")
    ar.main(COMMON + ["--latents", lat, "--steps", "2", "--out", arg, "--ae", os.path.join(a2, "ckpt.pt"),
                      "--eval-every", "2", "--eval-prompts", "2", "--latent-group", "2", "--order", "coarse"])
    gen = evaluate.load_generator(os.path.join(arg, "ckpt.pt"))
    assert gen.c.ae.latent_group == 2 and gen.c.grid == (4, 4) and gen.c.d_z == 32
    assert any("eval_k4_overall" in r for r in _log(arg))
    psg = os.path.join(d, "probe-set-group.pt")
    probes.main(["build", "--ae", os.path.join(a2, "ckpt.pt"), "--out", psg, "--n", "4", "--latent-group", "2"])
    assert torch.load(psg)["z"].shape == (4, 32, 4, 4) and torch.load(psg)["coverage"].shape == (4, 16)
    assert "attn_ratio" in probes.run_probes(gen, torch.load(psg), n_attn=2, n_loss=4, n_prompts=2)

    # grid positions with the geometry probes in the log; the scheme travels in the checkpoint's config
    ps, argrid = os.path.join(d, "probe-set.pt"), os.path.join(d, "ar-grid")
    probes.main(["build", "--ae", os.path.join(a2, "ckpt.pt"), "--out", ps, "--n", "8"])
    ar.main(COMMON + ["--latents", lat, "--steps", "2", "--out", argrid, "--positions", "grid", "--raster-p", "0.5",
                      "--order", "coarse", "--probe-set", ps, "--probe-every", "2"])
    pr = [r["probes"] for r in _log(argrid) if "probes" in r]
    assert len(pr) == 1 and {"attn_ratio", "obj_loss_by_seen", "cell_corr", "count_model", "colour_first",
                                  "shape_first", "shape_clf_acc", "binding_first", "binding_all",
                                  "relation_first", "relation_all"} <= set(pr[0])
    assert torch.load(ps)["cell_colour"].shape == torch.load(ps)["cell_shape"].shape == (8, 64)
    assert torch.load(os.path.join(argrid, "ckpt.pt"))["config"]["image_positions"] == "grid"
    # object tokens weighted by the probe set's classifier (and refused without one)
    with pytest.raises(SystemExit):
        ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", os.path.join(d, "ar-ow0"), "--object-weight", "4"])
    ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", os.path.join(d, "ar-ow"), "--object-weight", "4",
                      "--probe-set", ps, "--probe-every", "100"])
    assert _log(os.path.join(d, "ar-ow"))[-2]["step"] == 1
    # started from another run's (EMA) weights: at LR 0 they are what it saves; a config that means other
    # positions is refused; batches in the layout of 4 tokens per step train
    init = evaluate.load_generator(os.path.join(argrid, "ckpt.pt")).state_dict()
    apar = os.path.join(d, "ar-par")
    ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", apar, "--positions", "grid", "--lr", "0",
                      "--init", os.path.join(argrid, "ckpt.pt")])
    assert all(torch.equal(v, init[k]) for k, v in torch.load(os.path.join(apar, "ckpt.pt"))["modules"]["gen"].items())
    with pytest.raises(SystemExit):
        ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", os.path.join(d, "ar-bad"),
                          "--init", os.path.join(argrid, "ckpt.pt")])
    ar.main(COMMON + ["--latents", lat, "--steps", "3", "--out", apar, "--positions", "grid", "--parallel-p", "1",
                      "--parallel-k", "4", "--init", os.path.join(argrid, "ckpt.pt")])
    losses = [r["loss"] for r in _log(apar) if "loss" in r]
    assert len(losses) == 3 and all(0 < v < float("inf") for v in losses)
    assert evaluate.load_generator(os.path.join(argrid, "ckpt.pt")).c.image_positions == "grid"
    # a grid generator continued under 2-D RoPE (the one position change --init allows), probes included
    a2d = os.path.join(d, "ar-2d")
    ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", a2d, "--positions", "grid2d", "--probe-set", ps,
                      "--probe-every", "1", "--init", os.path.join(argrid, "ckpt.pt")])
    assert evaluate.load_generator(os.path.join(a2d, "ckpt.pt")).c.image_positions == "grid2d"
    assert any("attn_ratio" in r.get("probes", {}) for r in _log(a2d))
    # the binding contrast is logged on batches with a shape-swapped caption (the two-object latents above)
    ab = os.path.join(d, "ar-bind")
    ar.main(COMMON + ["--latents", lat2, "--steps", "3", "--out", ab, "--binding-weight", "1", "--probe-set", ps,
                      "--probe-every", "100", "--batch", "6"])
    assert any(r.get("binding", -1) >= 0 for r in _log(ab))
    # the attribute loss: a training-only read-out saved beside the generator, logged, resumable
    aa = os.path.join(d, "ar-attr")
    ar.main(COMMON + ["--latents", lat2, "--steps", "2", "--out", aa, "--attr-weight", "0.5"])
    ar.main(COMMON + ["--latents", lat2, "--steps", "3", "--out", aa, "--attr-weight", "0.5"])
    attr = [r["attr"] for r in _log(aa) if "attr" in r]
    assert len(attr) == 3 and all(0 < v < 10 for v in attr)
    assert set(torch.load(os.path.join(aa, "ckpt.pt"))["modules"]) == {"gen", "attr"}
    ac = os.path.join(d, "ar-caption")
    ar.main(COMMON + ["--latents", lat2, "--steps", "2", "--out", ac, "--caption-weight", "0.5"])
    assert len([r["caption"] for r in _log(ac) if "caption" in r]) == 2
    assert evaluate.load_generator(os.path.join(argrid, "ckpt.pt")).c.sampling.order == "coarse"
    # phrase tokens from a word-vocabulary generator: its rows kept, one new row per phrase; assembled with the
    # phrase tokenizer; a phrase generator cannot seed a word-vocabulary run
    aphr = os.path.join(d, "ar-phrase")
    ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", aphr, "--positions", "grid", "--lr", "0",
                      "--init", os.path.join(argrid, "ckpt.pt"), "--phrase-tokens", "--echo-prompt"])
    phr = evaluate.load_generator(os.path.join(aphr, "ckpt.pt"))
    assert phr.c.prompt_template == ECHO_TEMPLATE and evaluate.load_generator(
        os.path.join(argrid, "ckpt.pt")).c.prompt_template == PROMPT_TEMPLATE
    emb, emb0 = phr.state_dict()[ar.EMBED_KEY], init[ar.EMBED_KEY]
    assert phr.c.text_phrases and emb.shape[0] == emb0.shape[0] + len(PHRASES) and torch.equal(emb[:len(emb0)], emb0)
    out = assemble.assemble(os.path.join(a2, "ckpt.pt"), os.path.join(aphr, "ckpt.pt"), os.path.join(d, "vgt-p.pt"))
    assert WordPieceTokenizer.load_dict(torch.load(out)["tokenizer"]).phrases == PHRASES
    with pytest.raises(SystemExit):
        ar.main(COMMON + ["--latents", lat, "--steps", "1", "--out", os.path.join(d, "ar-bad2"), "--positions", "grid",
                          "--init", os.path.join(aphr, "ckpt.pt")])

    # --bf16 (forward autocast to bfloat16, weights and optimiser fp32): both runs go on two more steps
    ar.main(COMMON + ["--latents", lat, "--steps", "4", "--out", arr, "--bf16", "--ctx-noise", "0.3"])
    ae.main(COMMON + ["--stage", "2", "--init", os.path.join(a1, "ckpt.pt"), "--steps", "4", "--out", a2,
                      "--eval-every", "4", "--eval-batch", "4", "--sigma", "0.1", "--bf16"])
    for run, name in ((arr, "gen"), (a2, "ae")):
        ck = torch.load(os.path.join(run, "ckpt.pt"))
        assert ck["step"] == 4
        assert all(v.dtype == torch.float32 for v in ck["modules"][name].values() if v.is_floating_point())
        losses = [r["loss"] for r in _log(run) if "loss" in r]
        assert len(losses) == 4 and all(0 < v < float("inf") for v in losses)

    # fine-tuning a whole AE (issue 15): encoder trained, local attention, shape-aware loss; the window travels
    # in the checkpoint's config so every later stage builds the local encoder
    aft = os.path.join(d, "ae-ft")
    ae.main(COMMON + ["--stage", "2", "--init", os.path.join(a2, "ckpt.pt"), "--steps", "2", "--out", aft,
                      "--train-encoder", "--local-window", "1", "--shape-weight", "4", "--eval-every", "2",
                      "--eval-batch", "4"])
    ft = torch.load(os.path.join(aft, "ckpt.pt"))
    assert not torch.equal(ft["modules"]["ae"][key], torch.load(os.path.join(a2, "ckpt.pt"))["ema"][key])
    assert ft["config"]["ae"]["vit"]["local_window"] == 1
    assert encode_latents.load_ae(os.path.join(aft, "ckpt.pt"))[0].encoder.attn_bias is not None
    # a decoder-only continuation of it keeps its local encoder without being told (and its latents: encoder frozen)
    adec = os.path.join(d, "ae-dec")
    ae.main(COMMON + ["--stage", "2", "--init", os.path.join(aft, "ckpt.pt"), "--steps", "1", "--out", adec,
                      "--freeze-projector", "--eval-every", "1", "--eval-batch", "4"])
    dec = torch.load(os.path.join(adec, "ckpt.pt"))
    assert dec["config"]["ae"]["vit"]["local_window"] == 1
    assert torch.equal(dec["modules"]["ae"][key], ft["ema"][key])

    r = evaluate.recon_eval(os.path.join(a2, "ckpt.pt"), n=4, batch=4)
    assert {"psnr", "ssim", "shapes", "shapes_ground_truth"} <= set(r) and r["shapes"]["n"] == 4
    g = evaluate.generation_eval(evaluate.load_generator(os.path.join(arr, "ckpt.pt")),
                                 os.path.join(a2, "ckpt.pt"), ks=(1, 4), limit=2, steps=2)
    assert set(g) == {1, 4} and all(0.0 <= v["overall"] <= 1.0 and set(v["drawn"]) <= {"1", "2", "3", "4"}
                                    for v in g.values())
    shard = os.path.join(lat, "shard-00000.pt")
    gen = evaluate.load_generator(os.path.join(arr, "ckpt.pt"))
    c = evaluate.context_eval(gen, shard, n=4, orders=1)
    assert set(c) == {"clean", "swapped", "noise 0.1", "noise 0.3", "no_caption"}
    assert all(len(v["eighths"]) == 8 and 0 < v["mean"] < float("inf") for v in c.values())
    # A generator with non-degenerate weights (4 training steps barely move the latent input from its init):
    # with one scene its "other scene" is itself, and noise moves the loss.
    from vgt.queryar import randomize_
    one = evaluate.context_eval(randomize_(gen, 1), shard, n=1, orders=1)
    assert one["swapped"] == one["clean"]
    assert one["noise 0.3"]["mean"] != one["clean"]["mean"]

    from vgt.checkpoint import load_checkpoint
    out = assemble.assemble(os.path.join(a2, "ckpt.pt"), os.path.join(arr, "ckpt.pt"), os.path.join(d, "vgt.pt"))
    model, meta = load_checkpoint(out)
    assert meta["config"]["name"] == "tiny" and meta["tokenizer"] is not None
    # the AE brings its own encoder window, the generator its token grouping
    out = assemble.assemble(os.path.join(aft, "ckpt.pt"), os.path.join(arg, "ckpt.pt"), os.path.join(d, "vgt-g.pt"))
    model, _ = load_checkpoint(out)
    assert model.c.ae.vit.local_window == 1 and model.c.ae.latent_group == 2 and model.c.grid == (4, 4)
    bad = dict(torch.load(os.path.join(arr, "ckpt.pt")))
    bad["config"] = {**bad["config"], "ae": {**bad["config"]["ae"], "d_z": 4}}
    torch.save(bad, os.path.join(d, "bad.pt"))
    with pytest.raises(ValueError, match="d_z"):
        assemble.assemble(os.path.join(a2, "ckpt.pt"), os.path.join(d, "bad.pt"), os.path.join(d, "vgt-bad.pt"))


def test_dimension_adaptive_shift():
    from vgt.config import get_config
    assert ar.dimension_shift(get_config("shapes")) == 1.0  # 16*16*16 = 4096: the reference dimension
    assert abs(ar.dimension_shift(get_config("tiny")) - (8 * 8 * 8 / 4096) ** 0.5) < 1e-12


def test_ssim_and_psnr_of_identical_images():
    import numpy as np
    a = (np.random.default_rng(0).random((2, 32, 32, 3)) * 255).astype(np.uint8)
    assert abs(evaluate.ssim(a, a) - 1.0) < 1e-9
    assert evaluate.psnr(a, a) > 90


def test_drawn_stats_on_ground_truth_renders():
    """Renders of a prompt draw what it asks; a wrong-shape copy shows up as over-drawing and a shape miss."""
    import numpy as np

    from vgt.shapes.score import detect, parse_prompt
    from vgt.shapes.world import render_prompt

    rng = np.random.default_rng(3)
    items = []
    for prompt in ("a red circle", "a blue square and a green triangle", "three yellow squares"):
        img, _ = render_prompt(prompt, rng)
        items.append((detect(img), parse_prompt(prompt)))
    s = evaluate.drawn_stats(items)
    assert {k: s[k] for k in ("drawn", "colour_named", "shape_of_colour", "shape_confusion")} == {
        "drawn": {"1": 1.0, "2": 2.0, "3": 3.0}, "colour_named": 1.0, "shape_of_colour": 1.0,
        "shape_confusion": {"circle": {"circle": 1}, "square": {"square": 1}, "triangle": {"triangle": 1}}}
    extra = dict(items[0][0][0], shape="triangle", area=7)
    s = evaluate.drawn_stats([(items[0][0] + [extra], items[0][1])])
    assert s["drawn"] == {"1": 2.0} and s["colour_named"] == 1.0 and s["shape_of_colour"] == 0.5
    assert s["shape_confusion"] == {"circle": {"circle": 1, "triangle": 1}} and s["area_by_shape"]["triangle"] == 7
    assert s["object_found"] is None
    # two-object prompts: found objects, both, and the relation where both are drawn (true render, then mirrored)
    img, _ = render_prompt("a red circle left of a blue square", rng)
    pos = (detect(img), parse_prompt("a red circle left of a blue square"), img.shape[0])
    mirrored = (detect(img[:, ::-1]), pos[1], img.shape[0])
    s = evaluate.drawn_stats([items[1], pos, mirrored])
    assert (s["object_found"], s["both_found"], s["relation_if_both"]) == (1.0, 1.0, 0.5)
    s = evaluate.drawn_stats([(items[1][0][:1], items[1][1])])
    assert (s["object_found"], s["both_found"], s["relation_if_both"]) == (0.5, 0.0, None)


def test_binding_probe_compares_the_true_and_the_swapped_caption(monkeypatch):
    """Same noise, t and context: the caption is the only difference, so swapping nothing gives exactly 1."""
    from vgt.checkpoint import seeded_model
    from vgt.tokenizer import default_tokenizer

    gen = seeded_model("tiny", 0).generator.eval()
    h, w = gen.c.grid
    g = torch.Generator().manual_seed(0)
    z = torch.randn(3, gen.c.d_z, h, w, generator=g)
    cov = (torch.rand(3, h * w, generator=g) > 0.6).float()
    caps = ["a red square and a blue circle", "three red circles", "a green triangle left of a red circle"]
    order = torch.randperm(h * w, generator=g)
    tok = default_tokenizer()
    real = probes.binding_loss_ratio(gen, tok, z, caps, cov, order)
    assert real["binding_scenes"] == 2 and real["binding_all"] != 1.0
    monkeypatch.setattr(probes, "swap_shapes", lambda c: c if " and " in c or " of " in c else None)
    same = probes.binding_loss_ratio(gen, tok, z, caps, cov, order)
    assert same == {"binding_scenes": 2, "binding_first": 1.0, "binding_all": 1.0}
    # the relation probe contrasts only the position scene, with its relation flipped
    rel = probes.relation_loss_ratio(gen, tok, z, caps, cov, order)
    assert rel["relation_scenes"] == 1 and rel["relation_all"] != 1.0
    monkeypatch.setattr(probes, "flip_relation", lambda c: c if " of " in c else None)
    assert probes.relation_loss_ratio(gen, tok, z, caps, cov, order) == {
        "relation_scenes": 1, "relation_first": 1.0, "relation_all": 1.0}


def test_binding_contrast_replays_the_same_noise():
    """With the true caption as its own swap the contrast is exactly margin x L_true: both passes drew the same
    order, t, noise and context noise."""
    from types import SimpleNamespace

    from vgt.checkpoint import seeded_model
    from vgt.tokenizer import default_tokenizer

    gen = seeded_model("tiny", 0).generator
    tok = default_tokenizer()
    h, w = gen.c.grid
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, gen.c.d_z, h, w, generator=g)
    ps = {"classifier": (torch.randn(gen.c.d_z, generator=g), torch.tensor(0.0))}
    args = SimpleNamespace(binding_max=4, binding_margin=0.1, diffusion_batch_mul=2, ctx_noise=0.3)
    caps = ["a red square and a blue circle", "a red circle"]
    img = tok.img_token_ids()
    c = ar.binding_contrast(gen, tok, [0, 1], caps, [caps[0], None], z, ps, img, None, args, seed=3)
    ids, mask = probes.prepare_text_batch(tok, caps[:1])
    obj = ar.object_weight(z[:1], ps, 1.0) - 1.0
    ref = gen.ar_loss(ids, mask, z[:1], img, generator=torch.Generator().manual_seed(10), diffusion_batch_mul=2,
                      ctx_noise=0.3, token_weight=obj)
    assert torch.allclose(c, 0.1 * ref, rtol=1e-5)
    assert ar.binding_contrast(gen, tok, [1], caps, [caps[0], None], z, ps, img, None, args, seed=3) is None


def test_caption_readout_labels_and_state():
    """The read-out's labels bind each colour to its shape; the caption state is the <img> position of the full
    causal pass (no image token can reach it)."""
    from vgt.checkpoint import seeded_model
    from vgt.tokenizer import default_tokenizer

    assert ar.caption_binding_labels("a red square and a blue circle") == [2, 0, 1, 0, 0, 0]
    assert ar.caption_binding_labels("a red circle and a blue square") == [1, 0, 2, 0, 0, 0]
    assert ar.caption_binding_labels("a red triangle below a red circle")[0] == -100
    assert ar.caption_binding_labels("three green triangles on a black background") == [0, 3, 0, 0, 0, 0]
    gen = seeded_model("tiny", 0).generator.eval()
    tok = default_tokenizer()
    ids, mask = probes.prepare_text_batch(tok, ["a red square and a blue circle", "a red circle"])
    h, w = gen.c.grid
    z = torch.randn(2, gen.c.d_z, h, w)
    x, m, pos, _ = gen.build_sequence(ids, mask, z, tok.img_token_ids(), torch.randperm(h * w))
    with torch.no_grad():
        full, _ = gen.lm(x, m, pos)
        state = gen.caption_state(ids, mask, tok.img_token_ids())
    assert torch.allclose(state, full[:, ids.shape[1] + len(tok.img_token_ids()) - 1], atol=1e-5)
