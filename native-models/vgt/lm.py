"""Qwen2-style decoder LM driven by `inputs_embeds` (RMSNorm, 1-D or 2-D RoPE, GQA, SiLU-gated MLP, qkv bias).

Parameter names follow Hugging Face `Qwen2Model` (embed_tokens, layers.{i}.self_attn.{q,k,v,o}_proj,
layers.{i}.mlp.{gate,up,down}_proj, layers.{i}.{input,post_attention}_layernorm, norm) so official
weights map one to one.

`forward` is also the `lm_step` graph: one function serves prefill (P = 0) and decode; the attention
mask always covers past + new positions, so pads stay masked in every step (see BUNDLE.md).
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import LMConfig


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # fp32 statistics as in Qwen2 (matters for fp16 export).
        dt = x.dtype
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(dt)


def rope_cos_sin(position_ids: torch.Tensor, head_dim: int, theta: float, dtype: torch.dtype):
    """cos/sin [B,S,hd] for the HF "rotate_half" layout (frequencies repeated over both halves).
    position_ids [B,S] (1-D RoPE) or [B,S,2] (2-D: frequency pair i turns with coordinate i % 2, so rows and
    columns each get every other frequency; a token at (p, p) turns exactly as at p in 1-D)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=position_ids.device)
                                / head_dim))
    if position_ids.dim() == 3:
        n = inv_freq.shape[0]
        pick = torch.zeros(2, n, device=position_ids.device)
        pick[torch.arange(n) % 2, torch.arange(n)] = 1.0
        # one nonzero per column, so the MatMul is exact: pos[..., i % 2] * inv_freq[i]
        freqs = torch.matmul(position_ids.float(), pick * inv_freq)  # [B,S,hd/2]
    else:
        freqs = position_ids.float().unsqueeze(-1) * inv_freq  # [B,S,hd/2]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half_matrix(head_dim: int) -> torch.Tensor:
    """R with x @ R == cat([-x[..., h:], x[..., :h]]) (HF rotate_half): one MatMul in the graph instead of
    Slice, Slice, Neg, Concat; exact, since every column has a single ±1."""
    h = head_dim // 2
    r = torch.zeros(head_dim, head_dim)
    r[torch.arange(h) + h, torch.arange(h)] = -1.0
    r[torch.arange(h), torch.arange(h) + h] = 1.0
    return r


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, rot: torch.Tensor) -> torch.Tensor:
    # x [B,nh,S,hd]; cos/sin [B,S,hd]
    return x * cos.unsqueeze(1) + torch.matmul(x, rot) * sin.unsqueeze(1)


class _OnnxReshape(torch.autograd.Function):
    """Exported as one Reshape with a constant shape (ONNX semantics: 0 copies the input's dim, -1 is inferred)
    instead of the Shape/Gather/Unsqueeze/Concat chain a traced `view(B, S, ...)` produces."""

    @staticmethod
    def forward(ctx, x, shape):  # type: ignore[override]
        return x.reshape(_resolve(x, shape))

    @staticmethod
    def symbolic(g, x, shape):
        return g.op("Reshape", x, g.op("Constant", value_t=torch.tensor(shape, dtype=torch.long)))


def _resolve(x: torch.Tensor, shape) -> List[int]:
    return [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]


def reshape0(x: torch.Tensor, shape: List[int]) -> torch.Tensor:
    """x.reshape with ONNX's 0 = "keep this dim"; fewer nodes in exported graphs, the same values."""
    if torch.onnx.is_in_onnx_export():
        return _OnnxReshape.apply(x, shape)
    return x.reshape(_resolve(x, shape))


