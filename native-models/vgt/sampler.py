"""The VGT sampler (reference `generate()` + flow head `sample()`), written against five pure functions
(embed, lm_step, latent_in, head_cond, head_velocity) so that it is exactly what the bundle graphs compute.

Per image: rows = [cond, uncond] (uncond only when cfg > 1), right-padded into one batch.
- order: random permutation (or raster, or "coarse": the even-row/even-column cells first in random order, then
  the rest in random order) of the h*w tokens, cut into G = max(1, N // k) groups of uniform
  size, the remainder spread over the first groups;
- prefill: [text | pads | <img> | q(group 0)];
- step g >= 1: k == 1: [Ein(z_prev)+pos, q(group g)]; k > 1: [q_a, Ein(z_a)+pos_a, ... for the previous
  group, then q(group g)] (the previous "probe" queries stay in the cache, as the reference);
- attention_mask always covers past + new with 0 at pads; position_ids = cumsum(mask) - 1 per row
  (pad_mask "always", ours: pads stay masked in every step; "prefill": masked in the prefill only, all
  ones afterwards, as the reference, which passes no mask after the prefill; positions are the same); with
  `image_positions = "grid"` an image item's position is (real tokens before the image) + its cell instead, and
  with "grid2d" (2-D RoPE) that base + (row, column), text at (p, p);
- per group: Euler-Maruyama SDE on linspace(0, 0.96, steps) then a final 0.04 ODE step, CFG on velocity,
  then per-token LayerNorm of the sampled latents.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch

from .queryar import QueryAR, group_sizes, image_position_ids, pad_rows, text_position_ids
from .vgtae import latent_layer_norm

LAST_STEP = 0.04
PAD_MASKS = ("always", "prefill")


@dataclass
class SampleSettings:
    steps: int = 30
    cfg: float = 4.5
    cfg_schedule: str = "linear"
    tokens_per_step: int = 1
    order: str = "random"
    latent_ln: bool = True  # False only for generators trained on raw stage-1 latents (Table-5 arm)
    pad_mask: Optional[str] = None  # "always" or "prefill"; None: the model config's (BUNDLE.md "Padding")


ORDERS = ("random", "raster", "coarse")
CFG_SCHEDULES = ("linear", "constant")


def make_order(n: int, order: str, order_seed: int, width: Optional[int] = None) -> torch.Tensor:
    """The generation order of n = h * w cells. "coarse" (width = w) puts the stride-2 lattice first, so the first
    quarter of the decisions is a spread-out layout (an object of about 2 x 2 cells meets about one lattice cell)."""
    if order == "raster":
        return torch.arange(n)
    g = torch.Generator().manual_seed(order_seed)
    if order == "random":
        return torch.randperm(n, generator=g)
    if order != "coarse":
        raise ValueError(f"unknown order {order!r}")
    w = width or int(round(n ** 0.5))
    cells = torch.arange(n)
    on = ((cells // w) % 2 == 0) & ((cells % w) % 2 == 0)
    first, rest = cells[on], cells[~on]
    return torch.cat([first[torch.randperm(len(first), generator=g)], rest[torch.randperm(len(rest), generator=g)]])


def cfg_for_group(cfg: float, schedule: str, g: int, G: int) -> float:
    """linear: cfg for group 0, then 1 + (cfg-1)(G-g)/G (decreasing, as the reference)."""
    if schedule == "constant" or g == 0:
        return float(cfg)
    if schedule == "linear":
        return 1.0 + (cfg - 1.0) * (G - g) / G
    raise ValueError(f"unknown cfg schedule {schedule!r}; one of {CFG_SCHEDULES}")


def sde_timesteps(steps: int) -> torch.Tensor:
    return torch.linspace(0.0, 1.0 - LAST_STEP, steps)


class TorchNoise:
    """Default noise: one generator seeded by `seed`; initial noise then each SDE step's noise."""

    def __init__(self, seed: int):
        self.g = torch.Generator().manual_seed(seed)

    def initial(self, group: int, shape) -> torch.Tensor:
        return torch.randn(shape, generator=self.g)

    def sde(self, group: int, step: int, shape) -> torch.Tensor:
        return torch.randn(shape, generator=self.g)


