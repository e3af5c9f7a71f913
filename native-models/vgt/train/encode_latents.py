"""Pre-encode Shapes World training scenes into VGT-AE latents once, for QueryAR training.

Shard i holds `--shard` scenes drawn by the training sampler (held-out combinations never appear) from
the generator seeded by (seed, i), encoded by the stage-2 AE exactly as at inference (per-token LayerNorm,
no noise): {"z": float16 [n, d_z, g, g], "captions", "categories"}. Existing shards are skipped, so the
command resumes; --worker/--workers split the shards over processes run side by side.

    cd native-models
    /usr/bin/python3 -m vgt.train.encode_latents --ae runs/ae2/ckpt.pt --out runs/latents --n 200000
"""
import argparse
import os
import time

import numpy as np
import torch

from ..config import VGTConfig
from ..shapes import world
from ..shapes.grammar import CATEGORIES
from ..vgtae import VGTAE
from .common import RUNS, load_weights, to_tensor


def load_ae(path, use_ema=True):
    """An AE checkpoint's EMA weights, a whole-model vgt-checkpoint's VGT-AE (vgt.train.assemble, or a bundle
    rebuilt by `python -m vgt.bundle DIR --rebuild OUT.pt`), or a bundle folder's VGT-AE graphs (run through ORT)."""
    if os.path.isdir(path):
        import json
        from ..config import get_config
        from ..ortnode import BundleAE
        with open(os.path.join(path, "vgt-bundle.json")) as f:
            return BundleAE(path), get_config(json.load(f)["architecture"]["config"])
    ck = torch.load(path, map_location="cpu")
    if ck.get("format") == "vgt-checkpoint":
        sd = {k[len("vgt_ae."):]: v for k, v in ck["model"].items() if k.startswith("vgt_ae.")}
    else:
        sd, ck = load_weights(ck, "ae", use_ema)
    cfg = VGTConfig.from_dict(ck["config"])
    ae = VGTAE(cfg.ae)
    ae.load_state_dict(sd)
    return ae.eval(), cfg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ae", default=os.path.join(RUNS, "ae2", "ckpt.pt"), help="AE checkpoint or bundle folder")
    p.add_argument("--out", default=os.path.join(RUNS, "latents"))
    p.add_argument("--n", type=int, default=200000, help="total scenes")
    p.add_argument("--shard", type=int, default=2000)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--distractor-p", type=float, default=0.2)
    p.add_argument("--worker", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="where the AE encodes (cuda: use a large --batch); scenes render "
                   "on the CPU, so run several --worker processes side by side")
    p.add_argument("--raw", action="store_true", help="stage-1 latents: no per-token LayerNorm (Table-5 arm)")
    p.add_argument("--backfill-labels", action="store_true",
                   help="add the per-cell colour and shape labels to existing shards of --out (no encoding)")
    p.add_argument("--image-size", type=int, default=128,
                   help="--backfill-labels: the scenes' size, for shards that do not record it")
    p.add_argument("--grid", type=int, default=8, help="--backfill-labels: the latent grid, likewise")
    p.add_argument("--categories", nargs="+", choices=CATEGORIES, default=None,
                   help="draw captions from these prompt categories only (uniformly); default: all six, as the "
                        "training sampler does")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.backfill_labels:
        return backfill_labels(args)
    ae, cfg = load_ae(args.ae)
    dev = torch.device(args.device)
    if dev.type != "cpu":
        if not isinstance(ae, torch.nn.Module):
            p.error("--device needs a PyTorch AE (a checkpoint), not a bundle folder")
        ae.to(dev)
    S = cfg.ae.image_size
    os.makedirs(args.out, exist_ok=True)
    n_shards = (args.n + args.shard - 1) // args.shard
    t0 = time.time()
    for i in range(args.worker, n_shards, args.workers):
        path = os.path.join(args.out, f"shard-{i:05d}.pt")
        if os.path.exists(path):
            continue
        n = min(args.shard, args.n - i * args.shard)
        items = shard_scenes(args, i, n, S)
        zs = []
        with torch.no_grad():
            for b in range(0, n, args.batch):
                x = to_tensor([it[0] for it in items[b:b + args.batch]]).to(dev)
                zs.append(ae.encode(x, normalize=not args.raw).half().cpu())
        torch.save({"z": torch.cat(zs), "captions": [it[1] for it in items], "categories": [it[2] for it in items],
                    **scene_cell_labels(items, S, cfg.ae.grid), "ae": os.path.abspath(args.ae), "seed": args.seed,
                    "shard": i, "image_size": S, "grid": cfg.ae.grid}, path + ".tmp")
        os.replace(path + ".tmp", path)
        print(f"shard {i + 1}/{n_shards}: {n} scenes, {time.time() - t0:.0f}s", flush=True)


