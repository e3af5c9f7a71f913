"""Module shapes per config, analytic parameter counts, and numerics of the building blocks."""
import math

import pytest
import torch
import torch.nn.functional as F

from vgt.config import get_config, param_counts
from vgt.head import timestep_embedding
from vgt.lm import rope_cos_sin
from vgt.queryar import VGT, randomize_
from vgt.vgtae import MultiscaleLinearAttention, latent_layer_norm, pixel_shuffle_half


@pytest.fixture(scope="module", params=["tiny", "shapes"])
def built(request):
    torch.manual_seed(0)
    c = get_config(request.param)
    return c, VGT(c).eval()


def test_param_counts_match_analytic(built):
    c, m = built
    pc = param_counts(c)
    assert sum(p.numel() for p in m.generator.parameters()) == pc["generator_total"]
    assert sum(p.numel() for p in m.vgt_ae.encoder.parameters()) + sum(
        p.numel() for n, p in m.vgt_ae.named_parameters() if not n.startswith(("encoder.", "decoder."))) == pc["ae.encoder"]
    assert sum(p.numel() for p in m.vgt_ae.decoder.parameters()) == pc["ae.decoder"]


def test_module_shapes(built):
    c, m = built
    H, dz, (gh, gw) = c.lm.hidden, c.d_z, c.grid
    g = m.generator
    with torch.no_grad():
        emb = g.embed_tokens(torch.tensor([[0, 1, 2]]))
        assert emb.shape == (1, 3, H)
        hidden, present = g.lm(emb, torch.ones(1, 3, dtype=torch.long), torch.arange(3).unsqueeze(0))
        assert hidden.shape == (1, 3, H)
        assert len(present) == c.lm.layers and present[0][0].shape == (1, c.lm.kv_heads, 3, c.lm.head_dim)
        assert g.adaptive_metaquery.queries(gh, gw).shape == (gh * gw, H)
        assert g.adaptive_metaquery.pos(gh, gw).shape == (gh * gw, H)
        assert g.latent_in(torch.randn(5, dz), torch.randn(5, H)).shape == (5, H)
        cond = g.head_cond(torch.randn(5, H))
        assert cond.shape == (5, c.head.width)
        assert g.head_velocity(torch.randn(5, dz), torch.rand(5), cond).shape == (5, dz)
        S = c.ae.image_size
        z = m.vgt_ae.encode(torch.rand(1, 3, S, S) * 2 - 1)
        assert z.shape == (1, dz, gh, gw)
        assert m.vgt_ae.decode(z).shape == (1, 3, S, S)
        assert c.ae.stride * gh == S


@pytest.mark.parametrize("name,total_gen,lm_layers", [
    ("internvl3_1_6b", 1_709_931_040, 28), ("qwen25vl_1_6b", 1_872_005_152, 18), ("internvl3_0_6b", 652_613_024, 24)])
def test_official_configs_analytic(name, total_gen, lm_layers):
    # Never instantiated at full size: the counts come from the analytic formulas checked above.
    c = get_config(name)
    pc = param_counts(c)
    assert c.lm.layers == lm_layers and c.d_z == 32 and c.grid == (16, 16) and c.ae.stride == 28
    assert pc["generator_total"] == total_gen
    assert 140e6 < pc["gen.head"] < 160e6  # "~150 M" in the reference notes
    assert c.ae.decoder.upsample_factor == 32


def test_latent_layer_norm_is_parameter_free():
    z = torch.randn(4, 7) * 3 + 2
    n = latent_layer_norm(z)
    assert torch.allclose(n, F.layer_norm(z, (7,), eps=1e-6), atol=1e-6)


def test_pixel_shuffle_layout():
    # channel index = dy*2C + dx*C + c over the 2x2 neighbourhood (InternVL pixel_shuffle v2)
    B, h, w, C = 1, 4, 4, 3
    x = torch.arange(B * h * w * C, dtype=torch.float32).reshape(B, h, w, C)
    y = pixel_shuffle_half(x)
    assert y.shape == (1, 2, 2, 12)
    for i in range(2):
        for j in range(2):
            for dy in range(2):
                for dx in range(2):
                    assert torch.equal(y[0, i, j, dy * 2 * C + dx * C:dy * 2 * C + dx * C + C], x[0, 2 * i + dy, 2 * j + dx])


