"""Shared pieces of the training stages: run directories, resumable checkpoints, logging, LR schedule,
Shapes World batches and the VGT-AE encode path split into its parts.

Every stage is one command that can be killed and re-run with the same arguments: it resumes from
<out>/ckpt.pt (model, optimizer, EMA, step) and its data stream is a pure function of (seed, step),
so a resumed run sees exactly the batches an uninterrupted one would have.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

from ..config import get_config
from ..shapes import world
from ..shapes.grammar import BACKGROUNDS, COLOR_NAMES, SHAPES
from ..vgtae import pixel_shuffle_half

RUNS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "runs"))
PAIRS = [(c, s) for c in COLOR_NAMES for s in SHAPES]  # 18 colour-shape pairs; dense label = 1 + index
N_COUNT = world.MAX_OBJECTS + 1  # counts 0..6


# ----------------------------------------------------------------------------- args, runs, logs

def base_parser(description, default_out):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", default="shapes", help="model config name (vgt/config.py): shapes or tiny")
    p.add_argument("--out", default=os.path.join(RUNS, default_out), help="run directory (checkpoint + log)")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: run stages side by side)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (evaluation always runs on the CPU)")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out")
    p.add_argument("--bf16", action="store_true",
                   help="autocast the forward pass to bfloat16 (fp32 weights and optimiser); ~1.5x faster on CPUs with "
                        "AMX/AVX512-BF16")
    return p


def autocast(args, device):
    """The forward pass's autocast context (a no-op unless --bf16)."""
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16, enabled=args.bf16)


def float_layer_norms(module):
    """For --bf16: torch 1.13's CPU LayerNorm refuses a bf16 input with fp32 weights, so LayerNorm modules get
    their input as fp32 (as GPU autocast does for layer_norm anyway)."""
    for m in module.modules():
        if isinstance(m, torch.nn.LayerNorm):
            m.register_forward_pre_hook(lambda _m, inputs: tuple(x.float() for x in inputs))
    return module


def setup(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "args.json"), "w") as f:
        json.dump(vars(args), f, indent=1)
    return get_config(args.config)


class Logger:
    """Appends one JSON object per log line to <out>/log.jsonl and echoes a short line to stdout."""

    def __init__(self, out, name):
        self.path = os.path.join(out, "log.jsonl")
        self.name = name
        self.t0 = time.time()

    def log(self, **kv):
        kv = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in kv.items()}
        kv["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(self.path, "a") as f:
            f.write(json.dumps(kv) + "\n")
        print(f"[{self.name}] " + " ".join(f"{k}={v}" for k, v in kv.items() if k != "time"), flush=True)


def lr_at(step, args):
    """Linear warmup then cosine decay to 10%."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def make_optimizer(groups, args):
    """AdamW over [(params, lr_mult), ...] (or a plain param list); no weight decay on biases and norms."""
    if not isinstance(groups[0], tuple):
        groups = [(groups, 1.0)]
    pg = []
    for params, mult in groups:
        params = [p for p in params if p.requires_grad]
        pg.append({"params": [p for p in params if p.dim() >= 2], "weight_decay": args.weight_decay, "lr_mult": mult})
        pg.append({"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, "lr_mult": mult})
    return torch.optim.AdamW([g for g in pg if g["params"]], lr=args.lr, betas=(0.9, 0.95))


def set_lr(opt, step, args):
    lr = lr_at(step, args)
    for g in opt.param_groups:
        g["lr"] = lr * g.get("lr_mult", 1.0)
    return lr


def trainable(params):
    return [p for p in params if p.requires_grad]


class EMA:
    """Exponential moving average of a module's floating-point state (warm-started: early steps track fast)."""

    def __init__(self, module, decay):
        self.decay = decay
        self.n = 0
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module):
        self.n += 1
        d = min(self.decay, (1 + self.n) / (10 + self.n))
        for k, v in module.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)


def save_ckpt(out, step, modules, opt=None, ema=None, extra=None, name="ckpt.pt"):
    """Atomic save (write then rename) so a kill mid-save never leaves a broken checkpoint."""
    state = {"step": step, "modules": {k: m.state_dict() for k, m in modules.items()},
             "opt": opt.state_dict() if opt else None, "ema": ema.shadow if ema else None, **(extra or {})}
    path = os.path.join(out, name)
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)
    return path


def load_ckpt(out, modules, opt=None, ema=None, name="ckpt.pt"):
    """Resume if <out>/<name> exists: returns the step to start from (0 when fresh)."""
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return 0
    ck = torch.load(path, map_location="cpu")
    for k, m in modules.items():
        m.load_state_dict(ck["modules"][k])
    if opt is not None and ck.get("opt"):
        opt.load_state_dict(ck["opt"])
    if ema is not None and ck.get("ema"):
        ema.shadow = {k: v.to(ema.shadow[k].device) for k, v in ck["ema"].items()}
        ema.n = ck["step"]
    print(f"resumed from {path} at step {ck['step']}", file=sys.stderr)
    return ck["step"]


