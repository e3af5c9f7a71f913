"""Write the held-out ShapesEval prompt set: native-models/data/shapes-eval-prompts.jsonl.

    cd native-models && /usr/bin/python3 -m vgt.shapes.prompts [--out PATH] [--per-category 52] [--seed 2024]
    cd native-models && /usr/bin/python3 -m vgt.shapes.prompts --validation   # data/shapes-val-prompts.jsonl

Each line is {"prompt", "category", "heldOut"}. Categories are balanced; within the multi-object
categories half of the prompts fall under world.py's held-out rule (never seen in training captions),
a third within counting; single_object / colors are all "seen" (every pair is seen alone by design).
Prompts are unique within a category; the output is a pure function of the seed.
"""
import argparse
import json
import os

import numpy as np

from .grammar import CATEGORIES, parse_prompt
from .world import is_held_out, sample_prompt

HELD_OUT_SHARE = {"two_object": 0.5, "color_attr": 0.5, "position": 0.5, "counting": 1 / 3,
                  "single_object": 0.0, "colors": 0.0}
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "..", "data", "shapes-eval-prompts.jsonl")
VALIDATION_OUT = os.path.join(os.path.dirname(__file__), "..", "..", "data", "shapes-val-prompts.jsonl")


def build(seed=2024, per_category=52, suffix_p=0.2):
    rng = np.random.default_rng(seed)
    rows = []
    for cat in CATEGORIES:
        n_held = round(per_category * HELD_OUT_SHARE[cat])
        want = {True: n_held, False: per_category - n_held}
        seen, tries = set(), 0
        while want[True] + want[False] > 0:
            tries += 1
            if tries > 200000:
                raise RuntimeError(f"cannot draw {per_category} unique prompts for {cat}")
            prompt, _ = sample_prompt(rng, cat, train=False, suffix_p=suffix_p)
            held = is_held_out(parse_prompt(prompt))
            if prompt in seen or want[held] == 0:
                continue
            seen.add(prompt)
            want[held] -= 1
            rows.append({"prompt": prompt, "category": cat, "heldOut": held})
    return rows


def build_validation(seed=7, per_category=15, pool=30):
    """Validation prompts for choosing between training arms without touching the eval set: multi-object prompts that
    are not in it; single-object and colour prompts come from a space too small to avoid it (said in TRAINING.md)."""
    eval_prompts = {r["prompt"] for r in load()}
    by_cat = {}
    for r in build(seed, pool):
        if r["prompt"] in eval_prompts and r["category"] not in ("single_object", "colors"):
            continue
        by_cat.setdefault(r["category"], []).append(r)
    return [r for cat in by_cat for r in by_cat[cat][:per_category]]


def load(path=DEFAULT_OUT):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--per-category", type=int, default=52)
    ap.add_argument("--validation", action="store_true",
                    help=f"write the validation set instead ({os.path.relpath(VALIDATION_OUT)})")
    args = ap.parse_args()
    if args.validation:
        rows = build_validation()
        args.out = VALIDATION_OUT if args.out == DEFAULT_OUT else args.out
    else:
        rows = build(args.seed, args.per_category)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    held = sum(r["heldOut"] for r in rows)
    print(f"wrote {len(rows)} prompts ({held} held out) to {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main()