def test_timestep_embedding_cos_first_raw_t():
    t = torch.tensor([0.0, 0.5])
    e = timestep_embedding(t, 256)
    assert torch.allclose(e[0, :128], torch.ones(128)) and torch.allclose(e[0, 128:], torch.zeros(128))
    f1 = math.exp(-math.log(10000) * 1 / 128)
    assert e[1, 1].item() == pytest.approx(math.cos(0.5 * f1), abs=1e-6)
    assert e[1, 129].item() == pytest.approx(math.sin(0.5 * f1), abs=1e-6)


def test_rope_rotate_half_layout():
    cos, sin = rope_cos_sin(torch.tensor([[3]]), 8, 10000.0, torch.float32)
    inv = 1.0 / (10000 ** (torch.arange(0, 8, 2).float() / 8))
    assert torch.allclose(cos[0, 0], torch.cat([torch.cos(3 * inv)] * 2))


def test_linear_and_quadratic_attention_agree():
    # The decoder switches on H*W > head_dim as diffusers does; both paths are the same ReLU attention.
    att = randomize_(MultiscaleLinearAttention(16, 8, (5,)), 1)
    x = torch.randn(1, 16, 4, 4, generator=torch.Generator().manual_seed(0))
    lin = att(x)
    att.linear_above = 10 ** 9
    quad = att(x)
    assert torch.allclose(lin, quad, atol=1e-5)


def test_ar_loss_trains():
    from vgt.queryar import prepare_text_batch, time_shift
    from vgt.tokenizer import default_tokenizer
    c = get_config("tiny")
    m = VGT(c)
    tok = default_tokenizer()
    g = torch.Generator().manual_seed(0)
    ids, mask = prepare_text_batch(tok, ["a red circle", "two blue squares"], cond_drop_prob=0.1, generator=g)
    z = latent_layer_norm(torch.randn(2, c.d_z, *c.grid), dim=1)
    loss = m.generator.ar_loss(ids, mask, z, tok.img_token_ids(), generator=g,
                               time_shift_fn=lambda t: time_shift(t, 1.4), diffusion_batch_mul=2)
    loss.backward()
    assert torch.isfinite(loss) and m.generator.adaptive_metaquery.max_metaquery.grad is not None
    rec, z2 = m.vgt_ae(torch.rand(2, 3, c.ae.image_size, c.ae.image_size) * 2 - 1)
    assert rec.shape == (2, 3, c.ae.image_size, c.ae.image_size) and z2.shape == z.shape


def test_caption_dropout_uses_unconditional_prompt():
    from vgt.queryar import prepare_text_batch
    from vgt.tokenizer import default_tokenizer
    tok = default_tokenizer()
    ids, mask = prepare_text_batch(tok, ["a red circle"] * 50, cond_drop_prob=1.0)
    u = tok.encode_uncond()
    assert ids[:, :len(u)].tolist() == [u] * 50 and int(mask.sum(1).max()) == len(u)


def test_time_shift_matches_reference_formula():
    from vgt.queryar import time_shift
    t = torch.tensor([0.0, 0.3, 1.0])
    u = 1 - t
    assert torch.allclose(time_shift(t, 1.4), 1 - 1.4 * u / (1 + 0.4 * u))
    assert torch.equal(time_shift(t, 1.0), t)


def test_rotate_half_matrix_is_hf_rotate_half():
    from vgt.lm import rotate_half_matrix
    x = torch.randn(2, 3, 5, 8, generator=torch.Generator().manual_seed(0))
    hf = torch.cat([-x[..., 4:], x[..., :4]], dim=-1)
    assert torch.equal(x @ rotate_half_matrix(8), hf)