class TorchFns:
    """The five functions, from a QueryAR module (the bundle graphs compute the same)."""

    def __init__(self, model: QueryAR):
        self.m = model

    def tables(self, h, w):
        return self.m.adaptive_metaquery.queries(h, w), self.m.adaptive_metaquery.pos(h, w)

    def embed(self, ids):
        return self.m.embed_tokens(ids)

    def lm_step(self, embeds, mask, pos, past):
        return self.m.lm(embeds, mask, pos, past)

    def latent_in(self, z, pos):
        return self.m.latent_in(z, pos)

    def head_cond(self, h):
        return self.m.head_cond(h)

    def head_velocity(self, x, t, c):
        return self.m.head_velocity(x, t, c)


@torch.no_grad()
def sample_latents(model: QueryAR, tokenizer, prompts: Sequence[str], settings: SampleSettings, seed: int = 0,
                   order_seed: int = 0, noise=None, order: Optional[torch.Tensor] = None,
                   trace: Optional[Callable[[str, Dict], None]] = None, fns=None,
                   on_group: Optional[Callable[[int, int], None]] = None,
                   negatives: Optional[Sequence[Optional[str]]] = None) -> torch.Tensor:
    """Returns latents [B, d_z, h, w] (per-token LayerNormed). `trace(kind, data)` receives every
    intermediate (for the goldens). `negatives[i]` (None: the unconditional prompt) replaces prompt i's
    unconditional CFG row with that prompt in the template, as the engine's negative prompt does."""
    c = model.c
    fns = fns or TorchFns(model)
    noise = noise or TorchNoise(seed)
    h, w = c.grid
    N, dz, H = h * w, c.d_z, c.lm.hidden
    B = len(prompts)
    use_cfg = settings.cfg > 1.0
    pad_mask = settings.pad_mask or getattr(c, "pad_mask", "always")
    if pad_mask not in PAD_MASKS:
        raise ValueError(f"unknown pad_mask {pad_mask!r} ({' or '.join(PAD_MASKS)})")
    rows = [tokenizer.encode_prompt(p) for p in prompts]
    if use_cfg:
        negatives = negatives or [None] * B
        if len(negatives) != B:
            raise ValueError(f"{len(negatives)} negative prompts for {B} prompts")
        rows += [tokenizer.encode_prompt(n) if n and n.strip() else tokenizer.encode_uncond() for n in negatives]
    R = len(rows)
    ids, text_mask = pad_rows(rows, tokenizer.pad_id)
    img_ids = torch.tensor(tokenizer.img_token_ids(), dtype=torch.long).unsqueeze(0).expand(R, -1)
    if order is None:
        order = make_order(N, settings.order, order_seed, w)
    sizes = group_sizes(N, settings.tokens_per_step)
    G = len(sizes)
    starts = [sum(sizes[:g]) for g in range(G)]
    refeed = settings.tokens_per_step > 1
    Q, P = fns.tables(h, w)
    ts = sde_timesteps(settings.steps)
    if trace:
        trace("setup", {"ids": ids, "text_mask": text_mask, "img_ids": img_ids[0], "order": order,
                        "sizes": sizes, "ts": ts})

    latents = torch.zeros(B, N, dz)
    n_before = text_mask.sum(1) + img_ids.shape[1]  # real tokens before the image part, per row
    n_items = 0
    mask = None
    past = None
    prev_tok = prev_zin = None
    for g in range(G):
        tok = order[starts[g]:starts[g] + sizes[g]]
        k = len(tok)
        q_new = Q[tok].unsqueeze(0).expand(R, -1, -1)
        if g == 0:
            embeds = torch.cat([fns.embed(ids), fns.embed(img_ids), q_new], dim=1)
            mask = torch.cat([text_mask, torch.ones(R, img_ids.shape[1] + k, dtype=torch.long)], dim=1)
        else:
            if refeed:
                q_prev = Q[prev_tok].unsqueeze(0).expand(R, -1, -1)
                pair = torch.stack([q_prev, prev_zin], dim=2).reshape(R, 2 * len(prev_tok), H)
            else:
                pair = prev_zin
            embeds = torch.cat([pair, q_new], dim=1)
            mask = torch.cat([mask, torch.ones(R, embeds.shape[1], dtype=torch.long)], dim=1)
        S = embeds.shape[1]
        if g == 0:
            items = tok
        elif refeed:
            items = torch.cat([torch.stack([prev_tok, prev_tok], 1).reshape(-1), tok])
        else:
            items = torch.cat([prev_tok, tok])
        img_pos = image_position_ids(n_before, items, torch.arange(len(items)) + n_items, c.image_positions, w)
        n_items += len(items)
        pos_ids = img_pos if g > 0 else torch.cat([text_position_ids(mask, c.image_positions)[:, :S - k], img_pos], 1)
        lm_mask = mask if g == 0 or pad_mask == "always" else torch.ones_like(mask)
        hidden, past = fns.lm_step(embeds, lm_mask, pos_ids, past)
        hq = hidden[:, -k:]  # [R,k,H]
        cond = fns.head_cond(hq.reshape(R * k, H))
        cfg_g = cfg_for_group(settings.cfg, settings.cfg_schedule, g, G) if use_cfg else 1.0
        x = noise.initial(g, (B * k, dz))
        x0 = x.clone()
        vel, sde_noise = [], []

        def velocity(x, t):
            xx = torch.cat([x, x], 0) if use_cfg else x
            v = fns.head_velocity(xx, torch.full((xx.shape[0],), float(t)), cond)
            if use_cfg:
                vc, vu = v[:B * k], v[B * k:]
                v = vu + cfg_g * (vc - vu)
            vel.append(v)
            return v

        for i in range(settings.steps - 1):
            t, dt = ts[i], ts[i + 1] - ts[i]
            v = velocity(x, t)
            eps = noise.sde(g, i, (B * k, dz))
            sde_noise.append(eps)
            x = x + ((1 + t) * v - x) * dt + torch.sqrt(2 * (1 - t)) * torch.sqrt(dt) * eps
        v = velocity(x, ts[-1])
        x = x + LAST_STEP * v
        z = latent_layer_norm(x) if settings.latent_ln else x  # [B*k, dz]
        zb = z.reshape(B, k, dz)
        latents[:, tok] = zb
        prev_tok = tok
        prev_zin = fns.latent_in(z.reshape(B * k, dz), P[tok].repeat(B, 1)).reshape(B, k, H)
        prev_zin = torch.cat([prev_zin, prev_zin], 0) if use_cfg else prev_zin
        if trace:
            trace("group", {"g": g, "tokens": tok, "embeds_len": S, "position_ids": pos_ids, "hidden": hq,
                            "cfg": cfg_g, "x0": x0, "sde_noise": sde_noise, "velocities": vel, "z": zb,
                            "cond": cond})
        if on_group:
            on_group(g, G)
    return latents.transpose(1, 2).reshape(B, dz, h, w)


@torch.no_grad()
def generate_images(model: QueryAR, ae, tokenizer, prompts, settings: SampleSettings, seed=0, order_seed=0, **kw):
    z = sample_latents(model, tokenizer, prompts, settings, seed=seed, order_seed=order_seed, **kw)
    return ae.decode(z), z


def to_uint8(img: torch.Tensor) -> torch.Tensor:
    """[-1,1] -> uint8 as the reference demo: clamp(127.5 x + 128)."""
    return torch.clamp(127.5 * img + 128.0, 0, 255).to(torch.uint8)
