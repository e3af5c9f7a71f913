"""Regenerate the Python/TypeScript scorer agreement fixture (test/fixtures/shapes-agreement/).

    cd native-models && /usr/bin/python3 -m vgt.shapes.make_fixture

Writes images.bin.gz (all images' raw bytes, row-major HxWxC, concatenated) and cases.json (per image:
prompt, category, shape, byte offset, the Python verdict and detected objects; plus evaluate()'s result).
Besides clean renders it holds perturbed ones built to fail or to sit on a rule's edge: wrong prompts,
removed objects, stretched shapes, colour shifts around the distance-60 limit, noise, blur, mirrored
relations, objects below the area limit, centroids near the 0.05·S margin, RGBA and non-square inputs.
"""
import gzip
import json
import os

import numpy as np

from .grammar import CATEGORIES, COLOR_NAMES, format_prompt
from .score import detect, evaluate, parse_prompt, score_image
from .world import render_scene, sample

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test", "fixtures", "shapes-agreement")
S = 128


def _other_color(rng, color):
    return [c for c in COLOR_NAMES if c != color][int(rng.integers(5))]


def _wrong_prompt(rng, prompt):
    p = parse_prompt(prompt)
    objs = [list(o) for o in p["objects"]]
    objs[0][0] = _other_color(rng, objs[0][0])
    if p["kind"] == "and" and objs[0] == objs[1]:
        objs[0][0] = _other_color(rng, objs[1][0])
    return format_prompt(p["kind"], [tuple(o) for o in objs], p["relation"], p["count"], p["background"])


def build(seed=77):
    rng = np.random.default_rng(seed)
    cases = []

    def add(name, img, prompt, category):
        cases.append({"name": name, "image": np.ascontiguousarray(img, dtype=np.uint8),
                      "prompt": prompt, "category": category})

    base = []
    for i in range(66):
        img, cap, cat, objs = sample(rng, S, category=CATEGORIES[i % 6], distractor_p=0.4)
        base.append((img, cap, cat, objs))
        add(f"render-{i:02d}", img, cap, cat)

    bg_of = {True: "black", False: "white"}
    for i, (img, cap, cat, objs) in enumerate(base):
        kind = i % 11
        black = cap.endswith("black background")
        if kind == 0:  # the prompt names a colour that is not there
            add(f"wrong-prompt-{i:02d}", img, _wrong_prompt(rng, cap), cat)
        elif kind == 1:  # remove the first named object
            add(f"removed-{i:02d}", render_scene(objs[1:], S, bg_of[black]), cap, cat)
        elif kind == 2:  # stretch 2x horizontally: aspect leaves [0.6, 1.67]
            add(f"stretched-{i:02d}", np.repeat(img, 2, axis=1)[:, :S], cap, cat)
        elif kind == 3:  # shift the red channel of every pixel by 34 (distance 34: still that colour)
            add(f"shift34-{i:02d}", np.clip(img.astype(int) + [34, 0, 0], 0, 255), cap, cat)
        elif kind == 4:  # shift all channels by 35 (distance ~60.6 from the palette colour)
            add(f"shift35-{i:02d}", np.clip(img.astype(int) - 35, 0, 255), cap, cat)
        elif kind == 5:  # gaussian noise, sigma 12
            add(f"noise-{i:02d}", np.clip(img + rng.normal(0, 12, img.shape), 0, 255).round(), cap, cat)
        elif kind == 6:  # 5x5 box blur: edges soften, classification must survive or fail the same way
            pad = np.pad(img.astype(float), ((2, 2), (2, 2), (0, 0)), mode="edge")
            blur = sum(pad[dy:dy + S, dx:dx + S] for dy in range(5) for dx in range(5)) / 25
            add(f"blur-{i:02d}", blur.round(), cap, cat)
        elif kind == 7:  # mirror: position relations left/right flip
            add(f"mirror-{i:02d}", img[:, ::-1], cap, cat)
        elif kind == 8:  # swap two palette colours (colour attribution breaks)
            a, b = np.array([220, 50, 47]), np.array([60, 170, 70])
            out = img.copy()
            ma, mb = (img == a).all(-1), (img == b).all(-1)
            out[ma], out[mb] = b, a
            add(f"swap-{i:02d}", out, cap, cat)
        elif kind == 9:  # RGBA input
            add(f"rgba-{i:02d}", np.concatenate([img, np.full((S, S, 1), 255, np.uint8)], -1), cap, cat)
        else:  # downscale 2x into a corner: objects may fall under the 0.006·S² area limit
            small = img.reshape(S // 2, 2, S // 2, 2, 3).mean((1, 3)).round()
            out = np.empty_like(img)
            out[:] = img[0, 0]
            out[:S // 2, :S // 2] = small
            add(f"downscaled-{i:02d}", out, cap, cat)

    # centroid differences straddling the 0.05·S = 6.4 px margin, on exactly placed squares
    for j, dx in enumerate([5.0, 6.0, 6.4, 6.5, 7.0, 8.0]):
        a = {"color": "red", "shape": "square", "x": 10.0, "y": 20.0, "size": 30.0}
        b = {"color": "blue", "shape": "square", "x": 10.0 + dx, "y": 60.0, "size": 30.0}
        img = render_scene([a, b], S)
        add(f"margin-x{j}", img, "a red square left of a blue square", "position")
        add(f"margin-y{j}", np.ascontiguousarray(np.transpose(img, (1, 0, 2))),
            "a red square above a blue square", "position")
    # tiny objects around the area limit (0.006·128² = 98.3 px)
    for j, size in enumerate([9.0, 10.0, 11.0]):
        img = render_scene([{"color": "green", "shape": "square", "x": 50.0, "y": 50.0, "size": size}], S)
        add(f"tiny-{j}", img, "a green square", "single_object")
    # non-square image: S = min(h, w)
    img, cap, cat, _ = sample(rng, S, category="two_object")
    add("nonsquare", np.concatenate([img, np.repeat(img[-1:], 32, 0)], 0), cap, cat)
    # an all-background image fails everything
    add("empty", render_scene([], S, "black"), "a yellow circle on a black background", "colors")
    return cases


def main():
    cases = build()
    os.makedirs(OUT, exist_ok=True)
    blob, meta, offset = [], [], 0
    for c in cases:
        img = c["image"]
        h, w, ch = img.shape
        raw = img.tobytes()
        blob.append(raw)
        objs = [{k: (list(v) if k == "box" else v) for k, v in o.items()} for o in detect(img)]
        meta.append({"name": c["name"], "prompt": c["prompt"], "category": c["category"], "width": w,
                     "height": h, "channels": ch, "offset": offset, "passed": bool(score_image(img, c["prompt"])),
                     "objects": objs})
        offset += len(raw)
    res = evaluate((c["image"], c["prompt"], c["category"]) for c in cases)
    with gzip.GzipFile(os.path.join(OUT, "images.bin.gz"), "wb", compresslevel=9, mtime=0) as f:
        f.write(b"".join(blob))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"spec": "shapes-world v1", "generator": "python -m vgt.shapes.make_fixture",
                   "evaluation": res, "cases": meta}, f, indent=1)
        f.write("\n")
    n_fail = sum(not m["passed"] for m in meta)
    print(f"wrote {len(meta)} cases ({n_fail} fail) to {os.path.normpath(OUT)}; overall {res['overall']:.4f}")


if __name__ == "__main__":
    main()