def shard_scenes(args, i, n, S, render=True):
    """Shard i's scenes, drawn from the generator seeded by (seed, i): [(image, caption, category, objects)]."""
    rng = np.random.default_rng([args.seed, 7, i])
    return [world.sample(rng, S, distractor_p=args.distractor_p, category=pick_category(rng, args.categories),
                         render=render) for _ in range(n)]


def scene_cell_labels(items, S, grid):
    """Per-cell colour and shape class of each scene's objects (-1: no object in the cell), int8 [n, grid * grid]:
    the targets of `ar --attr-weight`."""
    from .probes import cell_labels
    return {f"cell_{a}": torch.from_numpy(np.stack([cell_labels(it[3], S, grid, a) for it in items])).to(torch.int8)
            for a in ("colour", "shape")}


def backfill_labels(args):
    """Add the cell labels to shards written before they were stored: the same scenes, drawn again without
    rendering (pass the seed, categories and distractor share the shards were encoded with; the captions must match)."""
    for path, d in _shards(args.out):
        if "cell_shape" in d:
            continue
        S, grid = d.get("image_size", args.image_size), d.get("grid", args.grid)
        items = shard_scenes(args, d["shard"], len(d["captions"]), S, render=False)
        if d["seed"] != args.seed or [it[1] for it in items] != d["captions"]:
            raise SystemExit(f"{path}: the replayed scenes differ (another --seed, --categories or --distractor-p?)")
        d.update(scene_cell_labels(items, S, grid))
        torch.save(d, path + ".tmp")
        os.replace(path + ".tmp", path)
        print(f"labels: {os.path.basename(path)}", flush=True)


def pick_category(rng, categories):
    """None (the sampler's own uniform draw over all categories, so default shards stay as they were) or one of
    `categories`, drawn uniformly."""
    return None if not categories else categories[int(rng.integers(len(categories)))]


def _shards(path, limit=None):
    """(file path, shard dict) of a latent directory's shards in order, stopping once `limit` scenes are covered."""
    n = 0
    for f in sorted(f for f in os.listdir(path) if f.startswith("shard-") and f.endswith(".pt")):
        d = torch.load(os.path.join(path, f))
        yield os.path.join(path, f), d
        n += len(d["captions"])
        if limit and n >= limit:
            return


def load_labels(path, limit=None):
    """The per-cell colour and shape labels of a latent directory's shards (int8 [N, g * g] each), in
    load_latents' order; SystemExit when a shard has none (encode_latents --backfill-labels adds them)."""
    out = {"colour": [], "shape": []}
    for f, d in _shards(path, limit):
        if "cell_shape" not in d:
            raise SystemExit(f"{f} has no cell labels: run encode_latents --backfill-labels")
        for a in out:
            out[a].append(d[f"cell_{a}"])
    return {a: torch.cat(v)[:limit] if limit else torch.cat(v) for a, v in out.items()}


def load_latents(path, limit=None):
    """All shards of a latent directory: (z float16 [N, d_z, g, g], captions, categories)."""
    zs, caps, cats = [], [], []
    for _, d in _shards(path, limit):
        zs.append(d["z"])
        caps += d["captions"]
        cats += d["categories"]
    if not zs:
        raise FileNotFoundError(f"no latent shards in {path} (run vgt.train.encode_latents first)")
    z = torch.cat(zs)
    if limit:
        z, caps, cats = z[:limit], caps[:limit], cats[:limit]
    return z, caps, cats


if __name__ == "__main__":
    main()
