"""Configurations of VGT: the generator (Qwen2-style LM + position queries + flow head) and VGT-AE.

Named configs: `tiny` (tests, random init), `shapes` (the Shapes World default model), and the
official shapes `internvl3_1_6b`, `internvl3_0_6b`, `qwen25vl_1_6b` (never instantiated at full
size here; their parameter counts come from `param_counts`).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Tuple

PROMPT_TEMPLATE = "<|im_start|>user\nGenerate an image: {prompt}<|im_end|>\n<|im_start|>assistant\n"
# The prompt said twice (our experiment, `ar --echo-prompt`): under causal attention a word sees only what comes
# before it, so in one copy the first object cannot see the relation or the second object; every token of the
# second copy sees the whole prompt. The engine fills every {prompt} of a bundle's template, so it needs nothing.
ECHO_TEMPLATE = "<|im_start|>user\nGenerate an image: {prompt}. {prompt}<|im_end|>\n<|im_start|>assistant\n"
UNCOND_PROMPT = "<|im_start|>user\nGenerate an image.<|im_end|>\n<|im_start|>assistant\n"
IMG_TOKEN = "<img>"


@dataclass
class ViTConfig:
    """InternViT-style encoder (CLS token, learned absolute positions, layer scale)."""
    image_size: int = 448
    patch_size: int = 14
    hidden: int = 1024
    layers: int = 24
    heads: int = 16
    mlp_dim: int = 4096
    ln_eps: float = 1e-6
    # > 0: each patch attends only to patches within this Chebyshev distance (and not to CLS), so a latent token
    # sees a bounded neighbourhood (layers x window patches) and cannot carry a scene-global code; 0: global
    local_window: int = 0
    # pixels in [-1,1] -> (x+1)/2 -> (x-mean)/std (ImageNet for InternViT)
    mean: Tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: Tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass
class DecoderConfig:
    """DC-AE decoder (diffusers `Decoder` layout). Stage i has width block_out_channels[i];
    stages run deepest first; every stage but the deepest starts with a 2x `interpolate` upsample."""
    block_out_channels: Tuple[int, ...] = (128, 256, 512, 512, 1024, 1024)
    layers_per_block: Tuple[int, ...] = (3, 3, 3, 3, 3, 3)
    block_types: Tuple[str, ...] = ("ResBlock",) * 3 + ("EfficientViTBlock",) * 3
    qkv_multiscales: Tuple[Tuple[int, ...], ...] = ((), (), (), (5,), (5,), (5,))
    attention_head_dim: int = 32
    glu_expand_ratio: int = 4

    @property
    def upsample_factor(self) -> int:
        return 2 ** (len(self.block_out_channels) - 1)


@dataclass
class AEConfig:
    encoder: str = "internvit"          # "internvit" or "none" (Qwen2.5-VL ViT is not ported)
    vit: ViTConfig = field(default_factory=ViTConfig)
    proj_dim: int = 896                 # width of `mlp1` output (the VLM's LLM width in the reference)
    res_blocks: int = 3
    d_z: int = 32
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    image_size: int = 448               # decoded image side (stride * grid)
    grid: int = 16                      # latent grid side for image_size
    mlp1_ln_eps: float = 1e-5           # nn.LayerNorm default in InternVL's mlp1 [infer]
    res_ln_eps: float = 1e-6
    down_ln_eps: float = 1e-5           # [infer] default LayerNorm eps
    latent_ln_eps: float = 1e-6
    scale_embedding: float = 1.0
    # > 1: the generator's tokens are latent_group x latent_group blocks of the AE's latent cells, their channels
    # concatenated cell by cell (8x8x16 -> 4x4x64 for 2), so an object is one or two tokens and one decision. The AE
    # itself is unchanged: encode() groups its output, decode() ungroups its input.
    latent_group: int = 1

    @property
    def stride(self) -> int:
        """Pixels per side of one AE latent cell."""
        return self.image_size // self.grid

    @property
    def latent_dim(self) -> int:
        """Channels of one generator token."""
        return self.d_z * self.latent_group ** 2

    @property
    def latent_grid(self) -> int:
        """Generator tokens per side."""
        return self.grid // self.latent_group

    @property
    def token_stride(self) -> int:
        """Pixels per side of one generator token."""
        return self.image_size // self.latent_grid


@dataclass
class LMConfig:
    vocab_size: int = 151674
    hidden: int = 1536
    layers: int = 28
    heads: int = 12
    kv_heads: int = 2
    head_dim: int = 128
    ffn: int = 8960
    rope_theta: float = 1e6
    rms_eps: float = 1e-6


@dataclass
class HeadConfig:
    width: int = 1536
    layers: int = 12
    mlp_ratio: float = 1.0
    freq_dim: int = 256


@dataclass
class SamplingDefaults:
    steps: int = 30
    cfg: float = 4.5
    cfg_schedule: str = "linear"
    tokens_per_step: int = 1
    order: str = "random"


@dataclass
class VGTConfig:
    name: str
    lm: LMConfig
    head: HeadConfig
    ae: AEConfig
    max_grid: Tuple[int, int] = (64, 64)
    sampling: SamplingDefaults = field(default_factory=SamplingDefaults)
    # RoPE position of the image tokens: "sequence" (the reference: cumsum of the mask, so in random order the
    # index says nothing about where a cell is) or "grid" (our choice for small models trained from scratch:
    # cell X's query and latent both sit at position base + X, row-major, whatever the order; RoPE then gives
    # attention the cell offset, 1 to the left neighbour and w to the upper one) or "grid2d" (2-D RoPE: the item
    # sits at base + (row, column), half the rotary frequencies turning with each, so "left of" is one sign in
    # its own subspace; position_ids gain a last axis of 2). See TRAINING.md.
    image_positions: str = "sequence"
    # Pads of the shorter prompt row: "always" masked (ours: batch-invariant, as training) or masked in the
    # "prefill" only, as the reference's generate() (no mask afterwards), which its published images used.
    pad_mask: str = "always"
    # Our WordPiece vocabulary plus one token per colour-shape phrase (vgt.tokenizer.phrase_tokenizer); the
    # bundle's tokenizer.json carries them, so the engine needs nothing. See TRAINING.md, "Binding".
    text_phrases: bool = False
    # The cond row's template (the bundle's prompt.template): PROMPT_TEMPLATE, or ECHO_TEMPLATE.
    prompt_template: str = PROMPT_TEMPLATE
    licence: str = "MIT"
    description: str = ""

    @property
    def d_z(self) -> int:
        """Channels of a generator token (the AE's d_z unless it groups cells: AEConfig.latent_group)."""
        return self.ae.latent_dim

    @property
    def grid(self) -> Tuple[int, int]:
        return (self.ae.latent_grid, self.ae.latent_grid)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "VGTConfig":
        ae = dict(d["ae"])
        ae["vit"] = ViTConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in ae["vit"].items()})
        dec = ae["decoder"]
        ae["decoder"] = DecoderConfig(
            block_out_channels=tuple(dec["block_out_channels"]),
            layers_per_block=tuple(dec["layers_per_block"]),
            block_types=tuple(dec["block_types"]),
            qkv_multiscales=tuple(tuple(x) for x in dec["qkv_multiscales"]),
            attention_head_dim=dec["attention_head_dim"],
            glu_expand_ratio=dec.get("glu_expand_ratio", 4),
        )
        return VGTConfig(
            name=d["name"], lm=LMConfig(**d["lm"]), head=HeadConfig(**d["head"]), ae=AEConfig(**ae),
            max_grid=tuple(d.get("max_grid", (64, 64))),
            sampling=SamplingDefaults(**d.get("sampling", {})),
            image_positions=d.get("image_positions", "sequence"), pad_mask=d.get("pad_mask", "always"),
            text_phrases=d.get("text_phrases", False), prompt_template=d.get("prompt_template", PROMPT_TEMPLATE),
            licence=d.get("licence", "MIT"), description=d.get("description", ""),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def tiny(vocab_size: int = 0) -> VGTConfig:
    # 48 px, 8x8 grid, stride 6: the decoder upsamples 8x to 64 px and the final bilinear resize
    # brings it to 48 px, exercising the same resize path as the official 512 -> 448.
    from .tokenizer import default_vocab
    return VGTConfig(
        name="tiny", max_grid=(16, 16),
        lm=LMConfig(vocab_size=vocab_size or len(default_vocab()), hidden=48, layers=2, heads=4, kv_heads=2,
                    head_dim=12, ffn=96, rope_theta=10000.0, rms_eps=1e-6),
        head=HeadConfig(width=48, layers=2),
        ae=AEConfig(
            vit=ViTConfig(image_size=48, patch_size=3, hidden=32, layers=2, heads=2, mlp_dim=64),
            proj_dim=48, d_z=8, image_size=48, grid=8,
            decoder=DecoderConfig(block_out_channels=(8, 16, 16, 16), layers_per_block=(1, 1, 1, 1),
                                  block_types=("ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock"),
                                  qkv_multiscales=((), (), (5,), (5,)), attention_head_dim=8, glu_expand_ratio=2),
        ),
        sampling=SamplingDefaults(steps=4, cfg=3.0, cfg_schedule="linear", tokens_per_step=4),
        description="Tiny random-init VGT for tests and golden parity data.",
    )


def shapes(vocab_size: int = 0) -> VGTConfig:
    # The Shapes World default model: 128 px, 16x16 grid, stride 8 (decoder upsamples 8x exactly).
    from .tokenizer import default_vocab
    return VGTConfig(
        name="shapes", max_grid=(32, 32),
        lm=LMConfig(vocab_size=vocab_size or len(default_vocab()), hidden=256, layers=8, heads=8, kv_heads=2,
                    head_dim=32, ffn=768, rope_theta=10000.0, rms_eps=1e-6),
        head=HeadConfig(width=256, layers=4),
        ae=AEConfig(
            vit=ViTConfig(image_size=128, patch_size=4, hidden=192, layers=4, heads=3, mlp_dim=576),
            proj_dim=256, d_z=16, image_size=128, grid=16,
            decoder=DecoderConfig(block_out_channels=(32, 64, 128, 128), layers_per_block=(1, 2, 2, 2),
                                  block_types=("ResBlock", "ResBlock", "EfficientViTBlock", "EfficientViTBlock"),
                                  qkv_multiscales=((), (), (5,), (5,)), attention_head_dim=32),
        ),
        sampling=SamplingDefaults(steps=20, cfg=3.0, cfg_schedule="linear", tokens_per_step=4),
        description="Shapes World default model (trained by this project).",
    )


def shapes8(vocab_size: int = 0) -> VGTConfig:
    # The CPU-sized Shapes World model: 128 px, 8x8 grid of 16-channel latents (stride 16, the decoder
    # upsamples 16x). The 8x8 grid keeps QueryAR's sequence at 128 image positions, which is what makes
    # the recipe fit a few hours of a 2-core CPU (see TRAINING.md).
    from .tokenizer import default_vocab
    return VGTConfig(
        name="shapes8", max_grid=(16, 16),
        lm=LMConfig(vocab_size=vocab_size or len(default_vocab()), hidden=192, layers=5, heads=6, kv_heads=2,
                    head_dim=32, ffn=512, rope_theta=10000.0, rms_eps=1e-6),
        head=HeadConfig(width=192, layers=3),
        ae=AEConfig(
            vit=ViTConfig(image_size=128, patch_size=8, hidden=160, layers=4, heads=4, mlp_dim=480),
            proj_dim=192, d_z=16, image_size=128, grid=8,
            decoder=DecoderConfig(block_out_channels=(16, 32, 64, 128, 128), layers_per_block=(1, 1, 1, 2, 2),
                                  block_types=("ResBlock", "ResBlock", "ResBlock", "EfficientViTBlock",
                                               "EfficientViTBlock"),
                                  qkv_multiscales=((), (), (), (5,), (5,)), attention_head_dim=32),
        ),
        sampling=SamplingDefaults(steps=20, cfg=3.0, cfg_schedule="linear", tokens_per_step=4),
        description="Shapes World default model, 8x8 latent grid (trained by this project on a 2-core CPU).",
    )


def shapes8_l(vocab_size: int = 0) -> VGTConfig:
    # The GPU path (experiments/gpu_run.sh): shapes8's VGT-AE unchanged (so the shipped bundle's AE is reused)
    # under a 15.9 M-parameter generator, sized for ~1.5 M sequences in a few minutes of one GPU.
    c = shapes8(vocab_size)
    return dataclasses.replace(
        c, name="shapes8_l",
        lm=dataclasses.replace(c.lm, hidden=384, layers=8, heads=6, kv_heads=2, head_dim=64, ffn=1024),
        head=HeadConfig(width=384, layers=3),
        description="Shapes World, 8x8 latent grid, larger generator (trained on one GPU by experiments/gpu_run.sh).")


def _official_ae(encoder: str) -> AEConfig:
    return AEConfig(encoder=encoder, vit=ViTConfig(), proj_dim=896 if encoder == "internvit" else 2048,
                    d_z=32, image_size=448, grid=16, decoder=DecoderConfig())


def internvl3_1_6b() -> VGTConfig:
    return VGTConfig(
        name="internvl3_1_6b",
        lm=LMConfig(vocab_size=151674, hidden=1536, layers=28, heads=12, kv_heads=2, head_dim=128, ffn=8960),
        head=HeadConfig(width=1536, layers=12), ae=_official_ae("internvit"),
        sampling=SamplingDefaults(steps=30, cfg=4.5, cfg_schedule="linear", tokens_per_step=1),
        description="hustvl VGT-InternVL3-1.6B (official checkpoint shapes).",
        pad_mask="prefill",
    )


def internvl3_0_6b() -> VGTConfig:
    return VGTConfig(
        name="internvl3_0_6b",
        lm=LMConfig(vocab_size=151674, hidden=896, layers=24, heads=14, kv_heads=2, head_dim=64, ffn=4864),
        head=HeadConfig(width=1536, layers=12), ae=_official_ae("internvit"),
        description="hustvl VGT-InternVL3-0.6B (train configs only).",
        pad_mask="prefill",
    )


def qwen25vl_1_6b() -> VGTConfig:
    # layer_ratio = 0.5 keeps the first 18 of Qwen2.5-VL-3B's 36 layers (reference a615bff, issue #11).
    # The Qwen2.5-VL ViT (window attention) is not ported: this AE decodes only.
    return VGTConfig(
        name="qwen25vl_1_6b",
        lm=LMConfig(vocab_size=151936, hidden=2048, layers=18, heads=16, kv_heads=2, head_dim=128, ffn=11008),
        head=HeadConfig(width=1536, layers=12), ae=_official_ae("none"),
        description="hustvl VGT-Qwen2.5-VL-1.6B (official checkpoint shapes, 18 layers).",
        pad_mask="prefill",
    )


def qwen25vl_2b() -> VGTConfig:
    # The reference's current Qwen config has no layer_ratio: all 36 layers of Qwen2.5-VL-3B.
    c = qwen25vl_1_6b()
    return dataclasses.replace(c, name="qwen25vl_2b", lm=dataclasses.replace(c.lm, layers=36),
                               description="hustvl VGT-Qwen2.5-VL-2B (official checkpoint shapes, 36 layers).")


CONFIGS = {"tiny": tiny, "shapes": shapes, "shapes8": shapes8, "shapes8_l": shapes8_l,
           "internvl3_1_6b": internvl3_1_6b, "internvl3_0_6b": internvl3_0_6b, "qwen25vl_1_6b": qwen25vl_1_6b,
           "qwen25vl_2b": qwen25vl_2b}


def get_config(name: str) -> VGTConfig:
    if name not in CONFIGS:
        raise KeyError(f"unknown config {name!r}; known: {sorted(CONFIGS)}")
    return CONFIGS[name]()


# ---------------------------------------------------------------- analytic parameter counts
def _lin(i: int, o: int, bias: bool = True) -> int:
    return i * o + (o if bias else 0)


def lm_params(c: LMConfig, with_embedding: bool = True) -> int:
    q, kv = c.heads * c.head_dim, c.kv_heads * c.head_dim
    per = _lin(c.hidden, q) + 2 * _lin(c.hidden, kv) + _lin(q, c.hidden, False) + 3 * c.hidden * c.ffn + 2 * c.hidden
    return c.layers * per + c.hidden + (c.vocab_size * c.hidden if with_embedding else 0)


def head_params(c: HeadConfig, d_z: int, cond_dim: int) -> int:
    w, m = c.width, int(c.width * c.mlp_ratio)
    n = _lin(d_z, w) + _lin(cond_dim, w) + _lin(c.freq_dim, w) + _lin(w, w)
    n += c.layers * (2 * w + _lin(w, m) + _lin(m, w) + _lin(w, 3 * w))
    n += _lin(w, 2 * w) + _lin(w, d_z)
    return n


def vit_params(c: ViTConfig) -> int:
    n_tok = (c.image_size // c.patch_size) ** 2 + 1
    n = c.hidden + n_tok * c.hidden + 3 * c.patch_size ** 2 * c.hidden + c.hidden
    per = _lin(c.hidden, 3 * c.hidden) + _lin(c.hidden, c.hidden) + _lin(c.hidden, c.mlp_dim) + _lin(c.mlp_dim, c.hidden)
    per += 4 * c.hidden + 2 * c.hidden  # norm1, norm2, ls1, ls2
    return n + c.layers * per


def decoder_params(c: DecoderConfig, d_z: int) -> int:
    ch = c.block_out_channels
    n = 9 * d_z * ch[-1] + ch[-1]  # conv_in
    for i, (w, layers) in enumerate(zip(ch, c.layers_per_block)):
        if i < len(ch) - 1 and layers > 0:
            n += 9 * ch[i + 1] * w + w
        for _ in range(layers):
            if c.block_types[i] == "ResBlock":
                n += 9 * w * w + w + 9 * w * w + 2 * w
            else:
                heads = w // c.attention_head_dim
                inner = heads * c.attention_head_dim
                n += 3 * w * inner
                for k in c.qkv_multiscales[i]:
                    n += 3 * inner * k * k + 3 * inner * (3 * inner // (3 * heads))
                n += inner * (1 + len(c.qkv_multiscales[i])) * w + 2 * w
                hid = c.glu_expand_ratio * w
                n += _lin(w, 2 * hid) + 2 * hid * 9 + 2 * hid + hid * w + 2 * w
    w0 = ch[0]
    n += 2 * w0 + 9 * w0 * 3 + 3
    return n


def ae_params(c: AEConfig) -> dict:
    enc = 0
    if c.encoder == "internvit":
        v = c.vit
        enc = vit_params(v) + 2 * 4 * v.hidden + _lin(4 * v.hidden, c.proj_dim) + _lin(c.proj_dim, c.proj_dim)
        enc += c.res_blocks * (2 * c.proj_dim + 2 * _lin(c.proj_dim, c.proj_dim))
        enc += 2 * c.proj_dim + _lin(c.proj_dim, c.d_z) + _lin(c.d_z, c.d_z)
    return {"encoder": enc, "decoder": decoder_params(c.decoder, c.d_z)}


def param_counts(c: VGTConfig) -> dict:
    H = c.lm.hidden
    gen = {
        "lm": lm_params(c.lm),
        "lm_embedding": c.lm.vocab_size * H,
        "queries": 2 * H * c.max_grid[0] * c.max_grid[1],
        "projectors": _lin(c.d_z, H) + _lin(H, H),
        "head": head_params(c.head, c.d_z, H),
    }
    ae = ae_params(c.ae)
    out = {**{f"gen.{k}": v for k, v in gen.items()}, **{f"ae.{k}": v for k, v in ae.items()}}
    out["generator_total"] = gen["lm"] + gen["queries"] + gen["projectors"] + gen["head"]
    out["ae_total"] = ae["encoder"] + ae["decoder"]
    out["total"] = out["generator_total"] + out["ae_total"]
    return out
