"""QueryAR training on pre-encoded latents (paper §3.3; reference notes §3-4).

Each sequence is [template(caption) | <img> | q_pi1, z_pi1, q_pi2, z_pi2, ...] for a random order pi
(one per batch, as the reference), and the flow-matching head is trained on the LM's hidden state at every
position query: x_t = t z + (1 - t) eps, target v = z - eps. Captions are dropped to the unconditional
prompt 10% of the time (classifier-free guidance). Timesteps are logit-normal, shifted by the paper's
dimension-adaptive rule t_m = a t / (1 + (a - 1) t) with a = sqrt(m / 4096), m = h * w * d_z (for the
shapes config m = 16*16*16 = 4096, so a = 1: no shift); --time-shift overrides a.

    cd native-models
    /usr/bin/python3 -m vgt.train.ar --latents runs/latents --out runs/ar --steps 50000 --batch 32
"""
import copy
import math
import os
import time

import torch
import torch.nn as nn

from ..config import ECHO_TEMPLATE
from ..queryar import IMAGE_POSITIONS, QueryAR, prepare_text_batch, time_shift
from ..sampler import make_order
from ..shapes.grammar import COLOR_NAMES, SHAPES, parse_prompt, swap_shapes
from ..tokenizer import PHRASES, tokenizer_for
from ..vgtae import group_latents
from .common import EMA, RUNS, Logger, autocast, base_parser, float_layer_norms, load_ckpt, make_optimizer, save_ckpt, set_lr, setup, step_rng
from .assemble import LATENT_FIELDS
from .encode_latents import load_labels, load_latents
from .evaluate import load_generator

REF_DIM = 4096


def dimension_shift(cfg):
    """alpha = sqrt(m / n) with m the latent dimension of one image and n = 4096 (paper eq. after (8))."""
    return math.sqrt(cfg.grid[0] * cfg.grid[1] * cfg.d_z / REF_DIM)


def init_generator(model: QueryAR, seed=0):
    """GPT-style init: N(0, 0.02) linears and embeddings, residual outputs scaled by 1/sqrt(2 L); the flow
    head's own init (zero adaLN and output layers); the query tables keep their constructor init."""
    torch.manual_seed(seed)
    L = model.c.lm.layers
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            std = 0.02 / math.sqrt(2 * L) if name.endswith(("o_proj", "down_proj")) else 0.02
            nn.init.normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
    model.head.init_weights()
    return model


def object_weight(z, probe_set, alpha):
    """Per-token loss weights [B,h,w]: 1 + alpha where the probe set's linear object classifier calls the latent an
    object token (accuracy 0.997 on AE B's latents), so the ~7 % object tokens are not drowned by background."""
    return 1.0 + alpha * object_mask(z, probe_set) if alpha else None


def object_mask(z, probe_set):
    """1.0 where the probe set's linear object classifier calls a latent of z [B, d_z, h, w] an object token: [B,h,w]."""
    w, b = probe_set["classifier"]
    return ((z.permute(0, 2, 3, 1).float() @ w.to(z.device) + b.to(z.device)) > 0).float()


class AttrHead(nn.Module):
    """Linear read-outs of the colour and the shape of a cell's object (class 0: no object) from the flow head's
    condition, for `--attr-weight`."""

    def __init__(self, width):
        super().__init__()
        self.colour = nn.Linear(width, len(COLOR_NAMES) + 1)
        self.shape = nn.Linear(width, len(SHAPES) + 1)

    def loss(self, cond, labels):
        """Mean cross-entropy over cells of both attributes; labels {colour, shape} [B, N], -1 = no object."""
        return sum(nn.functional.cross_entropy(getattr(self, a)(cond).flatten(0, 1), (labels[a] + 1).flatten())
                   for a in ("colour", "shape")) / 2


def caption_binding_labels(caption):
    """For each colour (COLOR_NAMES): 0 when the prompt does not name it, 1 + the index of the shape it gives it,
    -100 (ignored) when it gives it two shapes ("a red triangle below a red circle")."""
    parsed = parse_prompt(caption)
    out = [0] * len(COLOR_NAMES)
    for colour, shape in (parsed["objects"] if parsed else []):
        i, lab = COLOR_NAMES.index(colour), 1 + SHAPES.index(shape)
        out[i] = lab if out[i] in (0, lab) else -100
    return out


