"""VGT-AE training, two stages (paper §3.2; reference notes §2).

Stage 1, semantic-preserving reconstruction: encoder + mlp1 (init from stage 0), projector and decoder
train together on
    L = MSE(x, x_hat) + lambda_edge * L1(grad x, grad x_hat) + lambda_distill * MSE(E(x), E_teacher(x)),
where E is ViT + pixel shuffle + mlp1 and E_teacher its frozen stage-0 copy (lambda_distill = 1.0). The
edge term stands in for the reference's LPIPS + GAN (no pretrained perceptual nets here): flat shapes need
sharp edges more than texture. Latents are not normalised in stage 1.

Stage 2, latent regularisation: encoder + mlp1 frozen; z = LayerNorm_per_token(phi(E(x))) + sigma * eps,
the projector phi and the decoder train on the pixel terms. sigma is fixed (default 0.1, the paper's) or,
with --noise-uniform, drawn per sample from U[0, sigma] as the reference does.

    cd native-models
    /usr/bin/python3 -m vgt.train.ae --stage 1 --stage0 runs/stage0/ckpt.pt --out runs/ae1
    /usr/bin/python3 -m vgt.train.ae --stage 2 --init runs/ae1/ckpt.pt --out runs/ae2 --sigma 0.1
"""
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..shapes.score import check, detect, parse_prompt
from ..vgtae import VGTAE, latent_layer_norm
from .encode_latents import load_ae
from .common import (EMA, Logger, autocast, base_parser, float_layer_norms, load_ckpt, load_weights, make_optimizer,
                     project, save_ckpt, semantic_features, set_lr, setup, shapes_batch, to_uint8, tokens_to_grid,
                     trainable)