def test_grouped_attention_equals_repeated_kv():
    # The LM stacks the query heads of one kv group instead of repeating K/V: same scores, same output.
    from vgt.lm import Attention, build_allowed
    c = get_config("tiny").lm
    att = randomize_(Attention(c), 3)
    g = torch.Generator().manual_seed(1)
    B, S, P, hd = 2, 3, 4, c.head_dim
    x = torch.randn(B, S, c.hidden, generator=g)
    cos, sin = rope_cos_sin(torch.arange(P, P + S).expand(B, S), hd, c.rope_theta, torch.float32)
    from vgt.lm import rotate_half_matrix, apply_rope
    rot = rotate_half_matrix(hd)
    mask = torch.ones(B, P + S, dtype=torch.long)
    mask[1, 1] = 0
    allowed = build_allowed(mask, S)
    pk = torch.randn(B, c.kv_heads, P, hd, generator=g)
    pv = torch.randn(B, c.kv_heads, P, hd, generator=g)
    out, k, v = att(x, cos, sin, rot, allowed, pk, pv)
    # the textbook form: repeat K/V per query head
    q = apply_rope(att.q_proj(x).view(B, S, c.heads, hd).transpose(1, 2), cos, sin, rot)
    rep = c.heads // c.kv_heads
    kk, vv = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
    scores = (q @ kk.transpose(-1, -2) / math.sqrt(hd)).masked_fill(~allowed, torch.finfo(torch.float32).min)
    ref = att.o_proj((scores.softmax(-1) @ vv).transpose(1, 2).reshape(B, S, -1))
    assert torch.allclose(out, ref, atol=1e-6)


def test_fused_head_velocity_equals_velocity():
    from vgt.head import SimpleMLPAdaLN
    c = get_config("tiny")
    head = randomize_(SimpleMLPAdaLN(c.head, c.d_z, c.lm.hidden), 4)
    g = torch.Generator().manual_seed(2)
    x, t = torch.randn(5, c.d_z, generator=g), torch.rand(5, generator=g)
    cond = torch.randn(5, c.head.width, generator=g)
    assert torch.allclose(head.velocity_fused(x, t, cond), head.velocity(x, t, cond), atol=1e-5)


def _loss_case():
    """A tiny generator with non-degenerate weights, two prompts and LayerNormed latents: (config, generator,
    tokenizer, ids, mask, z)."""
    from vgt.queryar import prepare_text_batch
    from vgt.tokenizer import default_tokenizer
    c = get_config("tiny")
    m = randomize_(VGT(c), 3).generator
    tok = default_tokenizer()
    ids, mask = prepare_text_batch(tok, ["a red circle", "two blue squares"])
    z = latent_layer_norm(torch.randn(2, c.d_z, *c.grid, generator=torch.Generator().manual_seed(1)), dim=1)
    return c, m, tok, ids, mask, z


def test_ctx_noise_changes_only_the_context():
    # The LM's context latents are noised and LayerNormed again; without the option they are the clean ones.
    c, m, tok, ids, mask, z = _loss_case()
    seen = {}
    real = m.build_sequence

    def spy(input_ids, text_mask, zz, img, order, group=1):
        seen["z"] = zz
        return real(input_ids, text_mask, zz, img, order, group)

    m.build_sequence = spy
    for noise in (0.0, 0.5):
        g = torch.Generator().manual_seed(0)
        order = torch.randperm(c.grid[0] * c.grid[1], generator=torch.Generator().manual_seed(2))
        loss = m.ar_loss(ids, mask, z, tok.img_token_ids(), generator=g, order=order, ctx_noise=noise)
        assert torch.isfinite(loss)
        ctx = seen["z"]
        if noise == 0.0:
            assert ctx is z
        else:
            assert not torch.allclose(ctx, z)
            assert torch.allclose(ctx.mean(1), torch.zeros_like(ctx.mean(1)), atol=1e-5)  # LayerNormed again
            assert torch.allclose(ctx.var(1, unbiased=False), torch.ones_like(ctx.mean(1)), atol=1e-3)