def caption_readout_loss(model, readout, tok, captions, labels, img_ids, dev):
    """Cross-entropy of the caption read-out (see --caption-weight) over the colours of the batch's prompts (never
    dropped to the unconditional one here: the read-out asks what a prompt says); labels [B, colours] as
    caption_binding_labels gives them."""
    ids, mask = prepare_text_batch(tok, captions)
    state = model.caption_state(ids.to(dev), mask.to(dev), img_ids)
    logits = readout(state.float()).reshape(len(captions), len(COLOR_NAMES), len(SHAPES) + 1)
    labels = labels.to(dev)
    if (labels == -100).all():
        return None
    return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)


def binding_contrast(model, tok, idx, captions, swapped, z, probe_set, img_ids, order, args, seed,
                     time_shift_fn=None):
    """The binding contrast of up to --binding-max sequences of the batch whose captions have a shape-swapped
    variant (`grammar.swap_shapes`): relu((1 + margin) L_true - L_swap), L the flow loss of the object tokens with
    the true and the swapped caption under the same noise, t, context noise and order (one generator state, replayed).
    The plain loss barely depends on which colour takes which shape (the probe `binding_*` is 1.00: a ~7 % share of
    tokens, a small part of each latent); this term was meant to make the generator read the pairing, and measured, it
    did not (TRAINING.md, `bindc`). None when no sequence of the batch has a swap."""
    sel = [j for j, i in enumerate(idx) if swapped[i] is not None][:args.binding_max]
    if not sel:
        return None
    zs = z[sel]
    obj = object_mask(zs, probe_set)
    keep = obj.flatten(1).sum(1) > 0
    if not keep.any():
        return None
    zs, obj = zs[keep], obj[keep]
    sel = [j for j, k in zip(sel, keep.tolist()) if k]
    g = torch.Generator().manual_seed(seed + 7)
    state = g.get_state()
    losses = []
    for caps in ([captions[idx[j]] for j in sel], [swapped[idx[j]] for j in sel]):
        ids, mask = prepare_text_batch(tok, caps)
        g.set_state(state)
        losses.append(model.ar_loss(ids.to(z.device), mask.to(z.device), zs, img_ids, generator=g,
                                    time_shift_fn=time_shift_fn, order=order,
                                    diffusion_batch_mul=args.diffusion_batch_mul, ctx_noise=args.ctx_noise,
                                    token_weight=obj))
    l_true, l_swap = losses
    return torch.relu((1 + args.binding_margin) * l_true - l_swap)


def ema_copy(model, ema):
    """The EMA weights in a CPU copy of the model, for evaluation."""
    gen = copy.deepcopy(model).cpu()
    gen.load_state_dict({k: v.cpu() for k, v in ema.shadow.items()})
    return gen.eval()


EMBED_KEY = "lm.embed_tokens.weight"


def phrase_rows(emb, tok, seed):
    """A word-vocabulary embedding grown by the phrase tokens: each phrase's row starts as its two words' rows
    ((colour + shape) / sqrt 2, so it first means what the words meant) plus noise of half the rows' spread, so
    that "red circle" + "blue square" no longer sums to "red square" + "blue circle"."""
    n_words = tok.vocab_size - len(PHRASES)
    if emb.shape[0] != n_words:
        raise ValueError(f"embedding of {emb.shape[0]} rows; the word vocabulary has {n_words}")
    g = torch.Generator().manual_seed(seed)
    words = [[tok.ids[w] for w in ph.split()] for ph in PHRASES]
    new = torch.stack([(emb[a] + emb[b]) / math.sqrt(2) for a, b in words])
    new = new + 0.5 * emb.std() * torch.randn(new.shape, generator=g)
    return torch.cat([emb, new.to(emb.dtype)])


