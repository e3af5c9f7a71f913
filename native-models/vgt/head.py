"""Flow-matching head `SimpleMLPAdaLN` (MAR / NextStep-1 layout, parameter names as the reference).

Convention: x_t = t * x_data + (1 - t) * noise, t in [0, 1] used raw (not x1000); the net predicts
v = x_data - noise.
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import HeadConfig


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """cat([cos(t f), sin(t f)]) with f_i = exp(-ln(max_period) i / (dim/2)); cos first."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float().unsqueeze(-1) * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedder(nn.Module):
    def __init__(self, width: int, freq_dim: int):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t):
        return self.mlp(timestep_embedding(t, self.freq_dim).to(self.mlp[0].weight.dtype))


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class ResBlock(nn.Module):
    def __init__(self, width: int, mlp_dim: int):
        super().__init__()
        self.in_ln = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_dim), nn.SiLU(), nn.Linear(mlp_dim, width))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 3 * width))

    def forward(self, x, y):
        shift, scale, gate = self.adaLN_modulation(y).chunk(3, dim=-1)
        h = self.mlp(modulate(self.in_ln(x), shift, scale))
        return x + gate * h


class FinalLayer(nn.Module):
    def __init__(self, width: int, out_dim: int):
        super().__init__()
        self.width = width
        self.norm_final = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(width, out_dim)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))

    def forward(self, x, y):
        shift, scale = self.adaLN_modulation(y).chunk(2, dim=-1)
        # explicit unit weight: torch 1.13 exports an affine-free LayerNorm with an empty scale input
        w = self.width
        xn = F.layer_norm(x, (w,), torch.ones(w, dtype=x.dtype, device=x.device),
                          torch.zeros(w, dtype=x.dtype, device=x.device), self.norm_final.eps)
        return self.linear(modulate(xn, shift, scale))


class SimpleMLPAdaLN(nn.Module):
    def __init__(self, c: HeadConfig, d_z: int, cond_dim: int):
        super().__init__()
        w = c.width
        self.input_proj = nn.Linear(d_z, w)
        self.cond_embed = nn.Linear(cond_dim, w)
        self.time_embed = TimestepEmbedder(w, c.freq_dim)
        self.res_blocks = nn.ModuleList([ResBlock(w, int(w * c.mlp_ratio)) for _ in range(c.layers)])
        self.final_layer = FinalLayer(w, d_z)

    def init_weights(self):
        """Training init (as MAR/NextStep): xavier linears, zero adaLN and zero output layer."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.time_embed.mlp[0].weight, std=0.02)
        nn.init.normal_(self.time_embed.mlp[2].weight, std=0.02)
        for b in self.res_blocks:
            nn.init.zeros_(b.adaLN_modulation[-1].weight)
            nn.init.zeros_(b.adaLN_modulation[-1].bias)
        for m in (self.final_layer.adaLN_modulation[-1], self.final_layer.linear):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    # Split used by the bundle: cond once per group, velocity once per SDE step.
    def cond(self, c: torch.Tensor) -> torch.Tensor:
        return self.cond_embed(c)

    def velocity(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        y = self.time_embed(t) + cond
        h = self.input_proj(x)
        for b in self.res_blocks:
            h = b(h, y)
        return self.final_layer(h, y)

    # velocity() rearranged for the exported graph, where ONNX Runtime's cost grows with the node count: every
    # adaLN modulation depends on y = t_emb(t) + cond alone, so all of them are one matmul and one static split
    # (`modulation`, with modulate's `1 +` folded into the scale biases); `step` is the rest.
    @property
    def modulation_width(self) -> int:
        return sum(b.adaLN_modulation[-1].out_features for b in self.res_blocks) + \
            self.final_layer.adaLN_modulation[-1].out_features

    def modulation(self, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """t [N], cond [N, w] -> [N, (3 * layers + 2) * w]: (shift, 1 + scale, gate) per block, then the final
        layer's (shift, 1 + scale)."""
        return self.modulation_y(self.time_embed(t) + cond)

    def modulation_y(self, y: torch.Tensor) -> torch.Tensor:
        """`modulation` from y = t_emb(t) + cond, any leading dims."""
        w = self.input_proj.out_features
        mods = [b.adaLN_modulation[-1] for b in self.res_blocks] + [self.final_layer.adaLN_modulation[-1]]
        weight = torch.cat([m.weight for m in mods])
        dev = y.device
        unit = [torch.zeros(w, device=dev), torch.ones(w, device=dev)]
        bias = torch.cat([m.bias + torch.cat(unit + [torch.zeros(w, device=dev)] * (m.out_features // w - 2))
                          .to(m.bias.dtype) for m in mods])
        return F.linear(F.silu(y), weight, bias)

    def step(self, x: torch.Tensor, mod: torch.Tensor) -> torch.Tensor:
        """x [N, d_z], mod [N, modulation_width] (from `modulation`) -> v [N, d_z]."""
        w = self.input_proj.out_features
        parts = mod.split(w, dim=-1)
        h = self.input_proj(x)
        for i, b in enumerate(self.res_blocks):
            shift, scale1, gate = parts[3 * i: 3 * i + 3]
            h = h + gate * b.mlp(b.in_ln(h) * scale1 + shift)
        shift, scale1 = parts[-2:]
        xn = F.layer_norm(h, (w,), torch.ones(w, dtype=h.dtype, device=h.device),
                          torch.zeros(w, dtype=h.dtype, device=h.device), self.final_layer.norm_final.eps)
        return self.final_layer.linear(xn * scale1 + shift)

    def velocity_fused(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """velocity() as the bundle's head_velocity graph computes it (81 -> 41 nodes after ONNX Runtime's
        fusions on vgt-shapes)."""
        return self.step(x, self.modulation(t, cond))

    def sde(self, cond: torch.Tensor, x: torch.Tensor, eps: torch.Tensor, coef: torch.Tensor, ts: torch.Tensor,
            cfg: torch.Tensor, last_step: float) -> Tuple[torch.Tensor, torch.Tensor]:
        """A whole group's SDE sampling with classifier-free guidance (BUNDLE.md, sampling step 5), for the
        `head_sde` graph: cond [2N, w] (cond rows, then uncond rows), x [N, d_z] the initial noise, eps
        [S - 1, N, d_z], coef [S - 1, 3] = (1 + t, dt, sqrt(2 (1 - t)) sqrt(dt)) per step, ts [S], cfg [1].
        Returns x after the last step (before the latent LayerNorm) and the guided velocities [S, N, d_z].
        Every float32 operation comes in the engine's order, so the graph and the step-by-step loop agree."""
        n = x.shape[0]
        steps = ts.shape[0]
        mod = self.modulation_y(self.time_embed(ts).unsqueeze(1) + cond.unsqueeze(0))  # [S, 2N, M w]
        vs = []
        for i in range(steps):
            raw = self.step(torch.cat([x, x], 0), mod[i])
            c, u = raw[:n], raw[n:]
            v = u + cfg * (c - u)
            vs.append(v)
            if i < steps - 1:
                x = (x + ((coef[i, 0] * v) - x) * coef[i, 1]) + coef[i, 2] * eps[i]
            else:
                x = x + last_step * v
        return x, torch.stack(vs)

    def forward(self, x, t, c):
        return self.velocity(x, t, self.cond(c))
