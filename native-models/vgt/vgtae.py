"""VGT-AE: InternViT-style encoder -> pixel shuffle 0.5 -> mlp1 -> 3 residual blocks -> down_mlp -> d_z,
per-token LayerNorm; DC-AE decoder (diffusers `Decoder` layout and names) -> bilinear resize to stride*grid.

Parameter names follow the reference (`encoder.embeddings.*`, `encoder.encoder.layers.*`, `mlp1.{0,1,3}`,
`down_blocks.{i}.mlp.{0,1,3}`, `down_mlp.{0,1,3}`, `decoder.*`), so an official `vgt_ae.*` state dict maps
one to one (see convert_official.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import AEConfig, DecoderConfig, ViTConfig


def latent_layer_norm(z: torch.Tensor, eps: float = 1e-6, dim: int = -1) -> torch.Tensor:
    """Parameter-free LayerNorm over the latent channels of each token."""
    mu = z.mean(dim=dim, keepdim=True)
    var = (z - mu).pow(2).mean(dim=dim, keepdim=True)
    return (z - mu) / torch.sqrt(var + eps)


# ------------------------------------------------------------------------------------------ encoder
class ViTEmbeddings(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        n = (c.image_size // c.patch_size) ** 2
        self.class_embedding = nn.Parameter(torch.randn(1, 1, c.hidden) * 0.02)
        self.patch_embedding = nn.Conv2d(3, c.hidden, c.patch_size, c.patch_size)
        self.position_embedding = nn.Parameter(torch.randn(1, n + 1, c.hidden) * 0.02)

    def forward(self, x):
        p = self.patch_embedding(x).flatten(2).transpose(1, 2)  # [B,N,C], row-major patches
        cls = self.class_embedding.expand(x.shape[0], -1, -1).to(p.dtype)
        return torch.cat([cls, p], dim=1) + self.position_embedding.to(p.dtype)


class ViTAttention(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.heads = c.heads
        self.qkv = nn.Linear(c.hidden, 3 * c.hidden, bias=True)
        self.proj = nn.Linear(c.hidden, c.hidden)

    def forward(self, x, bias=None):
        B, N, C = x.shape
        hd = C // self.heads
        q, k, v = self.qkv(x).view(B, N, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        a = torch.softmax(s if bias is None else s + bias.to(s.dtype), dim=-1)
        return self.proj(torch.matmul(a, v).transpose(1, 2).reshape(B, N, C))


class ViTMLP(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.fc1 = nn.Linear(c.hidden, c.mlp_dim)
        self.fc2 = nn.Linear(c.mlp_dim, c.hidden)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class ViTLayer(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(c.hidden, eps=c.ln_eps)
        self.attn = ViTAttention(c)
        self.ls1 = nn.Parameter(torch.full((c.hidden,), 0.1))
        self.norm2 = nn.LayerNorm(c.hidden, eps=c.ln_eps)
        self.mlp = ViTMLP(c)
        self.ls2 = nn.Parameter(torch.full((c.hidden,), 0.1))

    def forward(self, x, bias=None):
        x = x + self.attn(self.norm1(x), bias) * self.ls1
        return x + self.mlp(self.norm2(x)) * self.ls2


class ViTEncoderLayers(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.layers = nn.ModuleList([ViTLayer(c) for _ in range(c.layers)])


def local_attention_bias(side: int, window: int) -> torch.Tensor:
    """Additive attention bias [1+n, 1+n] (CLS first, then side x side patches, row-major): 0 where a patch may
    attend (Chebyshev distance <= window), -1e4 elsewhere; CLS attends only to itself and no patch attends to it."""
    r, c = torch.div(torch.arange(side * side), side, rounding_mode="floor"), torch.arange(side * side) % side
    near = torch.maximum((r[:, None] - r[None]).abs(), (c[:, None] - c[None]).abs()) <= window
    allow = torch.zeros(1 + side * side, 1 + side * side, dtype=torch.bool)
    allow[0, 0] = True
    allow[1:, 1:] = near
    return torch.where(allow, 0.0, -1e4)


class InternViT(nn.Module):
    def __init__(self, c: ViTConfig):
        super().__init__()
        self.embeddings = ViTEmbeddings(c)
        self.encoder = ViTEncoderLayers(c)
        side = c.image_size // c.patch_size
        bias = local_attention_bias(side, c.local_window) if c.local_window > 0 else None
        self.register_buffer("attn_bias", bias, persistent=False)  # a constant of the graph, not a weight

    def forward(self, x):
        h = self.embeddings(x)
        for layer in self.encoder.layers:
            h = layer(h, self.attn_bias)
        return h


def pixel_shuffle_half(x: torch.Tensor) -> torch.Tensor:
    """InternVL pixel_shuffle(scale 0.5, ps_version v2): [B,h,w,C] -> [B,h/2,w/2,4C].
    Output channel index = dy*2C + dx*C + c for the 2x2 neighbourhood (dy, dx) [infer from InternVL]."""
    B, h, w, C = x.shape
    x = x.reshape(B, h // 2, 2, w // 2, 2, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, h // 2, w // 2, 4 * C)


class ProjResBlock(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.mlp = nn.Sequential(nn.LayerNorm(dim, eps=eps), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, x):
        return x + self.mlp(x)


# ------------------------------------------------------------------------------------------ decoder
def repeat_channels(x: torch.Tensor, r: int) -> torch.Tensor:
    """x.repeat_interleave(r, dim=1) for NCHW, written as expand+reshape (exports without a Loop)."""
    if r == 1:
        return x
    B, C, H, W = x.shape
    return x.unsqueeze(2).expand(B, C, r, H, W).reshape(B, C * r, H, W)


class ChannelRMSNorm(nn.Module):
    """diffusers RMSNorm(elementwise_affine, bias) applied over channels of NCHW (fp32 statistics)."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        dt = x.dtype
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(1, keepdim=True) + self.eps)
        return xf.to(dt) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class DCResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.norm = ChannelRMSNorm(ch)

    def forward(self, x):
        return self.norm(self.conv2(F.silu(self.conv1(x)))) + x


