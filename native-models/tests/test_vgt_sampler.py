"""KV cache vs recompute, the reference's k > 1 layout, padding choice, CFG schedules, group sizes."""
import pytest
import torch

from vgt.checkpoint import seeded_model
from vgt.queryar import pad_rows
from vgt.sampler import (SampleSettings, TorchFns, cfg_for_group, group_sizes, make_order, sample_latents, sde_timesteps)
from vgt.tokenizer import default_tokenizer


@pytest.fixture(scope="module")
def tiny():
    return seeded_model("tiny", 0)


@pytest.fixture(scope="module")
def tok():
    return default_tokenizer()


def test_kv_cache_decode_equals_full_recompute(tiny):
    lm = tiny.generator.lm
    H = tiny.c.lm.hidden
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 11, H, generator=g)
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 3:5] = 0  # right-padded text of the shorter row, in the middle of the sequence
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    with torch.no_grad():
        full, _ = lm(x, mask, pos)
        past, outs = None, []
        for a, b in ((0, 6), (6, 7), (7, 11)):  # prefill, one token, then a chunk
            h, past = lm(x[:, a:b], mask[:, :b], pos[:, a:b], past)
            outs.append(h)
    inc = torch.cat(outs, 1)
    keep = mask.bool()
    assert torch.allclose(inc[keep], full[keep], atol=1e-5)


def test_padding_is_masked_in_every_step(tiny):
    # Our choice (BUNDLE.md): a row's outputs do not depend on another row's length or on pad contents.
    lm = tiny.generator.lm
    H = tiny.c.lm.hidden
    g = torch.Generator().manual_seed(1)
    a = torch.randn(1, 5, H, generator=g)
    tail = torch.randn(1, 4, H, generator=g)
    with torch.no_grad():
        alone, past = lm(a, torch.ones(1, 5, dtype=torch.long), torch.arange(5).unsqueeze(0))
        alone2, _ = lm(tail, torch.ones(1, 9, dtype=torch.long), torch.arange(5, 9).unsqueeze(0), past)
        # same row padded to 8 (3 pads of garbage) next to a longer row
        xb = torch.cat([torch.cat([a, torch.randn(1, 3, H, generator=g) * 50], 1), torch.randn(1, 8, H, generator=g)])
        mb = torch.tensor([[1] * 5 + [0] * 3, [1] * 8])
        pb = (mb.cumsum(1) - 1).clamp(min=0)
        hb, past_b = lm(xb, mb, pb)
        m2 = torch.cat([mb, torch.ones(2, 4, dtype=torch.long)], 1)
        p2 = (m2.cumsum(1) - 1)[:, -4:]
        hb2, _ = lm(torch.cat([tail, torch.randn(1, 4, H, generator=g)]), m2, p2, past_b)
    assert torch.allclose(hb[0, :5], alone[0], atol=1e-5)
    assert torch.allclose(hb2[0], alone2[0], atol=1e-5)


def test_group_sizes_uniform_with_remainder_first():
    assert group_sizes(64, 1) == [1] * 64
    assert group_sizes(64, 4) == [4] * 16
    assert group_sizes(256, 3) == [4] + [3] * 84
    assert group_sizes(10, 4) == [5, 5]
    assert group_sizes(3, 16) == [3]


def test_coarse_order_puts_the_stride_2_lattice_first():
    o = make_order(64, "coarse", 3, 8)
    assert sorted(o.tolist()) == list(range(64))
    lattice = {r * 8 + c for r in range(0, 8, 2) for c in range(0, 8, 2)}
    assert set(o[:16].tolist()) == lattice
    assert torch.equal(o, make_order(64, "coarse", 3, 8)) and not torch.equal(o, make_order(64, "coarse", 4, 8))
    assert not torch.equal(o[:16], torch.tensor(sorted(lattice)))  # random within the lattice
    with pytest.raises(ValueError):
        make_order(64, "spiral", 0)


def test_cfg_schedules():
    assert cfg_for_group(4.5, "linear", 0, 8) == 4.5
    assert cfg_for_group(4.5, "linear", 1, 8) == pytest.approx(1 + 3.5 * 7 / 8)
    assert cfg_for_group(4.5, "linear", 7, 8) == pytest.approx(1 + 3.5 / 8)
    assert all(cfg_for_group(4.5, "constant", g, 8) == 4.5 for g in range(8))
    with pytest.raises(ValueError):
        cfg_for_group(4.5, "cosine", 1, 8)


def test_time_grid():
    ts = sde_timesteps(4)
    assert torch.allclose(ts, torch.tensor([0.0, 0.32, 0.64, 0.96]))


class Recorder(TorchFns):
    def __init__(self, model):
        super().__init__(model)
        self.calls = []

    def lm_step(self, embeds, mask, pos, past):
        self.calls.append((embeds.clone(), mask.clone(), pos.clone()))
        return super().lm_step(embeds, mask, pos, past)


