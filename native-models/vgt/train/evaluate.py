"""Evaluation commands of the Shapes World recipe.

    cd native-models
    # VGT-AE: PSNR / SSIM and ShapesEval of reconstructions of 1,000 held-out renders (target >= 0.95), and the
    # scene-code probe (do background tokens far from every object tell which colours the scene holds?)
    /usr/bin/python3 -m vgt.train.evaluate recon --ae runs/ae2/ckpt.pt --n 1000
    # QueryAR: ShapesEval of generations on the held-out prompt set at tokens-per-step k = 1, 4, 16
    /usr/bin/python3 -m vgt.train.evaluate gen --ar runs/ar/ckpt.pt --ae runs/ae2/ckpt.pt --k 1 4 16
    # QueryAR: teacher-forced loss on a latent shard it never trained on, with its context clean, swapped
    # (another scene's latents), noised, or without the caption: how much it leans on its own tokens
    /usr/bin/python3 -m vgt.train.evaluate context --ar runs/ar/ckpt.pt --shard runs/latents-val/shard-00000.pt
    # QueryAR: the geometry probes (vgt/train/probes.py; the probe set is built once per AE)
    /usr/bin/python3 -m vgt.train.evaluate context --ar runs/ar/ckpt.pt --probe-set runs/probe-set.pt

Held-out renders come from the sampler with train=False (held-out combinations allowed) on a seed stream
no training stage draws from. Results go to <checkpoint dir>/eval-*.json with a PNG grid of examples.
"""
import argparse
import copy
import dataclasses
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..config import VGTConfig
from ..queryar import QueryAR, noised_context, prepare_text_batch
from ..sampler import CFG_SCHEDULES, ORDERS, SampleSettings, TorchFns, sample_latents
from ..shapes.prompts import DEFAULT_OUT as EVAL_PROMPTS
from ..shapes.prompts import load as load_prompts
from ..shapes.grammar import swap_shapes
from ..shapes.score import detect, check, parse_prompt, summarize
from ..tokenizer import tokenizer_for
from .common import load_weights, shapes_batch, to_uint8
from .encode_latents import load_ae

EVAL_SEED = 90210  # the held-out render stream; no training stage uses it


def _gauss(size=11, sigma=1.5):
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).view(1, 1, size, size)


def ssim(a, b, chunk=50):
    """Mean SSIM of uint8 [B,S,S,3] batches (Gaussian window 11 / sigma 1.5, per channel, data range 255), computed
    `chunk` images at a time (float64 maps of 1,000 images at once took ~16 GB)."""
    if len(a) > chunk:
        return float(sum(_ssim(a[i:i + chunk], b[i:i + chunk]) * len(a[i:i + chunk]) for i in range(0, len(a), chunk))
                     / len(a))
    return _ssim(a, b)


def _ssim(a, b):
    x = torch.from_numpy(a).permute(0, 3, 1, 2).double()
    y = torch.from_numpy(b).permute(0, 3, 1, 2).double()
    C = x.shape[1]
    w = _gauss().expand(C, 1, 11, 11)
    f = lambda t: F.conv2d(t, w, groups=C)  # noqa: E731
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def psnr(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(1)
    return float(np.mean(10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))))


def save_grid(images, path, cols=8):
    images = list(images)
    rows = (len(images) + cols - 1) // cols
    S = images[0].shape[0]
    grid = np.full((rows * S, cols * S, 3), 128, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * S:(r + 1) * S, c * S:(c + 1) * S] = im
    Image.fromarray(grid).save(path)


