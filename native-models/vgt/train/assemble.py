"""Join the trained VGT-AE and QueryAR generator into one project checkpoint (vgt/checkpoint.py format,
`generator.*` + `vgt_ae.*` + tokenizer), the input of the bundle exporter (vgt.export).

    cd native-models
    /usr/bin/python3 -m vgt.train.assemble --ae runs/ae2/ckpt.pt --ar runs/ar/ckpt.pt --out runs/vgt-shapes.pt
    # the AE of a bundle (e.g. the shipped one), rebuilt from its weights
    /usr/bin/python3 -m vgt.train.assemble --ae bundles/vgt-shapes --ar runs/ar/ckpt.pt --out runs/vgt-shapes.pt
"""
import argparse
import dataclasses
import math
import os

from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import VGTConfig
from ..queryar import VGT
from ..tokenizer import tokenizer_for
from .common import load_weights


def load_ae_weights(ae_path, use_ema=True):
    """VGT-AE weights and config from a training run's checkpoint or from a bundle folder (rebuilt from its own
    weights, so a generator can be retrained on a shipped AE without its training checkpoint): (state dict, AEConfig,
    step or None)."""
    if os.path.isdir(ae_path):
        from ..rebuild import rebuild
        model = rebuild(ae_path).model
        return model.vgt_ae.state_dict(), model.c.ae, None
    ae_sd, ae_ck = load_weights(ae_path, "ae", use_ema)
    return ae_sd, VGTConfig.from_dict(ae_ck["config"]).ae, ae_ck["step"]


def _close(a, b):
    """Configs equal up to float32 rounding (a bundle's rebuilt config reads its eps and means from float32 graphs)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return a == b


# what a generator learned of its AE: the shape of the latents it was trained on (and the LayerNorm on them)
LATENT_FIELDS = ("d_z", "grid", "image_size", "latent_ln_eps")


def assemble(ae_path, ar_path, out, use_ema=True):
    """The AE's own architecture (encoder window, decoder) comes from the AE; the generator needs only latents of the
    shape it was trained on, and brings its token grouping (ae.latent_group)."""
    ae_sd, ae_cfg, ae_step = load_ae_weights(ae_path, use_ema)
    gen_sd, gen_ck = load_weights(ar_path, "gen", use_ema)
    cfg = VGTConfig.from_dict(gen_ck["config"])
    ours, theirs = dataclasses.asdict(ae_cfg), dataclasses.asdict(cfg.ae)
    if not all(_close(ours[k], theirs[k]) for k in LATENT_FIELDS):
        raise ValueError("the generator was trained on latents of another shape than this AE's: "
                         + ", ".join(f"{k} {theirs[k]} vs {ours[k]}" for k in LATENT_FIELDS if ours[k] != theirs[k]))
    cfg.ae = dataclasses.replace(ae_cfg, latent_group=cfg.ae.latent_group)
    model = VGT(cfg)
    model.generator.load_state_dict(gen_sd)
    model.vgt_ae.load_state_dict(ae_sd)
    save_checkpoint(out, model, tokenizer_for(cfg).to_hf_json(),
                    extra={"trained": {"ae": ae_path, "ae_step": ae_step, "ar": ar_path,
                                       "ar_step": gen_ck["step"], "ema": use_ema}})
    load_checkpoint(out)  # strict round trip
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ae", required=True)
    p.add_argument("--ar", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", action="store_true", help="raw instead of EMA weights")
    args = p.parse_args(argv)
    print("wrote", assemble(args.ae, args.ar, args.out, not args.raw))


if __name__ == "__main__":
    main()
