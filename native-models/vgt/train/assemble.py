"""Join the trained VGT-AE and QueryAR generator into one project checkpoint (vgt/checkpoint.py format,
`generator.*` + `vgt_ae.*` + tokenizer), the input of the bundle exporter (vgt.export).

    cd native-models
    /usr/bin/python3 -m vgt.train.assemble --ae runs/ae2/ckpt.pt --ar runs/ar/ckpt.pt --out runs/vgt-shapes.pt
"""
import argparse

from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import VGTConfig
from ..queryar import VGT
from ..tokenizer import default_tokenizer
from .common import load_weights


def assemble(ae_path, ar_path, out, use_ema=True):
    ae_sd, ae_ck = load_weights(ae_path, "ae", use_ema)
    gen_sd, gen_ck = load_weights(ar_path, "gen", use_ema)
    cfg = VGTConfig.from_dict(gen_ck["config"])
    if VGTConfig.from_dict(ae_ck["config"]).ae != cfg.ae:
        raise ValueError("the AE and the generator were trained with different AE configs")
    model = VGT(cfg)
    model.generator.load_state_dict(gen_sd)
    model.vgt_ae.load_state_dict(ae_sd)
    save_checkpoint(out, model, default_tokenizer().to_hf_json(),
                    extra={"trained": {"ae": ae_path, "ae_step": ae_ck["step"], "ar": ar_path,
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