@pytest.mark.parametrize("k", [1, 4])
def test_group_layout_matches_reference(tiny, tok, k):
    """Prefill [text|pads|<img>|q(g0)]; k=1 steps feed [Ein(z_prev)+pos, q]; k>1 steps feed
    interleave(q_prev, Ein(z_prev)+pos) then the k new queries; positions contiguous per row."""
    fns = Recorder(tiny.generator)
    trace = []
    settings = SampleSettings(steps=2, cfg=3.0, tokens_per_step=k)
    sample_latents(tiny.generator, tok, ["a red circle left of a blue square"], settings, seed=0, order_seed=3,
                   fns=fns, trace=lambda kind, d: trace.append((kind, d)))
    setup = trace[0][1]
    groups = [d for kind, d in trace[1:]]
    Q, P = fns.tables(*tiny.c.grid)
    ids, tmask = setup["ids"], setup["text_mask"]
    lens = tmask.sum(1)
    assert lens[0] > lens[1]  # the unconditional row is shorter, hence padded
    emb0, mask0, pos0 = fns.calls[0]
    T = ids.shape[1]
    assert emb0.shape[1] == T + 1 + k
    assert torch.equal(mask0[:, :T], tmask) and bool(mask0[:, T:].all())
    for r in range(2):
        assert pos0[r, T].item() == lens[r].item()  # <img> right after the real text
        assert torch.equal(emb0[r, T + 1:], Q[groups[0]["tokens"]])
    last = pos0[:, -1]
    for g in range(1, len(groups)):
        emb, mask, pos = fns.calls[g]
        prev, cur = groups[g - 1]["tokens"], groups[g]["tokens"]
        zin = tiny.generator.latent_in(groups[g - 1]["z"][0], P[prev])
        if k == 1:
            expect = torch.cat([zin, Q[cur]])
        else:
            expect = torch.cat([torch.stack([Q[prev], zin], 1).reshape(-1, zin.shape[1]), Q[cur]])
        assert emb.shape[1] == (2 * len(prev) if k > 1 else 1) + len(cur)
        for r in range(2):
            assert torch.allclose(emb[r], expect, atol=1e-6)
            assert torch.equal(pos[r], last[r] + 1 + torch.arange(emb.shape[1]))
        assert mask.shape[1] == fns.calls[g - 1][1].shape[1] + emb.shape[1]
        assert torch.equal(mask[:, :T], tmask)  # pads stay masked in every step
        last = pos[:, -1]


@pytest.fixture(params=["sequence", "grid", "grid2d"])
def positions(request, tiny):
    before = tiny.generator.c.image_positions
    tiny.generator.c.image_positions = request.param
    yield request.param
    tiny.generator.c.image_positions = before


def test_k1_sampling_equals_teacher_forced_training_layout(tiny, tok, positions):
    """At k = 1 the cached sampler sees exactly the training sequence: hidden states at the queries match a
    full forward of [text | <img> | q, z, q, z, ...] built by build_sequence (the ar_loss layout), with either
    position scheme."""
    trace = []
    settings = SampleSettings(steps=2, cfg=1.0, tokens_per_step=1)  # cfg 1: conditional row only, no padding
    z = sample_latents(tiny.generator, tok, ["two green triangles"], settings, seed=1, order_seed=2,
                       trace=lambda kind, d: trace.append((kind, d)))
    setup, groups = trace[0][1], [d for kind, d in trace[1:]]
    with torch.no_grad():
        x, mask, pos, read = tiny.generator.build_sequence(setup["ids"], setup["text_mask"], z,
                                                           tok.img_token_ids(), setup["order"])
        hidden, _ = tiny.generator.lm(x, mask, pos)
    assert torch.equal(read - read[0], torch.arange(0, 2 * len(read), 2))
    hq = hidden[0, read]
    got = torch.stack([g["hidden"][0, 0] for g in groups])
    assert torch.allclose(got, hq, atol=1e-4)