def test_local_window_encoder_is_local():
    """With ae.vit.local_window, a latent token does not change when pixels beyond its reach change (so it cannot
    carry a scene code); the global encoder's tokens all do. tiny: 48 px, patch 3 -> 16x16 patches -> 8x8 tokens."""
    import dataclasses

    from vgt.train.common import project, semantic_features
    from vgt.vgtae import VGTAE, local_attention_bias

    b = local_attention_bias(3, 1)
    assert b.shape == (10, 10) and b[0, 0] == 0 and (b[0, 1:] < 0).all() and (b[1:, 0] < 0).all()
    assert b[1, 2] == 0 and b[1, 5] == 0 and b[1, 3] < 0  # patch (0,0): (0,1) and (1,1) near, (0,2) not
    c = get_config("tiny").ae
    x = torch.rand(1, 3, c.vit.image_size, c.vit.image_size) * 2 - 1
    y = x.clone()
    y[..., -6:, -6:] = -x[..., -6:, -6:]  # change the bottom-right 6x6 pixels (2x2 patches, one token)
    for window, far_changes in ((1, False), (0, True)):
        torch.manual_seed(0)
        ae = VGTAE(dataclasses.replace(c, vit=dataclasses.replace(c.vit, local_window=window))).eval()
        with torch.no_grad():
            za, zb = (project(ae, semantic_features(ae, v)) for v in (x, y))
        # token (0,0) is 7 tokens = 13 patches away from the change; 2 layers x window 1 reach 2 patches
        assert (not torch.allclose(za[0, 0], zb[0, 0])) == far_changes
        assert not torch.allclose(za[0, -1], zb[0, -1])


def test_object_weights_mark_objects_and_their_rim():
    from vgt.train.ae import object_weights

    x = torch.full((1, 3, 16, 16), 0.92)  # white background
    x[..., 6:9, 6:9] = -0.5
    w = object_weights(x, 4.0, reach=2)
    assert w[0, 0, 7, 7] == 5 and w[0, 0, 4, 4] == 5 and w[0, 0, 3, 7] == 1 and w[0, 0, 0, 0] == 1


def test_scene_code_probe_finds_a_planted_code():
    """Background tokens that copy the scene's colours beat the majority baseline; noise does not."""
    from vgt.train.probes import scene_code_probe

    g = torch.Generator().manual_seed(0)
    n, d, grid = 400, 8, 8
    colours = (torch.rand(n, 3, generator=g) < 0.4).float()
    coverage = torch.zeros(n, grid * grid)
    coverage[:, 0] = 1.0  # one object cell in the corner: the far half of the grid is background
    noise = torch.randn(n, d, grid, grid, generator=g)
    planted = noise.clone()
    planted[:, :3] += 3 * (colours[:, :, None, None] - 0.5)
    clean = scene_code_probe(noise, coverage, colours)
    coded = scene_code_probe(planted, coverage, colours)
    assert clean["scenes"] == n and clean["acc"] < clean["baseline"] + 0.05
    assert coded["acc"] > coded["baseline"] + 0.2
    assert scene_code_probe(noise[:4], coverage[:4], colours[:4])["acc"] is None  # too few scenes to say


def test_cell_labels_and_first_token_match():
    from vgt.shapes.grammar import COLOR_NAMES, SHAPES
    from vgt.train.probes import cell_labels, first_token_match

    red = {"color": "red", "shape": "square", "x": 0.0, "y": 0.0, "size": 40.0}   # cells (0..2, 0..2) of 16 px
    blue = {"color": "blue", "shape": "circle", "x": 40.0, "y": 0.0, "size": 30.0}  # shares cell (0, 2) with red
    c = cell_labels([red, blue], 128, 8)
    r, b = COLOR_NAMES.index("red"), COLOR_NAMES.index("blue")
    assert c[0] == r and c[9] == r and c[3] == b and c[2] == r  # cell 2: 8 columns each, a tie goes to the first
    assert c[63] == -1 and (cell_labels([], 128, 8) == -1).all()
    s = cell_labels([red, blue], 128, 8, "shape")
    assert s[0] == SHAPES.index("square") and s[3] == SHAPES.index("circle") and s[63] == -1
    m = first_token_match(["a red circle", "a blue square", "a green circle"],
                          [torch.tensor([r, r, b]), None, torch.tensor([], dtype=torch.long)])
    assert m == {"colour_first": round(2 / 3, 3), "colour_first_n": 3}
    sq, ci = SHAPES.index("square"), SHAPES.index("circle")
    m = first_token_match(["a red circle and a blue square", "four green triangles"],
                          [torch.tensor([sq, ci, SHAPES.index("triangle")]), torch.tensor([sq])], "shape")
    assert m == {"shape_first": round(2 / 4, 3), "shape_first_n": 4}


