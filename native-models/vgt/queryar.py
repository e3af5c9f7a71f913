"""QueryAR generator: Qwen2-style LM + position queries + projectors + flow head, and the training loss.

Sequence layout (reference, acc_ratio 1 during training):
  [text (right-padded) | <img> | q_pi1, z_pi1, q_pi2, z_pi2, ...]
with q_i = metaquery_i + pos_i, z-token_i = image_in_projector(z_i) + pos_i, a causal + padding mask and
position_ids = cumsum(mask) - 1. The loss is flow matching on the hidden state at every q.
"""
from __future__ import annotations

import math
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import VGTConfig
from .head import SimpleMLPAdaLN
from .lm import QwenLM
from .vgtae import VGTAE, latent_layer_norm


class PosEncoding(nn.Module):
    def __init__(self, H: int, gh: int, gw: int):
        super().__init__()
        self.grid_embed = nn.Parameter(torch.empty(1, H, gh, gw))
        nn.init.trunc_normal_(self.grid_embed, std=0.02)


class AdaptiveMetaQuery(nn.Module):
    """Two learnable [1,H,64,64] tables, centre-cropped to the latent grid and flattened row-major."""

    def __init__(self, H: int, max_grid: Tuple[int, int]):
        super().__init__()
        gh, gw = max_grid
        self.max_metaquery = nn.Parameter(torch.randn(1, H, gh, gw) / math.sqrt(H))
        self.pos_encoding = PosEncoding(H, gh, gw)

    @staticmethod
    def _crop(t: torch.Tensor, h: int, w: int) -> torch.Tensor:
        gh, gw = t.shape[2], t.shape[3]
        if h > gh or w > gw:
            raise ValueError(f"grid {h}x{w} exceeds the {gh}x{gw} query tables")
        r0, c0 = (gh - h) // 2, (gw - w) // 2
        return t[0, :, r0:r0 + h, c0:c0 + w].reshape(t.shape[1], h * w).t()  # [h*w, H]

    def pos(self, h: int, w: int) -> torch.Tensor:
        return self._crop(self.pos_encoding.grid_embed, h, w)

    def queries(self, h: int, w: int) -> torch.Tensor:
        return self._crop(self.max_metaquery, h, w) + self.pos(h, w)


def time_shift(t: torch.Tensor, shift: float) -> torch.Tensor:
    """Reference `time_shift_fn_rae`: the noise level u = 1 - t is shifted, u' = s u / (1 + (s-1) u)."""
    if shift is None or shift == 1.0:
        return t
    u = 1 - t
    return 1 - shift * u / (1 + (shift - 1) * u)