@pytest.mark.parametrize("k", [2, 4, 5])
def test_parallel_training_layout_equals_sampling_at_k(tiny, tok, positions, k):
    """build_sequence(group=k) is the sequence the cached sampler builds at k tokens per step (the probe queries of
    every group stay in the context): one full forward gives the hidden state at every query the sampler read,
    whether k divides the grid's 64 cells or not (k = 5: groups of 6 and 5)."""
    trace = []
    settings = SampleSettings(steps=2, cfg=1.0, tokens_per_step=k)
    z = sample_latents(tiny.generator, tok, ["two green triangles"], settings, seed=1, order_seed=2,
                       trace=lambda kind, d: trace.append((kind, d)))
    setup, groups = trace[0][1], [d for kind, d in trace[1:]]
    with torch.no_grad():
        x, mask, pos, read = tiny.generator.build_sequence(setup["ids"], setup["text_mask"], z,
                                                           tok.img_token_ids(), setup["order"], group=k)
        hidden, _ = tiny.generator.lm(x, mask, pos)
    N = z.shape[2] * z.shape[3]
    assert len(read) == N and x.shape[1] - read[0] == 3 * N - 2 * len(groups[-1]["tokens"])
    got = torch.cat([g["hidden"][0] for g in groups])
    assert torch.allclose(got, hidden[0, read], atol=1e-4)


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("scheme", ["grid", "grid2d"])
def test_grid_positions_name_the_cell(tiny, tok, k, scheme):
    """With image_positions = "grid" every image item (query or latent) of every step sits at (real tokens before
    the image) + its cell, in each row of the CFG batch, whatever the order and tokens per step; with "grid2d" at
    that base + (row, column), and text tokens at (p, p)."""
    tiny.generator.c.image_positions = scheme
    try:
        fns = Recorder(tiny.generator)
        trace = []
        sample_latents(tiny.generator, tok, ["a red circle left of a blue square"],
                       SampleSettings(steps=2, cfg=3.0, tokens_per_step=k), seed=0, order_seed=3, fns=fns,
                       trace=lambda kind, d: trace.append((kind, d)))
    finally:
        tiny.generator.c.image_positions = "sequence"
    setup, groups = trace[0][1], [d for kind, d in trace[1:]]
    base = setup["text_mask"].sum(1) + len(tok.img_token_ids())
    T = setup["ids"].shape[1]
    w = tiny.generator.c.grid[1]
    for g, (emb, mask, pos) in enumerate(fns.calls):
        cur = groups[g]["tokens"]
        if g == 0:
            cells = cur
            if scheme == "grid2d":
                assert torch.equal(pos[:, :T + 1, 0], pos[:, :T + 1, 1])  # text and <img>: (p, p)
                pos0 = pos[:, :T + 1, 0]
            else:
                pos0 = pos[:, :T + 1]
            assert torch.equal(pos0[:, T], base - 1)  # <img> keeps its sequence position
            pos = pos[:, T + 1:]
        else:
            prev = groups[g - 1]["tokens"]
            cells = torch.cat([torch.stack([prev, prev], 1).reshape(-1) if k > 1 else prev, cur])
        if scheme == "grid2d":
            want = torch.stack([cells // w, cells % w], -1)
            assert torch.equal(pos, base[:, None, None] + want[None])
        else:
            assert torch.equal(pos, base[:, None] + cells[None, :])


def test_sampler_is_deterministic_and_batch_invariant(tiny, tok):
    s = SampleSettings(steps=3, cfg=3.0, tokens_per_step=4)
    z1 = sample_latents(tiny.generator, tok, ["a red circle"], s, seed=5, order_seed=6)
    z2 = sample_latents(tiny.generator, tok, ["a red circle"], s, seed=5, order_seed=6)
    assert torch.equal(z1, z2)
    assert z1.shape == (1, tiny.c.d_z, *tiny.c.grid)
    # per-token LayerNorm after sampling
    flat = z1[0].reshape(tiny.c.d_z, -1)
    assert torch.allclose(flat.mean(0), torch.zeros(flat.shape[1]), atol=1e-5)


def test_pad_rows():
    ids, mask = pad_rows([[5, 6, 7], [8]], 3)
    assert ids.tolist() == [[5, 6, 7], [8, 3, 3]] and mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_negative_prompt_replaces_the_unconditional_row(tiny, tok):
    # None or blank: the unconditional prompt, as without negatives; a prompt: that prompt in the template, exactly as
    # if the model's unconditional prompt were it
    s = SampleSettings(steps=3, cfg=3.0, tokens_per_step=2)
    prompts = ["a red circle and a blue square", "a red circle"]
    base = sample_latents(tiny.generator, tok, prompts, s, seed=5, order_seed=6)
    same = sample_latents(tiny.generator, tok, prompts, s, seed=5, order_seed=6, negatives=[None, " "])
    assert torch.equal(base, same)
    neg = sample_latents(tiny.generator, tok, prompts, s, seed=5, order_seed=6,
                         negatives=["a red square and a blue circle", None])
    assert not torch.allclose(neg[0], base[0]) and torch.allclose(neg[1], base[1], atol=1e-5)

    class Swapped:  # the tokenizer whose unconditional prompt is the negative one
        def __getattr__(self, name):
            return getattr(tok, name)

        def encode_uncond(self):
            return tok.encode_prompt("a red square and a blue circle")

    one = sample_latents(tiny.generator, tok, prompts[:1], s, seed=5, order_seed=6,
                         negatives=["a red square and a blue circle"])
    alt = sample_latents(tiny.generator, Swapped(), prompts[:1], s, seed=5, order_seed=6)
    assert torch.equal(alt, one)


def test_negatives_must_match_the_prompts(tiny, tok):
    with pytest.raises(ValueError, match="2 negative prompts for 1 prompts"):
        sample_latents(tiny.generator, tok, ["a red circle"], SampleSettings(steps=2, cfg=3.0), negatives=[None, None])