class Attention(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.c = c
        self.q_proj = nn.Linear(c.hidden, c.heads * c.head_dim, bias=True)
        self.k_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=True)
        self.v_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=True)
        self.o_proj = nn.Linear(c.heads * c.head_dim, c.hidden, bias=False)
        self.recorded: Optional[List[torch.Tensor]] = None

    def forward(self, x, cos, sin, rot, allowed, past_k, past_v):
        c = self.c
        hd, kvh = c.head_dim, c.kv_heads
        q = reshape0(self.q_proj(x), [0, -1, c.heads, hd]).transpose(1, 2)
        k = reshape0(self.k_proj(x), [0, -1, kvh, hd]).transpose(1, 2)
        v = reshape0(self.v_proj(x), [0, -1, kvh, hd]).transpose(1, 2)
        q, k = apply_rope(q, cos, sin, rot), apply_rope(k, cos, sin, rot)
        k = torch.cat([past_k, k], dim=2)  # cache holds post-RoPE keys, as HF's DynamicCache does
        v = torch.cat([past_v, v], dim=2)
        # GQA without repeating K/V: query head j uses kv head j // rep, so the heads of one kv group are
        # stacked along the sequence axis ([B, kvH, rep*S, hd]) and share one matmul. Contiguous operands:
        # torch's CPU bmm on transposed views is ~7x slower (measured, torch 1.13); free in the graph.
        qg = reshape0(q.contiguous(), [0, kvh, -1, hd])
        scores = torch.matmul(qg, k.transpose(-1, -2).contiguous()) / math.sqrt(hd)
        scores = reshape0(scores, [0, c.heads, -1, 0])  # [B, nh, S, T]
        # masked_fill with the dtype's min (not -inf): a fully masked row would give NaN otherwise.
        scores = scores.float().masked_fill(~allowed, torch.finfo(torch.float32).min)
        probs = torch.softmax(scores, dim=-1).to(q.dtype)
        if self.recorded is not None:  # geometry probes (vgt/train/probes.py); never set when exporting
            self.recorded.append(probs.detach())
        probs = reshape0(probs, [0, kvh, -1, 0])
        out = reshape0(torch.matmul(probs, v.contiguous()), [0, c.heads, -1, hd])
        return self.o_proj(reshape0(out.transpose(1, 2), [0, 0, -1])), k, v


class MLP(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden, c.ffn, bias=False)
        self.up_proj = nn.Linear(c.hidden, c.ffn, bias=False)
        self.down_proj = nn.Linear(c.ffn, c.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c.hidden, c.rms_eps)
        self.post_attention_layernorm = RMSNorm(c.hidden, c.rms_eps)

    def forward(self, x, cos, sin, rot, allowed, past_k, past_v):
        h, k, v = self.self_attn(self.input_layernorm(x), cos, sin, rot, allowed, past_k, past_v)
        x = x + h
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


def build_allowed(attention_mask: torch.Tensor, S: int) -> torch.Tensor:
    """bool [B,1,S,P+S]: key j visible to new token s iff mask[j] and j <= P+s (causal by cache index)."""
    T = attention_mask.shape[1]
    P = T - S
    qi = torch.arange(S, device=attention_mask.device).unsqueeze(1) + P
    kj = torch.arange(T, device=attention_mask.device).unsqueeze(0)
    causal = kj <= qi  # [S,T]
    return causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)


class QwenLM(nn.Module):
    def __init__(self, c: LMConfig):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden)
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c.layers)])
        self.norm = RMSNorm(c.hidden, c.rms_eps)
        self.register_buffer("rot", rotate_half_matrix(c.head_dim), persistent=False)

    def record_attention(self, on: bool) -> List[torch.Tensor]:
        """Start (on) or stop keeping every layer's attention probabilities [B, heads, S, T]; returns the list."""
        out: List[torch.Tensor] = []
        for layer in self.layers:
            layer.self_attn.recorded = out if on else None
        return out

    def empty_cache(self, B: int, dtype=torch.float32, device=None) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        c = self.c
        z = torch.zeros(B, c.kv_heads, 0, c.head_dim, dtype=dtype, device=device)
        return [(z, z) for _ in range(c.layers)]

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None):
        """inputs_embeds [B,S,H], attention_mask [B,P+S] (1 = real token), position_ids [B,S] or [B,S,2],
        past: list of (key, value) [B,kvH,P,hd]. Returns hidden [B,S,H] after the final norm and present."""
        B, S, _ = inputs_embeds.shape
        if past is None:
            past = self.empty_cache(B, inputs_embeds.dtype, inputs_embeds.device)
        cos, sin = rope_cos_sin(position_ids, self.c.head_dim, self.c.rope_theta, inputs_embeds.dtype)
        allowed = build_allowed(attention_mask, S)
        x = inputs_embeds
        present = []
        for layer, (pk, pv) in zip(self.layers, past):
            x, k, v = layer(x, cos, sin, self.rot.to(x.dtype), allowed, pk, pv)
            present.append((k, v))
        return self.norm(x), present