class MultiscaleProjection(nn.Module):
    def __init__(self, inner: int, heads: int, k: int):
        super().__init__()
        ch = 3 * inner
        self.proj_in = nn.Conv2d(ch, ch, k, padding=k // 2, groups=ch, bias=False)
        self.proj_out = nn.Conv2d(ch, ch, 1, groups=3 * heads, bias=False)

    def forward(self, x):
        return self.proj_out(self.proj_in(x))


class MultiscaleLinearAttention(nn.Module):
    """Sana/EfficientViT ReLU linear attention with multiscale qkv aggregation (residual inside)."""

    def __init__(self, ch: int, head_dim: int, scales):
        super().__init__()
        self.head_dim = head_dim
        heads = ch // head_dim
        inner = heads * head_dim
        self.to_q = nn.Linear(ch, inner, bias=False)
        self.to_k = nn.Linear(ch, inner, bias=False)
        self.to_v = nn.Linear(ch, inner, bias=False)
        self.to_qkv_multiscale = nn.ModuleList([MultiscaleProjection(inner, heads, k) for k in scales])
        self.to_out = nn.Linear(inner * (1 + len(scales)), ch, bias=False)
        self.norm_out = ChannelRMSNorm(ch)
        self.eps = 1e-15
        self.linear_above = head_dim  # diffusers: linear attention when H*W > head_dim, else quadratic

    def forward(self, x):
        B, _, H, W = x.shape
        res = x
        xl = x.permute(0, 2, 3, 1)
        qkv = torch.cat([self.to_q(xl), self.to_k(xl), self.to_v(xl)], dim=3).permute(0, 3, 1, 2)
        qkv = torch.cat([qkv] + [m(qkv) for m in self.to_qkv_multiscale], dim=1)
        qkv = qkv.float().reshape(B, -1, 3 * self.head_dim, H * W)
        q, k, v = qkv.chunk(3, dim=2)  # [B, heads', hd, HW]
        q, k = F.relu(q), F.relu(k)
        if H * W > self.linear_above:  # static for a given image size
            v = F.pad(v, (0, 0, 0, 1), value=1.0)
            out = torch.matmul(torch.matmul(v, k.transpose(-1, -2)), q)
            out = out[:, :, :-1] / (out[:, :, -1:] + self.eps)
        else:
            s = torch.matmul(k.transpose(-1, -2), q)
            s = s / (s.sum(dim=2, keepdim=True) + self.eps)
            out = torch.matmul(v, s)
        out = out.to(x.dtype).reshape(B, -1, H, W)
        out = self.to_out(out.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.norm_out(out) + res


class GLUMBConv(nn.Module):
    def __init__(self, ch: int, expand: int):
        super().__init__()
        hid = expand * ch
        self.conv_inverted = nn.Conv2d(ch, 2 * hid, 1)
        self.conv_depth = nn.Conv2d(2 * hid, 2 * hid, 3, 1, 1, groups=2 * hid)
        self.conv_point = nn.Conv2d(hid, ch, 1, bias=False)
        self.norm = ChannelRMSNorm(ch)

    def forward(self, x):
        h = self.conv_depth(F.silu(self.conv_inverted(x)))
        h, gate = h.chunk(2, dim=1)
        return self.norm(self.conv_point(h * F.silu(gate))) + x


class EfficientViTBlock(nn.Module):
    def __init__(self, ch: int, head_dim: int, scales, expand: int):
        super().__init__()
        self.attn = MultiscaleLinearAttention(ch, head_dim, scales)
        self.conv_out = GLUMBConv(ch, expand)

    def forward(self, x):
        return self.conv_out(self.attn(x))


class UpBlock(nn.Module):
    """2x nearest `interpolate` + conv, plus the channel-repeat + pixel-shuffle shortcut."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, 1)
        self.repeats = cout * 4 // cin

    def forward(self, x):
        y = self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        s = F.pixel_shuffle(repeat_channels(x, self.repeats), 2)
        return y + s


class DCAEDecoder(nn.Module):
    def __init__(self, c: DecoderConfig, d_z: int):
        super().__init__()
        ch = c.block_out_channels
        self.conv_in = nn.Conv2d(d_z, ch[-1], 3, 1, 1)
        self.in_repeats = ch[-1] // d_z
        if ch[-1] % d_z:
            raise ValueError("deepest decoder width must be a multiple of d_z (channel-repeat shortcut)")
        blocks = []
        for i, (w, n) in enumerate(zip(ch, c.layers_per_block)):
            mods = []
            if i < len(ch) - 1 and n > 0:
                mods.append(UpBlock(ch[i + 1], w))
            for _ in range(n):
                if c.block_types[i] == "ResBlock":
                    mods.append(DCResBlock(w))
                elif c.block_types[i] == "EfficientViTBlock":
                    mods.append(EfficientViTBlock(w, c.attention_head_dim, c.qkv_multiscales[i], c.glu_expand_ratio))
                else:
                    raise ValueError(f"unknown decoder block type {c.block_types[i]}")
            blocks.append(nn.Sequential(*mods))
        self.up_blocks = nn.ModuleList(blocks)
        if c.layers_per_block[0] <= 0:
            raise ValueError("the shallowest decoder stage needs at least one layer")
        self.norm_out = ChannelRMSNorm(ch[0])
        self.conv_out = nn.Conv2d(ch[0], 3, 3, 1, 1)

    def forward(self, z):
        x = self.conv_in(z) + repeat_channels(z, self.in_repeats)
        for blk in reversed(self.up_blocks):
            x = blk(x)
        return self.conv_out(F.relu(self.norm_out(x)))


# ------------------------------------------------------------------------------------------ VGT-AE
def group_latents(z: torch.Tensor, g: int) -> torch.Tensor:
    """[B,d,H,W] -> [B,g*g*d,H/g,W/g]: each g x g block of cells becomes one token, its cells' channels concatenated
    in row-major cell order (channel (i*g + j)*d + c is channel c of the block's cell (i, j))."""
    if g == 1:
        return z
    B, d, H, W = z.shape
    return z.reshape(B, d, H // g, g, W // g, g).permute(0, 3, 5, 1, 2, 4).reshape(B, g * g * d, H // g, W // g)


def ungroup_latents(z: torch.Tensor, g: int) -> torch.Tensor:
    """The inverse of group_latents: [B,g*g*d,h,w] -> [B,d,h*g,w*g]."""
    if g == 1:
        return z
    B, D, h, w = z.shape
    d = D // (g * g)
    return z.reshape(B, g, g, d, h, w).permute(0, 3, 4, 1, 5, 2).reshape(B, d, h * g, w * g)


class VGTAE(nn.Module):
    def __init__(self, c: AEConfig):
        super().__init__()
        self.c = c
        if c.encoder == "internvit":
            v = c.vit
            if (v.image_size // v.patch_size) != 2 * c.grid or c.image_size != v.image_size:
                raise ValueError("ViT patches must be 2*grid per side (pixel shuffle 0.5) at image_size")
            self.encoder = InternViT(v)
            self.mlp1 = nn.Sequential(nn.LayerNorm(4 * v.hidden, eps=c.mlp1_ln_eps), nn.Linear(4 * v.hidden, c.proj_dim),
                                      nn.GELU(), nn.Linear(c.proj_dim, c.proj_dim))
            self.down_blocks = nn.ModuleList([ProjResBlock(c.proj_dim, c.res_ln_eps) for _ in range(c.res_blocks)])
            self.down_mlp = nn.Sequential(nn.LayerNorm(c.proj_dim, eps=c.down_ln_eps), nn.Linear(c.proj_dim, c.d_z),
                                          nn.GELU(), nn.Linear(c.d_z, c.d_z))
            self.register_buffer("pix_mean", torch.tensor(v.mean).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("pix_std", torch.tensor(v.std).view(1, 3, 1, 1), persistent=False)
        elif c.encoder != "none":
            raise ValueError(f"unknown AE encoder {c.encoder}")
        self.decoder = DCAEDecoder(c.decoder, c.d_z)

    @property
    def has_encoder(self) -> bool:
        return self.c.encoder != "none"

    def encode(self, image: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """image [B,3,S,S] in [-1,1] -> z [B,d_z,h,w], per-token LayerNormed (normalize=False: the raw stage-1
        latents, for the Table-5 comparison)."""
        if not self.has_encoder:
            raise RuntimeError("this VGT-AE has no encoder")
        x = ((image + 1) / 2 - self.pix_mean) / self.pix_std
        h = self.encoder(x)[:, 1:]  # drop CLS
        B, N, C = h.shape
        s = int(round(math.sqrt(N)))
        h = pixel_shuffle_half(h.reshape(B, s, s, C))
        g = s // 2
        h = self.mlp1(h.reshape(B, g * g, 4 * C))
        for blk in self.down_blocks:
            h = blk(h)
        z = self.down_mlp(h) * self.c.scale_embedding  # [B,N,d_z]
        if normalize:
            z = latent_layer_norm(z, self.c.latent_ln_eps)
        return group_latents(z.transpose(1, 2).reshape(B, self.c.d_z, g, g), self.c.latent_group)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z [B,latent_dim,h,w] (encode's layout) -> image [B,3,token_stride*h,token_stride*w] in [-1,1] (not
        clamped)."""
        if self.c.latent_group > 1:
            # a generator token is LayerNormed over all its channels; the decoder expects each cell's own
            z = latent_layer_norm(ungroup_latents(z, self.c.latent_group), self.c.latent_ln_eps, dim=1)
        x = self.decoder(z / self.c.scale_embedding)
        h, w = z.shape[2] * self.c.stride, z.shape[3] * self.c.stride
        if x.shape[2] != h or x.shape[3] != w:
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        return x

    def forward(self, image: torch.Tensor):
        """Training forward: returns (reconstruction, z)."""
        z = self.encode(image)
        return self.decode(z), z