def edge_loss(x, y, w=None):
    """L1 between horizontal and vertical finite differences (weighted per pixel by w [B,1,H,W] if given)."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    if w is None:
        return F.l1_loss(dx(x), dx(y)) + F.l1_loss(dy(x), dy(y))
    return (weighted_mean((dx(x) - dx(y)).abs(), w[..., :, 1:]) + weighted_mean((dy(x) - dy(y)).abs(), w[..., 1:, :]))


def weighted_mean(err, w):
    return (err * w).mean() / w.mean()


def object_weights(x, alpha, reach=2):
    """Shape-aware pixel weights: 1 on background, 1 + alpha on object pixels and within `reach` px of them.
    Objects cover ~7 % of a scene, so plain MSE is mostly background; this puts the loss on the pixels whose
    outline the scorer reads. Background = the image's corner colour (Shapes World's flat white or black)."""
    bg = x[:, :, :1, :1]
    obj = ((x - bg).abs().amax(1, keepdim=True) > 0.1).float()
    obj = F.max_pool2d(obj, 2 * reach + 1, stride=1, padding=reach)
    return 1.0 + alpha * obj


def encode_latents(ae, images, stage, sigma=0.0, noise_uniform=False, generator=None):
    """The latent the decoder sees in a stage: (z grid, semantic features)."""
    feats = semantic_features(ae, images)
    z = project(ae, feats)
    if stage >= 2:
        z = latent_layer_norm(z, ae.c.latent_ln_eps)
        if sigma > 0:
            s = sigma * (torch.rand(z.shape[0], 1, 1, generator=generator) if noise_uniform else torch.ones(1))
            z = z + (s * torch.randn(z.shape, generator=generator)).to(z.device)
    return tokens_to_grid(z, ae.c.grid), feats


def psnr(x, y):
    """PSNR in dB of uint8 images (per image, then mean)."""
    mse = ((x.astype(np.float64) - y.astype(np.float64)) ** 2).reshape(len(x), -1).mean(1)
    return float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))))


def shapes_pass_rate(images, captions):
    return float(np.mean([check(detect(im), parse_prompt(c), im.shape[0]) for im, c in zip(images, captions)]))


def main(argv=None):
    p = base_parser(__doc__, "ae")
    p.add_argument("--stage", type=int, choices=(1, 2), required=True)
    p.add_argument("--stage0", help="stage 1: stage-0 checkpoint (encoder + mlp1 init and teacher)")
    p.add_argument("--init", help="stage 2: the stage-1 checkpoint, or any VGT-AE to fine-tune (an AE checkpoint, an "
                                  "assembled or rebuilt vgt-checkpoint: python -m vgt.bundle DIR --rebuild OUT.pt)")
    p.add_argument("--shape-weight", type=float, default=0.0,
                   help="alpha of the shape-aware loss: pixel terms weigh 1 + alpha on and next to objects (0: plain)")
    p.add_argument("--local-window", type=int,
                   help="ViT attention window in patches (config ae.vit.local_window; 0 = global): local latents")
    p.add_argument("--lambda-distill", type=float, default=1.0)
    p.add_argument("--lambda-edge", type=float, default=0.5)
    p.add_argument("--encoder-lr-mult", type=float, default=0.5)
    p.add_argument("--sigma", type=float, default=0.1, help="stage 2 latent noise")
    p.add_argument("--noise-uniform", action="store_true", help="stage 2: sigma ~ U[0, --sigma] per sample")
    p.add_argument("--freeze-projector", action="store_true",
                   help="stage 2: freeze the projector too (latents final after stage 1, so QueryAR can train "
                        "on them while the decoder adapts: the CPU plan)")
    p.add_argument("--train-encoder", action="store_true",
                   help="stage 2: train ViT + mlp1 too (fine-tuning a whole AE on normalised, noisy latents)")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--eval-batch", type=int, default=64)
    args = p.parse_args(argv)
    cfg = setup(args)
    init = load_ae(args.init) if args.init else None
    if args.local_window is not None:
        cfg.ae.vit.local_window = args.local_window
    elif init is not None:  # a fine-tune keeps the encoder it starts from
        cfg.ae.vit.local_window = init[1].ae.vit.local_window
    ae = VGTAE(cfg.ae)
    teacher = None
    if args.stage == 1:
        if init is not None:
            p.error("--init is for --stage 2; stage 1 starts from --stage0")
        if args.stage0:
            sd, _ = load_weights(args.stage0, "ae")
            enc = {k: v for k, v in sd.items() if k.startswith(("encoder.", "mlp1."))}
            missing = ae.load_state_dict(enc, strict=False)
            assert not missing.unexpected_keys, missing.unexpected_keys
        teacher = copy.deepcopy(ae).eval()
        for q in teacher.parameters():
            q.requires_grad_(False)
        enc_params = list(ae.encoder.parameters()) + list(ae.mlp1.parameters())
        rest = list(ae.down_blocks.parameters()) + list(ae.down_mlp.parameters()) + list(ae.decoder.parameters())
        groups = [(enc_params, args.encoder_lr_mult), (rest, 1.0)]
    else:
        if not args.init:
            p.error("--stage 2 needs --init (the stage-1 checkpoint)")
        ae.load_state_dict(init[0].state_dict())
        frozen = [] if args.train_encoder else list(ae.encoder.parameters()) + list(ae.mlp1.parameters())
        if args.freeze_projector:
            frozen += list(ae.down_blocks.parameters()) + list(ae.down_mlp.parameters())
        for q in frozen:
            q.requires_grad_(False)  # E_vlm frozen: only the projector (unless frozen too) and the decoder move
        groups = [(trainable(ae.parameters()), 1.0)]
    dev = torch.device(args.device)
    ae.to(dev)
    if teacher is not None:
        teacher.to(dev)
    opt = make_optimizer(groups, args)
    if args.bf16:
        float_layer_norms(ae)
    ema = EMA(ae, args.ema)
    modules = {"ae": ae}
    step = 0 if args.fresh else load_ckpt(args.out, modules, opt, ema)
    log = Logger(args.out, f"ae{args.stage}")
    S = cfg.ae.image_size
    if step == 0:
        log.log(event="start", config=args.config, stage=args.stage,
                trainable_params=sum(q.numel() for q in trainable(ae.parameters())))
    t_last = time.time()
    params = trainable(ae.parameters())
    while step < args.steps:
        lr = set_lr(opt, step, args)
        batch = shapes_batch(args.seed, step, args.batch, S, stream=2 + args.stage)
        x = batch["images"].to(dev)
        ae.train()
        if args.stage == 2:
            ae.encoder.train(args.train_encoder)
        g = torch.Generator().manual_seed(args.seed * 1000003 + step)
        with autocast(args, dev):
            z, feats = encode_latents(ae, x, args.stage, args.sigma, args.noise_uniform, g)
            x_hat = ae.decode(z)
        x_hat, feats = x_hat.float(), feats.float()
        w = object_weights(x, args.shape_weight) if args.shape_weight > 0 else None
        l_mse = F.mse_loss(x_hat, x) if w is None else weighted_mean((x_hat - x) ** 2, w)
        l_edge = edge_loss(x_hat, x, w)
        loss = l_mse + args.lambda_edge * l_edge
        m = {"l_mse": l_mse.item(), "l_edge": l_edge.item()}
        if teacher is not None and args.lambda_distill > 0:
            with torch.no_grad():
                t_feats = semantic_features(teacher, x)
            l_distill = F.mse_loss(feats, t_feats)
            loss = loss + args.lambda_distill * l_distill
            m["l_distill"] = l_distill.item()
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
            res = evaluate_batch(ae, ema, args, S)
            log.log(step=step, **res)
        if step % args.save_every == 0 or step == args.steps:
            save_ckpt(args.out, step, modules, opt, ema, {"config": cfg.to_dict(), "args": vars(args),
                                                          "stage": args.stage})
    log.log(event="done", step=step)


@torch.no_grad()
def evaluate_batch(ae, ema, args, S):
    """PSNR and ShapesEval pass rate of EMA reconstructions of a fixed held-out batch (train=False scenes)."""
    ev = copy.deepcopy(ae)
    ev.load_state_dict(ema.shadow)
    ev.eval()
    vb = shapes_batch(args.seed, 0, args.eval_batch, S, stream=1, train=False)
    z, _ = encode_latents(ev, vb["images"].to(args.device), args.stage)  # no noise at evaluation
    rec = to_uint8(ev.decode(z))
    return {"eval_psnr": psnr(rec, vb["uint8"]), "eval_shapes_pass": shapes_pass_rate(rec, vb["captions"])}


if __name__ == "__main__":
    main()