def load_weights(path, module_key, use_ema=True):
    """A stage's result: the EMA weights of modules[module_key] (raw weights when no EMA was kept). `path` may also be
    a checkpoint already loaded (a dict), so a caller that looked at it first does not read it twice."""
    ck = path if isinstance(path, dict) else torch.load(path, map_location="cpu")
    ema = ck.get("ema")
    if use_ema and ema is not None and set(ema) == set(ck["modules"][module_key]):
        return ema, ck
    return ck["modules"][module_key], ck


# ----------------------------------------------------------------------------- data

def step_rng(seed, step, stream=0):
    """Independent generator per (seed, stream, step): resuming replays the exact data."""
    return np.random.default_rng([seed, stream, step])


def to_tensor(images):
    """uint8 [B,S,S,3] -> float [B,3,S,S] in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(np.stack(images))).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def to_device(batch, dev):
    return {k: (v.to(dev) if torch.is_tensor(v) else v) for k, v in batch.items()}


def to_uint8(x):
    """float [B,3,S,S] in [-1, 1] -> uint8 numpy [B,S,S,3] (the reference's clamp(127.5x + 128))."""
    return torch.clamp(127.5 * x.detach().cpu() + 128.0, 0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _inside(o, px, py):
    s, left, top = o["size"], o["x"], o["y"]
    inb = (px >= left) & (px < left + s) & (py >= top) & (py < top + s)
    if o["shape"] == "square":
        return inb
    if o["shape"] == "circle":
        return (px - left - s / 2) ** 2 + (py - top - s / 2) ** 2 < (s / 2) ** 2
    return inb & (np.abs(px - left - s / 2) <= (py - top) / 2)


def scene_labels(objs, caption, S, grid):
    """Semantic targets of one scene for stage 0.

    dense [grid, grid]: 0 = background, 1 + pair index of the object covering the cell centre;
    counts [18]: objects of each colour-shape pair (0..6); background: 0 white, 1 black.
    """
    c = (np.arange(grid) + 0.5) * S / grid
    px, py = np.meshgrid(c, c)
    dense = np.zeros((grid, grid), np.int64)
    counts = np.zeros(len(PAIRS), np.int64)
    for o in objs:
        k = PAIRS.index((o["color"], o["shape"]))
        dense[_inside(o, px, py)] = 1 + k
        counts[k] += 1
    bg = 1 if caption.endswith("on a black background") else 0
    return dense, counts, bg


def shapes_batch(seed, step, batch, S, grid=None, stream=0, train=True):
    """A deterministic batch of Shapes World samples: dict of images, captions, categories, objs (+labels)."""
    rng = step_rng(seed, step, stream)
    items = [world.sample(rng, S, train=train) for _ in range(batch)]
    out = {"images": to_tensor([it[0] for it in items]), "captions": [it[1] for it in items],
           "categories": [it[2] for it in items], "objects": [it[3] for it in items],
           "uint8": np.stack([it[0] for it in items])}
    if grid:
        labels = [scene_labels(it[3], it[1], S, grid) for it in items]
        out["dense"] = torch.from_numpy(np.stack([l[0] for l in labels]))
        out["counts"] = torch.from_numpy(np.stack([l[1] for l in labels]))
        out["bg"] = torch.tensor([l[2] for l in labels])
    return out


# ----------------------------------------------------------------------------- VGT-AE parts

def semantic_features(ae, image):
    """ViT + pixel shuffle + mlp1 (the VLM's own encoder and projector: E_vlm): [B, g*g, proj_dim]."""
    x = ((image + 1) / 2 - ae.pix_mean) / ae.pix_std
    h = ae.encoder(x)[:, 1:]  # drop CLS
    B, N, C = h.shape
    s = int(round(math.sqrt(N)))
    h = pixel_shuffle_half(h.reshape(B, s, s, C))
    return ae.mlp1(h.reshape(B, (s // 2) ** 2, 4 * C))


def project(ae, feats):
    """The projector phi: residual blocks + down_mlp -> raw latents [B, N, d_z] (before the per-token LN)."""
    h = feats
    for blk in ae.down_blocks:
        h = blk(h)
    return ae.down_mlp(h) * ae.c.scale_embedding


def tokens_to_grid(z, grid):
    B, N, d = z.shape
    return z.transpose(1, 2).reshape(B, d, grid, grid)


def count_params(module, trainable_only=False):
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