def test_latent_groups_round_trip_and_decode_like_cells():
    """A 2x2-grouped AE encodes to 4x4 tokens of 4 cells each and decodes them as the per-cell AE decodes its 8x8."""
    import dataclasses

    from vgt.config import get_config
    from vgt.vgtae import VGTAE, group_latents, ungroup_latents

    z = torch.randn(2, 3, 8, 8)
    zg = group_latents(z, 2)
    assert zg.shape == (2, 12, 4, 4) and torch.equal(ungroup_latents(zg, 2), z)
    assert torch.equal(zg[0, 3 * 3:3 * 4, 1, 2], z[0, :, 3, 5])  # channel block (i*2+j) is cell (2r+i, 2c+j)
    c = get_config("tiny").ae
    torch.manual_seed(0)
    ae = VGTAE(c).eval()
    aeg = VGTAE(dataclasses.replace(c, latent_group=2)).eval()
    aeg.load_state_dict(ae.state_dict())
    x = torch.rand(1, 3, c.image_size, c.image_size) * 2 - 1
    with torch.no_grad():
        zc, zt = ae.encode(x), aeg.encode(x)
        assert zt.shape == (1, 4 * c.d_z, c.grid // 2, c.grid // 2) and torch.equal(ungroup_latents(zt, 2), zc)
        assert (aeg.decode(zt) - ae.decode(zc)).abs().max() < 1e-4  # only the LayerNorm again, its eps
    assert (aeg.c.latent_dim, aeg.c.latent_grid, aeg.c.token_stride) == (4 * c.d_z, c.grid // 2, 2 * c.stride)


def test_ar_loss_token_weight():
    """Uniform token weights give the plain loss; weight on one token moves the loss toward that token's own."""
    c, m, tok, ids, mask, z = _loss_case()

    def loss(weight):
        g = torch.Generator().manual_seed(0)
        return m.ar_loss(ids, mask, z, tok.img_token_ids(), generator=g, diffusion_batch_mul=2, token_weight=weight)

    plain = loss(None)
    assert torch.allclose(loss(torch.full((2, *c.grid), 3.0)), plain, atol=1e-6)
    one = torch.zeros(2, *c.grid)
    one[1, 2, 3] = 1.0
    other = torch.ones(2, *c.grid)
    other[1, 2, 3] = 0.0
    # the weighted mean over all tokens = the mix of the one token's loss and the rest's
    n = one.numel()
    assert torch.allclose(plain, (loss(one) + (n - 1) * loss(other)) / n, atol=1e-5)


def test_2d_rope_turns_each_axis_on_its_own_frequencies():
    """2-D RoPE: a token at (p, p) turns exactly as 1-D RoPE at p; moving along one coordinate turns only the
    frequency pairs of that axis (even pairs: rows, odd pairs: columns)."""
    from vgt.lm import rope_cos_sin
    hd, theta = 16, 1e4
    p = torch.tensor([[0, 3, 7, 12]])
    c1, s1 = rope_cos_sin(p, hd, theta, torch.float32)
    c2, s2 = rope_cos_sin(torch.stack([p, p], -1), hd, theta, torch.float32)
    assert torch.equal(c1, c2) and torch.equal(s1, s2)
    a, _ = rope_cos_sin(torch.tensor([[[5, 2]]]), hd, theta, torch.float32)
    row, _ = rope_cos_sin(torch.tensor([[[6, 2]]]), hd, theta, torch.float32)
    col, _ = rope_cos_sin(torch.tensor([[[5, 3]]]), hd, theta, torch.float32)
    moved_row = (row != a)[0, 0, :hd // 2].nonzero().flatten().tolist()
    moved_col = (col != a)[0, 0, :hd // 2].nonzero().flatten().tolist()
    assert moved_row == list(range(0, hd // 2, 2)) and moved_col == list(range(1, hd // 2, 2))
