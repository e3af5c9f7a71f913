"""Edit check for a bundle in the studio: the first N single-object eval prompts, each drawn into the left half of a
blank 128 px image (`vgt edit` with a left-half mask, seed i), scored by ShapesEval. Counts how many edits draw the
prompt, with the edit's LM seeing every kept token (`--context all`) or the prompt alone (`none`).

    cd native-models && /usr/bin/python3 experiments/edit_eval.py --context all none [--model ID] [--n 24]

Runs the repo's CLI (`npx vgt edit`), so it uses the studio home of VGT_STUDIO_HOME (the default model when --model
is left out). Images go to runs/edit-eval/<context>/.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from vgt.shapes.score import score_image  # noqa: E402

SIZE = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--context", nargs="+", choices=["all", "none"], default=["all", "none"])
    ap.add_argument("--model", default=None, help="a library model id (default: the studio's default model)")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "runs", "edit-eval"))
    args = ap.parse_args(argv)
    root = os.path.dirname(os.path.dirname(HERE))  # the repo, where `npx vgt` resolves
    os.makedirs(args.out, exist_ok=True)
    blank, mask = os.path.join(args.out, "blank.png"), os.path.join(args.out, "mask.png")
    Image.fromarray(np.full((SIZE, SIZE, 3), 245, np.uint8)).save(blank)
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[:, :SIZE // 2] = 255  # white = regenerate
    Image.fromarray(m).save(mask)
    with open(os.path.join(os.path.dirname(HERE), "data", "shapes-eval-prompts.jsonl")) as f:
        rows = [r for r in map(json.loads, f) if r["category"] == "single_object"][:args.n]
    result = {}
    for ctx in args.context:
        d = os.path.join(args.out, ctx)
        os.makedirs(d, exist_ok=True)
        ok = 0
        for i, r in enumerate(rows):
            out = os.path.join(d, f"{i}.png")
            cmd = ["npx", "vgt", "edit", "--image", blank, "--mask", mask, "--prompt", r["prompt"], "--seed", str(i),
                   "--context", ctx, "--out", out, "--no-history"] + (["--model", args.model] if args.model else [])
            subprocess.run(cmd, check=True, capture_output=True, cwd=root)
            ok += bool(score_image(np.asarray(Image.open(out).convert("RGB")), r["prompt"]))
        result[ctx] = ok
        print(f"context {ctx}: {ok} / {len(rows)}", flush=True)
    print(json.dumps({"n": len(rows), "passed": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