@torch.no_grad()
@torch.no_grad()  # without it every batch's autograd graph stays alive: ~11 GB for 1,000 renders
def recon_eval(ae_path, n=1000, batch=50, grid_path=None):
    from ..shapes.grammar import COLOR_NAMES
    from .probes import cell_coverage, scene_code_probe
    ae, cfg = load_ae(ae_path)
    S, grid = cfg.ae.image_size, cfg.ae.grid
    origs, recs, caps, cats, zs, covs, cols = [], [], [], [], [], [], []
    for b in range(0, n, batch):
        vb = shapes_batch(EVAL_SEED, b // batch, min(batch, n - b), S, stream=0, train=False)
        z = ae.encode(vb["images"])
        recs.append(to_uint8(ae.decode(z)))
        zs.append(z.float())
        origs.append(vb["uint8"])
        caps += vb["captions"]
        cats += vb["categories"]
        covs += [cell_coverage(o, S, grid) for o in vb["objects"]]
        cols += [[any(x["color"] == c for x in o) for c in COLOR_NAMES] for o in vb["objects"]]
    origs, recs = np.concatenate(origs), np.concatenate(recs)
    code = scene_code_probe(torch.cat(zs), torch.from_numpy(np.stack(covs)), torch.tensor(cols))
    verdicts = [check(detect(im), parse_prompt(c), S) for im, c in zip(recs, caps)]
    truth = [check(detect(im), parse_prompt(c), S) for im, c in zip(origs, caps)]
    if grid_path:
        save_grid([im for pair in zip(origs[:16], recs[:16]) for im in pair], grid_path)
    return {"n": n, "psnr": psnr(recs, origs), "ssim": ssim(recs, origs),
            "shapes": summarize(zip(verdicts, cats)), "shapes_ground_truth": summarize(zip(truth, cats)),
            "scene_code": code}


def load_generator(path, use_ema=True):
    """A QueryAR training checkpoint's (EMA) generator, or the `generator.*` of a whole-model vgt-checkpoint (assembled,
    or a bundle rebuilt by `python -m vgt.bundle DIR --rebuild OUT.pt`: the shipped model's probes)."""
    ck = torch.load(path, map_location="cpu")
    if ck.get("format") == "vgt-checkpoint":
        sd = {k[len("generator."):]: v for k, v in ck["model"].items() if k.startswith("generator.")}
    else:
        sd, ck = load_weights(ck, "gen", use_ema)
    model = QueryAR(VGTConfig.from_dict(ck["config"]))
    model.load_state_dict(sd)
    return model.eval()


class DeviceFns(TorchFns):
    """The sampler's five functions on `dev` (the sampler's own tensors stay on the CPU): the KV cache and the head
    condition stay on the device between calls, so each call moves only its new tokens and x."""

    def __init__(self, model, dev):
        super().__init__(model)
        self.dev = dev

    def tables(self, h, w):
        return tuple(t.cpu() for t in super().tables(h, w))

    def embed(self, ids):
        return super().embed(ids.to(self.dev)).cpu()

    def lm_step(self, embeds, mask, pos, past):
        hidden, past = super().lm_step(embeds.to(self.dev), mask.to(self.dev), pos.to(self.dev), past)
        return hidden.cpu(), past

    def latent_in(self, z, pos):
        return super().latent_in(z.to(self.dev), pos.to(self.dev)).cpu()

    def head_cond(self, h):
        return super().head_cond(h.to(self.dev))

    def head_velocity(self, x, t, c):
        return super().head_velocity(x.to(self.dev), t.to(self.dev), c).cpu()


def with_latent_group(ae, group):
    """A PyTorch VGT-AE that takes the generator's tokens: an AE checkpoint is trained per cell (latent_group 1);
    a generator trained with --latent-group G decodes through the same weights with G x G cells per token."""
    c = getattr(ae, "c", None)
    if c is None and group != 1:
        raise ValueError(f"a generator of {group}x{group}-cell tokens needs a PyTorch VGT-AE (an AE or vgt checkpoint)")
    if c is None or c.latent_group == group:
        return ae
    ae = copy.copy(ae)
    ae.c = dataclasses.replace(ae.c, latent_group=group)
    return ae


def drawn_stats(items):
    """What the samples draw, from (detected objects, parsed prompt) pairs: `drawn` is the mean number of detected
    objects per number of objects the prompt asks for (over-drawing shows as drawn > asked); of the detected objects
    whose colour the prompt names, `colour_named` is their share of all detected objects and `shape_of_colour` the
    share with that colour's shape in the prompt (single- and two-object prompts, where a colour names one shape).
    `shape_confusion[asked][detected]` counts those objects by the shape asked and the shape the scorer read, and
    `area_by_shape[detected]` is their mean area in pixels (a shape miss from a too-small object shows there).
    For two-object prompts (and, position): `object_found`, the share of the asked objects drawn (colour and shape),
    `both_found`, the share of prompts with both; with the image size as a third item element, `relation_if_both`,
    the share of position prompts with both drawn whose relation holds (the scorer's rule)."""
    drawn, named, total, shape_ok = {}, 0, 0, []
    confusion, areas = {}, {}
    found, both, relation = [], [], []
    for objs, parsed, *size in items:
        if parsed["kind"] in ("and", "position"):
            hit = [[o for o in objs if (o["color"], o["shape"]) == tuple(p)] for p in parsed["objects"]]
            found += [bool(h) for h in hit]
            both.append(all(hit))
            if parsed["kind"] == "position" and all(hit) and size:
                relation.append(check(objs, parsed, size[0]))
        asked = parsed["count"] or len(parsed["objects"])
        drawn.setdefault(asked, []).append(len(objs))
        shapes = dict(parsed["objects"])
        hits = [o for o in objs if o["color"] in shapes]
        named, total = named + len(hits), total + len(objs)
        if parsed["kind"] in ("object", "and") and len(shapes) == len(parsed["objects"]):
            shape_ok += [o["shape"] == shapes[o["color"]] for o in hits]
            for o in hits:
                row = confusion.setdefault(shapes[o["color"]], {})
                row[o["shape"]] = row.get(o["shape"], 0) + 1
                areas.setdefault(o["shape"], []).append(o["area"])
    return {"drawn": {str(a): round(float(np.mean(v)), 2) for a, v in sorted(drawn.items())},
            "colour_named": round(named / max(total, 1), 3),
            "shape_of_colour": round(float(np.mean(shape_ok)), 3) if shape_ok else None,
            "shape_confusion": {a: dict(sorted(r.items())) for a, r in sorted(confusion.items())},
            "area_by_shape": {k: round(float(np.mean(v)), 1) for k, v in sorted(areas.items())},
            **{k: round(float(np.mean(v)), 3) if v else None
               for k, v in (("object_found", found), ("both_found", both), ("relation_if_both", relation))}}


@torch.no_grad()
def generation_eval(model, ae, ks=(1, 4, 16), prompts_path=EVAL_PROMPTS, limit=None, steps=20, cfg_scale=3.0,
                    seeds=1, batch=16, grid_path=None, latent_ln=True, device="cpu", order=None,
                    cfg_schedule="linear", negative="uncond"):
    """ShapesEval of generations for each tokens-per-step k: {k: {overall, categories, n, seen, heldOut, drawn,
    colour_named, shape_of_colour, seconds}} (drawn_stats).
    negative: the CFG row's prompt, "uncond" (the model's unconditional prompt) or "swap" (the prompt with its two
    objects' shapes exchanged, `grammar.swap_shapes`; other prompts keep the unconditional one).
    device: where the generator and a PyTorch AE run (they are moved there); the sampler's loop stays on the CPU."""
    if isinstance(ae, str):
        ae, _ = load_ae(ae)
    ae = with_latent_group(ae, model.c.ae.latent_group)
    dev = torch.device(device)
    fns = None
    if dev.type != "cpu":
        model, fns = model.to(dev), DeviceFns(model, dev)
        ae = ae.to(dev) if isinstance(ae, torch.nn.Module) else ae
    tok = tokenizer_for(model.c)
    rows = load_prompts(prompts_path)
    if limit:  # an even slice over the (category-grouped) file
        rows = [rows[int(i * len(rows) / limit)] for i in range(limit)]
    out = {}
    for k in ks:
        settings = SampleSettings(steps=steps, cfg=cfg_scale, cfg_schedule=cfg_schedule, tokens_per_step=k,
                                  latent_ln=latent_ln, order=order or model.c.sampling.order)
        t0 = time.time()
        results, shown, seen_objs = [], [], []
        for seed in range(seeds):
            for b in range(0, len(rows), batch):
                chunk = rows[b:b + batch]
                negs = [swap_shapes(r["prompt"]) for r in chunk] if negative == "swap" else None
                z = sample_latents(model, tok, [r["prompt"] for r in chunk], settings, seed=seed * 7919 + b,
                                   order_seed=seed * 104729 + b, fns=fns, negatives=negs)
                imgs = to_uint8(ae.decode(z.to(dev) if fns else z))
                for im, r in zip(imgs, chunk):
                    objs, parsed = detect(im), parse_prompt(r["prompt"])
                    ok = check(objs, parsed, im.shape[0])
                    seen_objs.append((objs, parsed, im.shape[0]))
                    results.append((ok, r["category"], r.get("heldOut", False)))
                    if len(shown) < 48 and seed == 0 and b % (4 * batch) == 0:
                        shown.append(im)
        res = summarize((ok, c) for ok, c, _ in results)
        for name, flag in (("seen", False), ("heldOut", True)):
            sub = [(ok, c) for ok, c, h in results if h == flag]
            res[name] = summarize(sub)["overall"] if sub else None
        res.update(drawn_stats(seen_objs))
        res["seconds"] = time.time() - t0
        out[k] = res
        if grid_path:
            save_grid(shown, grid_path.replace(".png", f"-k{k}.png"))
    return out


@torch.no_grad()
def context_eval(model, shard_path, n=128, orders=3, ts=(0.2, 0.5, 0.8), seed=5):
    """Flow-matching loss per eighth of the generation order, {variant: [8 means], "mean": ...}, for the
    context variants: clean, swapped (each scene sees the next scene's latents as its context), noise σ
    (context + σ N(0, 1), LayerNormed again) and no_caption (the unconditional prompt). Same noise, t and order
    for every variant, so the differences are the context's alone."""
    tok = tokenizer_for(model.c)
    d = torch.load(shard_path)
    z, caps = d["z"][:n].float(), d["captions"][:n]
    B, dz, h, w = z.shape
    N = h * w
    g = torch.Generator().manual_seed(seed)
    variants = ("clean", "swapped", "noise 0.1", "noise 0.3", "no_caption")
    acc = {v: torch.zeros(N) for v in variants}
    text = prepare_text_batch(tok, caps)
    uncond = prepare_text_batch(tok, caps, 1.0)
    for _ in range(orders):
        order = torch.randperm(N, generator=g)
        target = z.flatten(2).transpose(1, 2)[:, order]
        noises = [torch.randn(B, N, dz, generator=g) for _ in ts]
        ctx_noise = torch.randn(z.shape, generator=g)
        for v in variants:
            ctx = z
            if v == "swapped":
                ctx = torch.roll(z, 1, dims=0)
            elif v.startswith("noise"):
                ctx = noised_context(z, float(v.split()[1]), ctx_noise)
            ids, mask = uncond if v == "no_caption" else text
            cond = model.query_cond(ids, mask, ctx, tok.img_token_ids(), order).reshape(B * N, -1)
            for t, eps in zip(ts, noises):
                xt = t * target + (1 - t) * eps
                vel = model.head_velocity(xt.reshape(B * N, dz), torch.full((B * N,), t), cond)
                acc[v] += ((vel.reshape(B, N, dz) - (target - eps)) ** 2).mean((0, 2)) / (orders * len(ts))
    return {v: {"eighths": [round(float(a[i * N // 8:(i + 1) * N // 8].mean()), 4) for i in range(8)],
                "mean": round(float(a.mean()), 4)} for v, a in acc.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recon", help="VGT-AE reconstruction: PSNR, SSIM, ShapesEval")
    r.add_argument("--ae", required=True)
    r.add_argument("--n", type=int, default=1000)
    g = sub.add_parser("gen", help="QueryAR generation: ShapesEval at several tokens-per-step")
    g.add_argument("--ar", required=True)
    g.add_argument("--ae", required=True)
    g.add_argument("--k", type=int, nargs="+", default=[1, 4, 16])
    g.add_argument("--prompts", default=EVAL_PROMPTS)
    g.add_argument("--limit", type=int, default=None, help="evaluate an even subset of the prompts")
    g.add_argument("--steps", type=int, default=20, help="flow-head SDE steps")
    g.add_argument("--cfg", type=float, default=3.0)
    g.add_argument("--cfg-schedule", choices=CFG_SCHEDULES, default="linear",
                   help="linear: the full CFG for the first group, falling to 1 for the last; constant: every group")
    g.add_argument("--seeds", type=int, default=1)
    g.add_argument("--batch", type=int, default=16, help="prompts sampled together (the noise seeds depend on it)")
    g.add_argument("--device", default="cpu", help="cpu or cuda: where the generator and the AE run")
    g.add_argument("--raw", action="store_true", help="use raw instead of EMA generator weights")
    g.add_argument("--order", choices=ORDERS, default=None,
                   help="generation order (default: the model's own, its config's sampling.order)")
    g.add_argument("--negative", choices=("uncond", "swap"), default="uncond",
                   help="the CFG row: the unconditional prompt, or (swap) the prompt with its two objects' shapes "
                        "exchanged, guiding towards the prompt's colour-shape binding")
    g.add_argument("--no-latent-ln", action="store_true",
                   help="the generator was trained on raw stage-1 latents (Table-5 arm): no per-token LayerNorm")
    c = sub.add_parser("context", help="QueryAR: teacher-forced loss with clean, swapped and noised context")
    c.add_argument("--ar", required=True)
    c.add_argument("--shard", default=None, help="a latent shard of scenes the generator never trained on")
    c.add_argument("--probe-set", default=None, help="probe set (vgt.train.probes build): the geometry probes")
    c.add_argument("--n", type=int, default=128)
    for q in (r, g, c):
        q.add_argument("--threads", type=int, default=1)
        q.add_argument("--out", default=None, help="JSON result path (default: next to the checkpoint)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    if args.cmd == "recon":
        out = args.out or os.path.join(os.path.dirname(args.ae), "eval-recon.json")
        res = recon_eval(args.ae, args.n, grid_path=out.replace(".json", ".png"))
    elif args.cmd == "context":
        out = args.out or os.path.join(os.path.dirname(args.ar), "eval-context.json")
        if not (args.shard or args.probe_set):
            p.error("context needs --shard (loss with varied context), --probe-set (geometry probes) or both")
        gen = load_generator(args.ar)
        res = context_eval(gen, args.shard, args.n) if args.shard else {}
        if args.probe_set:
            from .probes import run_probes
            res["probes"] = run_probes(gen, torch.load(args.probe_set))
    else:
        out = args.out or os.path.join(os.path.dirname(args.ar), "eval-gen.json")
        res = generation_eval(load_generator(args.ar, not args.raw), args.ae, args.k, args.prompts, args.limit,
                              args.steps, args.cfg, args.seeds, grid_path=out.replace(".json", ".png"),
                              latent_ln=not args.no_latent_ln, batch=args.batch, device=args.device,
                              order=args.order, cfg_schedule=args.cfg_schedule, negative=args.negative)
        res = {f"k{k}": v for k, v in res.items()}
    res["wall_seconds"] = time.time() - t0
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