def main(argv=None):
    p = base_parser(__doc__, "ar")
    p.set_defaults(batch=32, lr=5e-4, warmup=500, steps=50000)
    p.add_argument("--latents", default=os.path.join(RUNS, "latents"))
    p.add_argument("--limit", type=int, default=None, help="use only the first N latents")
    p.add_argument("--cond-drop", type=float, default=0.1)
    p.add_argument("--time-shift", type=float, default=None, help="override the dimension-adaptive shift")
    p.add_argument("--diffusion-batch-mul", type=int, default=4, help="flow-head samples per query")
    p.add_argument("--ctx-noise", type=float, default=0.0,
                   help="max noise level on the context latents (per sequence U[0, x]; 0: off, as the paper)")
    p.add_argument("--ema", type=float, default=0.9995)
    p.add_argument("--ae", default=None, help="AE checkpoint: enables the periodic generation eval")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--eval-prompts", type=int, default=48)
    p.add_argument("--positions", choices=IMAGE_POSITIONS, default="sequence",
                   help="RoPE positions of image tokens: sequence index (the reference), grid cell, or the cell's "
                        "(row, column) under 2-D RoPE (TRAINING.md)")
    p.add_argument("--raster-p", type=float, default=0.0,
                   help="share of batches trained in raster order instead of a random one (with --positions grid the "
                        "neighbour offsets are the same in both, so what raster teaches carries over to any order)")
    p.add_argument("--order", choices=("random", "coarse"), default="random",
                   help="training order (and the model's default sampling order): random, or coarse (the stride-2 "
                        "lattice first, then the rest; TRAINING.md)")
    p.add_argument("--latent-group", type=int, default=1,
                   help="generator tokens of G x G AE latent cells (config ae.latent_group; the latents on disk stay "
                        "per cell): 2 turns the 8x8x16 grid into 4x4x64")
    p.add_argument("--probe-set", default=None, help="probe set (vgt.train.probes build): geometry probes in the log")
    p.add_argument("--probe-every", type=int, default=500)
    p.add_argument("--object-weight", type=float, default=0.0,
                   help="object tokens (by the probe set's object classifier) weigh 1 + this in the flow loss; 0: off")
    p.add_argument("--parallel-p", type=float, default=0.0,
                   help="share of batches laid out as partial-parallel sampling (QueryAR.build_sequence group > 1)")
    p.add_argument("--parallel-k", type=int, nargs="+", default=[2, 4, 8],
                   help="tokens per step of those batches, one drawn per batch")
    p.add_argument("--binding-weight", type=float, default=0.0,
                   help="weight of the binding contrast: on scenes of two objects of different shapes, the object "
                        "tokens' loss with the true caption must be (1 + --binding-margin) x below the loss with the "
                        "shape-swapped caption (same noise, t, order); 0: off (TRAINING.md, binding)")
    p.add_argument("--binding-margin", type=float, default=0.1)
    p.add_argument("--binding-max", type=int, default=4, help="sequences of a batch in the binding contrast")
    p.add_argument("--attr-weight", type=float, default=0.0,
                   help="weight of the attribute loss: a linear probe on each flow-head condition predicts the colour "
                        "and the shape of the object in its cell (or none) by cross-entropy; the latents need cell "
                        "labels (encode_latents). Trains the generator to say what it draws where; 0: off")
    p.add_argument("--caption-weight", type=float, default=0.0,
                   help="weight of the caption read-out: from the LM's state at <img> (the prompt alone), a linear "
                        "read-out names, for each colour, the shape the prompt gives it (or none), by cross-entropy; "
                        "teaches the LM which colour takes which shape before any image token; 0: off")
    p.add_argument("--phrase-tokens", action="store_true",
                   help="one token per colour-shape phrase (vgt.tokenizer.phrase_tokenizer), so binding which colour "
                        "takes which shape is in the vocabulary; with --init from a word-vocabulary generator, the "
                        "phrase rows start from their words' embeddings (TRAINING.md, binding)")
    p.add_argument("--echo-prompt", action="store_true",
                   help="say the prompt twice in the template (config.ECHO_TEMPLATE), so that every token of the "
                        "second copy sees the whole prompt under causal attention (the relation and both objects); "
                        "the bundle's prompt.template carries it")
    p.add_argument("--init", default=None,
                   help="start from these generator weights (a QueryAR checkpoint's EMA, or an assembled or rebuilt "
                        "vgt-checkpoint) with a fresh optimizer, warmup and schedule; ignored when resuming")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="wall-clock budget of this invocation: once spent, save the checkpoint and stop (resumable)")
    args = p.parse_args(argv)
    cfg = setup(args)
    cfg.image_positions = args.positions
    cfg.sampling.order = args.order
    cfg.ae.latent_group = args.latent_group
    probe_set = torch.load(args.probe_set) if args.probe_set else None
    if (args.object_weight or args.binding_weight) and probe_set is None:
        p.error("--object-weight and --binding-weight need --probe-set (its object classifier tells object tokens)")
    cfg.text_phrases = args.phrase_tokens
    if args.echo_prompt:
        cfg.prompt_template = ECHO_TEMPLATE
    tok = tokenizer_for(cfg)
    cfg.lm.vocab_size = tok.vocab_size
    z_all, captions, _ = load_latents(args.latents, args.limit)
    z_all = group_latents(z_all, args.latent_group)
    labels = None
    if args.attr_weight:
        if args.latent_group != 1:
            p.error("--attr-weight needs per-cell tokens (--latent-group 1)")
        labels = load_labels(args.latents, args.limit)
    swapped = [swap_shapes(c) for c in captions] if args.binding_weight else None
    cap_labels = torch.tensor([caption_binding_labels(c) for c in captions]) if args.caption_weight else None
    assert z_all.shape[1:] == (cfg.d_z, *cfg.grid), (z_all.shape, cfg.d_z, cfg.grid)
    model = init_generator(QueryAR(cfg), args.seed)
    dev = torch.device(args.device)
    model.to(dev)
    modules = {"gen": model}
    if args.attr_weight:  # a training-only probe: it does not travel with the generator
        modules["attr"] = AttrHead(cfg.head.width).to(dev)
    if args.caption_weight:  # likewise
        modules["caption"] = nn.Linear(cfg.lm.hidden, len(COLOR_NAMES) * (len(SHAPES) + 1)).to(dev)
    opt = make_optimizer([q for m in modules.values() for q in m.parameters()], args)
    if args.bf16:
        float_layer_norms(model)
    if args.init and not os.path.exists(os.path.join(args.out, "ckpt.pt")):
        init = load_generator(args.init)
        ours, theirs = cfg.to_dict(), init.c.to_dict()
        # what the weights mean beyond their shapes (load_state_dict checks those): positions and latents
        diff = [k for k in ("image_positions", "head") if ours[k] != theirs[k]]
        if (theirs["image_positions"], ours["image_positions"]) == ("grid", "grid2d"):
            # the one position change we allow: same weights and text positions, image items relearn their offsets
            diff.remove("image_positions")
            print("[ar] --init: a grid generator continued under 2-D RoPE (grid2d)", flush=True)
        diff += [f"lm.{k}" for k in ours["lm"] if k != "vocab_size" and ours["lm"][k] != theirs["lm"][k]]
        diff += [f"ae.{k}" for k in ("latent_group",) + LATENT_FIELDS if ours["ae"][k] != theirs["ae"][k]]
        sd = init.state_dict()
        if cfg.text_phrases and not init.c.text_phrases:  # word -> phrase vocabulary: grow the embedding
            sd = dict(sd, **{EMBED_KEY: phrase_rows(sd[EMBED_KEY], tok, args.seed)})
        elif init.c.text_phrases != cfg.text_phrases or init.c.lm.vocab_size != cfg.lm.vocab_size:
            diff.append("the vocabulary (only word -> phrase vocabulary is supported)")
        if diff:
            p.error(f"--init {args.init}: its generator differs from this run's config in {', '.join(diff)}")
        model.load_state_dict(sd)
    ema = EMA(model, args.ema)
    step = 0 if args.fresh else load_ckpt(args.out, modules, opt, ema)
    log = Logger(args.out, "ar")
    alpha = args.time_shift if args.time_shift is not None else dimension_shift(cfg)
    shift_fn = (lambda t: time_shift(t, alpha)) if alpha != 1.0 else None
    if step == 0:
        log.log(event="start", config=args.config, params=sum(q.numel() for q in model.parameters()),
                latents=len(captions), time_shift=alpha)
    img_ids = tok.img_token_ids()
    t_last = t_start = time.time()
    while step < args.steps:
        lr = set_lr(opt, step, args)
        rng = step_rng(args.seed, step, stream=9)
        idx = rng.integers(0, len(captions), size=args.batch)
        g = torch.Generator().manual_seed(args.seed * 1000003 + step)
        ids, mask = prepare_text_batch(tok, [captions[i] for i in idx], args.cond_drop, g)
        z = z_all[torch.from_numpy(idx)].float().to(dev)
        ids, mask = ids.to(dev), mask.to(dev)
        model.train()
        raster = args.raster_p > 0 and step_rng(args.seed, step, stream=10).random() < args.raster_p
        n_cells = cfg.grid[0] * cfg.grid[1]
        if raster:
            order = torch.arange(n_cells)
        elif args.order == "coarse":
            order = make_order(n_cells, "coarse", args.seed * 1000003 + step, cfg.grid[1])
        else:
            order = None
        prng = step_rng(args.seed, step, stream=11)
        group = int(prng.choice(args.parallel_k)) if args.parallel_p > 0 and prng.random() < args.parallel_p else 1
        extra = {}
        with autocast(args, dev):
            loss = model.ar_loss(ids, mask, z, img_ids, generator=g, time_shift_fn=shift_fn, order=order,
                                 diffusion_batch_mul=args.diffusion_batch_mul, ctx_noise=args.ctx_noise,
                                 token_weight=object_weight(z, probe_set, args.object_weight), group=group,
                                 return_cond=labels is not None)
            if labels is not None:
                loss, cond, used = loss
                sel = torch.from_numpy(idx)
                attr = modules["attr"].loss(cond.float(), {a: v[sel][:, used].long().to(dev)
                                                           for a, v in labels.items()})
                extra["attr"] = round(attr.item(), 6)
                loss = loss + args.attr_weight * attr
        if args.caption_weight:
            with autocast(args, dev):
                cap = caption_readout_loss(model, modules["caption"], tok, [captions[i] for i in idx],
                                           cap_labels[torch.from_numpy(idx)], img_ids, dev)
            if cap is not None:
                extra["caption"] = round(cap.item(), 6)
                loss = loss + args.caption_weight * cap
        loss = loss.float()
        if args.binding_weight:
            with autocast(args, dev):
                bind = binding_contrast(model, tok, idx, captions, swapped, z, probe_set, img_ids, order, args,
                                        seed=args.seed * 1000003 + step, time_shift_fn=shift_fn)
            if bind is not None:
                extra["binding"] = round(bind.item(), 6)
                loss = loss + args.binding_weight * bind.float()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        ema.update(model)
        step += 1
        if step % args.log_every == 0 or step == args.steps:
            dt = (time.time() - t_last) / args.log_every
            t_last = time.time()
            log.log(step=step, loss=loss.item(), grad_norm=float(gn), lr=lr, sec_per_step=dt,
                    seqs_seen=step * args.batch, **extra)
        if step % args.save_every == 0 or step == args.steps:
            save_ckpt(args.out, step, modules, opt, ema, {"config": cfg.to_dict(), "args": vars(args)})
        if probe_set is not None and (step % args.probe_every == 0 or step == args.steps):
            from .probes import run_probes
            log.log(step=step, probes=run_probes(ema_copy(model, ema), probe_set))
        if args.ae and (step % args.eval_every == 0 or step == args.steps):
            from .evaluate import generation_eval
            res = generation_eval(ema_copy(model, ema), args.ae, ks=(4,), limit=args.eval_prompts, steps=10)
            log.log(step=step, **{f"eval_k{k}_{m}": r[m] for k, r in res.items()
                                  for m in ("overall", "drawn", "colour_named", "shape_of_colour")})
        if args.max_minutes is not None and step < args.steps and time.time() - t_start > 60 * args.max_minutes:
            save_ckpt(args.out, step, modules, opt, ema, {"config": cfg.to_dict(), "args": vars(args)})
            log.log(event="time budget spent", step=step, max_minutes=args.max_minutes, seqs_seen=step * args.batch)
            break
    log.log(event="done", step=step)


if __name__ == "__main__":
    main()
