"""Stage 0, "understanding": pretrain the VGT-AE's ViT encoder + mlp1 on Shapes World with a semantic
objective. It stands in for the VLM's vision encoder, which VGT starts from (and distils back to).

Objective (all from the scene the generator drew, i.e. the caption's attributes and where they are):
  * dense: for each latent-grid token, which colour-shape pair covers its cell centre (19-way, 0 = background);
  * counts: how many objects of each of the 18 pairs (0..6) the image holds, from mean-pooled tokens;
  * background: white or black.

    cd native-models && /usr/bin/python3 -m vgt.train.stage0 --config shapes --steps 6000 --batch 16
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..vgtae import VGTAE
from .common import (EMA, N_COUNT, PAIRS, Logger, base_parser, load_ckpt, make_optimizer, save_ckpt, set_lr,
                     semantic_features, setup, shapes_batch, to_device)


class SemanticHeads(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dense = nn.Linear(dim, 1 + len(PAIRS))
        self.counts = nn.Linear(dim, len(PAIRS) * N_COUNT)
        self.bg = nn.Linear(dim, 2)

    def forward(self, feats):
        pooled = feats.mean(1)
        return self.dense(feats), self.counts(pooled).view(-1, len(PAIRS), N_COUNT), self.bg(pooled)


def build(cfg):
    ae = VGTAE(cfg.ae)
    return ae, SemanticHeads(cfg.ae.proj_dim)


def losses(ae, heads, batch):
    dense, counts, bg = heads(semantic_features(ae, batch["images"]))
    dense_t = batch["dense"].flatten(1)
    l_dense = F.cross_entropy(dense.flatten(0, 1), dense_t.flatten())
    l_counts = F.cross_entropy(counts.flatten(0, 1), batch["counts"].flatten())
    l_bg = F.cross_entropy(bg, batch["bg"])
    obj = dense_t > 0
    pred = dense.argmax(-1)
    metrics = {
        "acc_dense_obj": (pred[obj] == dense_t[obj]).float().mean().item() if obj.any() else 1.0,
        "acc_dense_bg": (pred[~obj] == 0).float().mean().item(),
        "acc_counts_scene": (counts.argmax(-1) == batch["counts"]).all(-1).float().mean().item(),
        "acc_bg": (bg.argmax(-1) == batch["bg"]).float().mean().item(),
    }
    return l_dense + l_counts + 0.1 * l_bg, {"l_dense": l_dense.item(), "l_counts": l_counts.item(), **metrics}


def main(argv=None):
    p = base_parser(__doc__, "stage0")
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--eval-batch", type=int, default=64)
    args = p.parse_args(argv)
    cfg = setup(args)
    ae, heads = build(cfg)
    dev = torch.device(args.device)
    ae.to(dev), heads.to(dev)
    S, grid = cfg.ae.image_size, cfg.ae.grid
    params = list(ae.encoder.parameters()) + list(ae.mlp1.parameters()) + list(heads.parameters())
    opt = make_optimizer(params, args)
    ema = EMA(ae, 0.999)
    modules = {"ae": ae, "heads": heads}
    step = 0 if args.fresh else load_ckpt(args.out, modules, opt, ema)
    log = Logger(args.out, "stage0")
    if step == 0:
        log.log(event="start", config=args.config, encoder_params=sum(p.numel() for p in params))
    t_last = time.time()
    while step < args.steps:
        lr = set_lr(opt, step, args)
        batch = to_device(shapes_batch(args.seed, step, args.batch, S, grid), dev)
        ae.train()
        loss, m = losses(ae, heads, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, args.grad_clip)
        opt.step()
        ema.update(ae)
        step += 1
        if step % args.log_every == 0 or step == args.steps:
            dt = (time.time() - t_last) / args.log_every
            t_last = time.time()
            log.log(step=step, loss=loss.item(), grad_norm=float(gn), lr=lr, sec_per_step=dt, **m)
        if step % args.eval_every == 0 or step == args.steps:
            ae.eval()
            with torch.no_grad():
                vb = to_device(shapes_batch(args.seed, 0, args.eval_batch, S, grid, stream=1, train=False), dev)
                vloss, vm = losses(ae, heads, vb)
            log.log(step=step, eval_loss=vloss.item(), **{"eval_" + k: v for k, v in vm.items()})
        if step % args.save_every == 0 or step == args.steps:
            save_ckpt(args.out, step, modules, opt, ema, {"config": cfg.to_dict(), "args": vars(args)})
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