class QueryAR(nn.Module):
    def __init__(self, c: VGTConfig):
        super().__init__()
        self.c = c
        H = c.lm.hidden
        self.lm = QwenLM(c.lm)
        self.adaptive_metaquery = AdaptiveMetaQuery(H, c.max_grid)
        self.image_in_projector = nn.Linear(c.d_z, H)
        self.image_out_projector = nn.Linear(H, H)
        self.image_head = nn.Module()
        self.image_head.net = SimpleMLPAdaLN(c.head, c.d_z, H)

    @property
    def head(self) -> SimpleMLPAdaLN:
        return self.image_head.net

    # --- pieces the sampler and the bundle graphs use
    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lm.embed_tokens(ids)

    def latent_in(self, z: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return self.image_in_projector(z) + pos

    def head_cond(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head.cond(self.image_out_projector(hidden))

    def head_velocity(self, x, t, cond):
        return self.head.velocity(x, t, cond)

    # --- training
    def build_sequence(self, input_ids, text_mask, z, img_token_ids, order, group: int = 1):
        """Teacher-forced sequence -> (embeds, mask, position_ids, index of each position query whose hidden state
        conditions the head, in generation order [N]).
        group 1: [text | <img> | q_o1, z_o1, q_o2, z_o2, ...], as the reference trains.
        group k > 1: the layout of partial-parallel sampling with k tokens per step (the sampler's groups): the k
        queries of a group, then, before the next group's queries, the same k queries again interleaved with their
        latents. The first k queries are the ones read; their copies and the earlier groups' stay in the context,
        as in the sampler's KV cache, so the model learns the context it meets at k > 1."""
        B, dz, h, w = z.shape
        N, H, dev = h * w, self.c.lm.hidden, z.device
        order = order.to(dev)
        text, mask_text = self._text_part(input_ids, text_mask, img_token_ids)
        zt = z.flatten(2).transpose(1, 2)[:, order]  # [B,N,dz] in generation order
        q = self.adaptive_metaquery.queries(h, w)[order]
        pos = self.adaptive_metaquery.pos(h, w)[order]
        zin = self.latent_in(zt, pos)
        if group <= 1:
            img = torch.stack([q.unsqueeze(0).expand(B, -1, -1), zin], dim=2).reshape(B, 2 * N, H)
            slot = torch.arange(N, device=dev).unsqueeze(1).expand(N, 2).reshape(2 * N)  # item -> place in order
            read = torch.arange(0, 2 * N, 2, device=dev)
        else:
            slots, is_z, read, start = [], [], [], 0
            for g, size in enumerate(group_sizes(N, group)):
                if g:  # the previous group again, query then latent per token
                    for j in range(start - prev, start):
                        slots += [j, j]
                        is_z += [False, True]
                read += range(len(slots), len(slots) + size)
                slots += range(start, start + size)
                is_z += [False] * size
                prev, start = size, start + size
            slot = torch.tensor(slots, device=dev)
            read = torch.tensor(read, device=dev)
            is_z = torch.tensor(is_z, device=dev).view(1, -1, 1)
            img = torch.where(is_z, zin[:, slot], q[slot].unsqueeze(0).expand(B, -1, -1))
        n_img = img.shape[1]
        x = torch.cat([text, img], dim=1)
        mask = torch.cat([mask_text, torch.ones(B, n_img, dtype=torch.long, device=dev)], dim=1)
        text_pos = text_position_ids(mask_text, self.c.image_positions)
        img_pos = image_position_ids(mask_text.sum(1), order[slot], torch.arange(n_img, device=dev),
                                     self.c.image_positions, w)
        return x, mask, torch.cat([text_pos, img_pos], dim=1), text.shape[1] + read

    def _text_part(self, input_ids, text_mask, img_token_ids):
        """Embeddings [B, T + I, H] and mask of the prompt followed by the <img> marker."""
        B = input_ids.shape[0]
        img_ids = torch.tensor(list(img_token_ids), device=input_ids.device).unsqueeze(0).expand(B, -1)
        text = self.embed_tokens(torch.cat([input_ids, img_ids], dim=1))
        return text, torch.cat([text_mask.long(), torch.ones_like(img_ids)], dim=1)

    def caption_state(self, input_ids, text_mask, img_token_ids):
        """The LM's last hidden state at the <img> marker, before any image token: what it made of the prompt [B, H]."""
        text, mask = self._text_part(input_ids, text_mask, img_token_ids)
        hidden, _ = self.lm(text, mask, text_position_ids(mask, self.c.image_positions))
        return hidden[:, -1]

    def query_cond(self, input_ids, text_mask, z_ctx, img_token_ids, order, group: int = 1):
        """Teacher-forced pass with z_ctx as the fed-back latents: the flow head's condition at each position query,
        [B, N, C] in generation order (training and `evaluate context` share it); `group` as build_sequence."""
        x, mask, pos_ids, read = self.build_sequence(input_ids, text_mask, z_ctx, img_token_ids, order, group)
        hidden, _ = self.lm(x, mask, pos_ids)
        return self.head_cond(hidden[:, read])

    def ar_loss(self, input_ids: torch.Tensor, text_mask: torch.Tensor, z: torch.Tensor, img_token_ids: Sequence[int],
                generator: Optional[torch.Generator] = None, time_shift_fn: Optional[Callable] = None,
                t_sampler: str = "logit_normal", diffusion_batch_mul: int = 1, order: Optional[torch.Tensor] = None,
                ctx_noise: float = 0.0, token_weight: Optional[torch.Tensor] = None, group: int = 1,
                return_cond: bool = False):
        """Flow-matching loss on a random-order sequence (return_cond: also the flow head's conditions
        [B, N, C] in generation order, and that order).

        input_ids [B,T] right-padded text ids (captions already dropped to the unconditional prompt where
        wanted, see `prepare_text_batch`), text_mask [B,T] (1 = real token), z [B,d_z,h,w] latents (already
        per-token LayerNormed, as VGTAE.encode returns them). One random permutation per batch as the
        reference. time_shift_fn maps t (t=1 data) to the shifted t; default `time_shift(t, 1.0)`.
        ctx_noise > 0 (our experiment, not the paper's): the latents fed back as context get Gaussian noise of a
        per-sequence level drawn from U[0, ctx_noise], then the per-token LayerNorm the sampler applies; the targets
        stay clean. It trains the LM on imperfect context, as sampling gives it.
        token_weight [B,h,w] (our experiment): the loss is the weighted mean over tokens instead of the plain mean.
        group k > 1 (our experiment): the sequence has the layout of sampling k tokens per step (build_sequence).
        """
        B, dz, h, w = z.shape
        N = h * w
        if order is None:
            order = torch.randperm(N, generator=generator)
        z_ctx = z
        if ctx_noise > 0:
            level = ctx_noise * torch.rand(B, 1, 1, 1, generator=generator).to(z.device)
            z_ctx = noised_context(z, level, torch.randn(z.shape, generator=generator).to(z.device))
        zt = z.flatten(2).transpose(1, 2)[:, order.to(z.device)]
        cond = self.query_cond(input_ids, text_mask, z_ctx, img_token_ids, order, group).reshape(B * N, -1)
        target_x = zt.reshape(B * N, dz)
        if diffusion_batch_mul > 1:
            cond = cond.repeat(diffusion_batch_mul, 1)
            target_x = target_x.repeat(diffusion_batch_mul, 1)
        M, dev = target_x.shape[0], z.device
        if t_sampler == "logit_normal":
            t = torch.sigmoid(torch.randn(M, generator=generator).to(dev))
        else:
            t = torch.rand(M, generator=generator).to(dev)
        t = time_shift_fn(t) if time_shift_fn is not None else t
        noise = torch.randn(M, dz, generator=generator).to(dev)
        xt = t.unsqueeze(1) * target_x + (1 - t.unsqueeze(1)) * noise
        v = self.head_velocity(xt, t, cond)
        if token_weight is None:
            loss = F.mse_loss(v, target_x - noise)
        else:
            wt = token_weight.to(dev).flatten(1)[:, order.to(dev)].reshape(B * N).repeat(diffusion_batch_mul)
            loss = (((v - (target_x - noise)) ** 2).mean(1) * wt).sum() / wt.sum()
        return (loss, cond[:B * N].reshape(B, N, -1), order) if return_cond else loss


def group_sizes(n: int, k: int) -> List[int]:
    """n tokens in groups of k (the reference's schedule): n // k groups, the remainder spread over the first."""
    G = max(1, n // max(1, k))
    base, rem = divmod(n, G)
    return [base + (1 if g < rem else 0) for g in range(G)]


IMAGE_POSITIONS = ("sequence", "grid", "grid2d")


def image_position_ids(n_before: torch.Tensor, cells: torch.Tensor, index: torch.Tensor, scheme: str,
                       width: int = 0) -> torch.Tensor:
    """RoPE positions of image items: n_before [B] real tokens precede the image part (text and <img>),
    cells [n] is each item's grid cell, index [n] its place in the image part. "sequence": n_before + index (the
    reference's cumsum); "grid": n_before + cell, so a query and its latent share the cell's position; both [B, n].
    "grid2d" (2-D RoPE): (n_before + row, n_before + column) of the cell in a grid `width` cells wide, [B, n, 2]."""
    if scheme == "grid2d":
        if width <= 0:
            raise ValueError("grid2d positions need the grid width")
        cells = cells.to(n_before.device)
        rc = torch.stack([torch.div(cells, width, rounding_mode="floor"), cells % width], dim=-1)  # [n, 2]
        return n_before.view(-1, 1, 1) + rc.unsqueeze(0)
    if scheme == "sequence":
        rel = index
    elif scheme == "grid":
        rel = cells
    else:
        raise ValueError(f"unknown image_positions {scheme!r} ({', '.join(IMAGE_POSITIONS)})")
    return n_before.unsqueeze(1) + rel.to(n_before.device).unsqueeze(0)


def text_position_ids(mask: torch.Tensor, scheme: str) -> torch.Tensor:
    """RoPE positions of the text part: real tokens counted, pads at the last real one's, [B, T]; [B, T, 2] with
    both coordinates equal under "grid2d" (so text turns exactly as under 1-D RoPE)."""
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    return pos.unsqueeze(-1).expand(-1, -1, 2) if scheme == "grid2d" else pos


def noised_context(z: torch.Tensor, level, noise: torch.Tensor) -> torch.Tensor:
    """Latents [B, d_z, h, w] + level * noise, per-token LayerNormed again as the sampler feeds them back."""
    return latent_layer_norm(z + level * noise, dim=1)


def prepare_text_batch(tokenizer, prompts: Sequence[str], cond_drop_prob: float = 0.0,
                       generator: Optional[torch.Generator] = None, max_length: int = 256):
    """Tokenize prompts with the template (dropping each to the unconditional prompt with cond_drop_prob,
    10% in the reference) and right-pad. Returns ids [B,T], mask [B,T]."""
    rows: List[List[int]] = []
    for p in prompts:
        drop = cond_drop_prob > 0 and float(torch.rand(1, generator=generator)) < cond_drop_prob
        rows.append((tokenizer.encode_uncond() if drop else tokenizer.encode_prompt(p))[:max_length])
    return pad_rows(rows, tokenizer.pad_id)


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int):
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = 1
    return ids, mask


class VGT(nn.Module):
    """Generator + AE in one module (one checkpoint: `generator.*`, `vgt_ae.*`)."""

    def __init__(self, c: VGTConfig):
        super().__init__()
        self.c = c
        self.generator = QueryAR(c)
        self.vgt_ae = VGTAE(c.ae)


def randomize_(module: nn.Module, seed: int) -> nn.Module:
    """Deterministic non-degenerate init for tests and goldens (training inits zero the adaLN and
    output layers, which would make every velocity 0). Norm weights stay near 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            r = torch.randn(p.shape, generator=g)
            leaf = name.split(".")[-1]
            if p.dim() == 1 and leaf == "weight" and p.shape[0] > 0 and _is_norm(module, name):
                p.copy_(1.0 + 0.1 * r)
            elif leaf in ("ls1", "ls2"):
                p.copy_(0.5 + 0.1 * r)
            elif leaf in ("max_metaquery", "grid_embed") or name.endswith("embed_tokens.weight"):
                p.copy_(0.5 * r)
            elif p.dim() == 2 or p.dim() == 4:  # linear / conv: unit-variance outputs
                p.copy_(r / math.sqrt(p[0].numel()))
            else:
                p.copy_(0.2 * r)
    return module


def _is_norm(root: nn.Module, name: str) -> bool:
    mod = root.get_submodule(name.rsplit(".", 1)[0])
    return isinstance(mod, (nn.LayerNorm,)) or type(mod).__name__ in ("RMSNorm", "ChannelRMSNorm")
