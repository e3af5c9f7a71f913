"""Shapes World generator vs ShapesEval scorer (vgt/shapes/SHAPES_WORLD.md, "Reference figure")."""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from vgt.shapes import grammar, prompts, world  # noqa: E402
from vgt.shapes.score import detect, evaluate, parse_prompt, score_image  # noqa: E402

S = 128


def test_ground_truth_scores_at_least_099():
    rng = np.random.default_rng(0)
    items = []
    for i in range(720):  # 120 per category, with distractors half the time
        cat = grammar.CATEGORIES[i % 6]
        img, cap, cat, _ = world.sample(rng, S, category=cat, distractor_p=0.5)
        items.append((img, cap, cat))
    res = evaluate(items)
    print(f"\nground truth ShapesEval at S={S} on {res['n']} renders: overall {res['overall']:.4f}",
          {k: round(v, 4) for k, v in res["categories"].items()})
    assert res["n"] == 720 and set(res["categories"]) == set(grammar.CATEGORIES)
    assert res["overall"] >= 0.99


def test_eval_prompts_rendered_score_at_least_099():
    rows = prompts.load()
    rng = np.random.default_rng(1)
    items = [(world.render_prompt(r["prompt"], rng, S)[0], r["prompt"], r["category"]) for r in rows]
    res = evaluate(items)
    print(f"\nrender_prompt on the eval set: overall {res['overall']:.4f}")
    assert res["overall"] >= 0.99


@pytest.mark.parametrize("prompt,kind", [
    ("a red circle", "object"),
    ("an orange triangle on a black background", "object"),
    ("a blue square and a yellow triangle", "and"),
    ("a red square and a green circle on a white background", "and"),
    ("three green circles", "count"),
    ("four orange triangles on a black background", "count"),
    ("a red circle left of a blue triangle", "position"),
    ("an orange square right of a purple circle", "position"),
    ("a yellow triangle above a green square", "position"),
    ("a purple circle below an orange circle", "position"),
])
def test_grammar_parses(prompt, kind):
    p = parse_prompt(prompt)
    assert p is not None and p["kind"] == kind
    assert grammar.format_prompt(p["kind"], p["objects"], p["relation"], p["count"], p["background"]) == prompt


@pytest.mark.parametrize("prompt", [
    "a orange circle", "an red circle", "a red circle and a red circle", "five red circles",
    "a red hexagon", "a red circle next to a blue square", "a cat", "a red circle on a grey background",
])
def test_grammar_rejects(prompt):
    assert parse_prompt(prompt) is None
    with pytest.raises(ValueError):
        score_image(np.zeros((S, S, 3), np.uint8), prompt)


def test_every_category_samples_parse():
    rng = np.random.default_rng(3)
    kinds = {"single_object": "object", "colors": "object", "two_object": "and", "color_attr": "and",
             "counting": "count", "position": "position"}
    for cat in grammar.CATEGORIES:
        for _ in range(50):
            cap, c = world.sample_prompt(rng, cat)
            p = parse_prompt(cap)
            assert c == cat and p is not None and p["kind"] == kinds[cat], cap
            if cat == "color_attr":
                (c1, s1), (c2, s2) = p["objects"]
                assert c1 != c2 and s1 != s2


def test_held_out_never_in_training_captions():
    rng = np.random.default_rng(4)
    for _ in range(20000):
        cap, _ = world.sample_prompt(rng)
        assert not world.is_held_out(parse_prompt(cap)), cap


def test_eval_set_is_balanced_and_mixed():
    rows = prompts.load()
    assert len(rows) >= 300
    counts = {c: sum(r["category"] == c for r in rows) for c in grammar.CATEGORIES}
    assert len(set(counts.values())) == 1, counts
    for r in rows:
        assert r["heldOut"] == world.is_held_out(parse_prompt(r["prompt"]))
    assert 0 < sum(r["heldOut"] for r in rows) < len(rows)
    assert prompts.build() == rows  # the committed file is what the command writes


def test_seeds_are_reproducible():
    a = [world.sample(np.random.default_rng(7), S) for _ in range(3)]
    b = [world.sample(np.random.default_rng(7), S) for _ in range(3)]
    for x, y in zip(a, b):
        assert np.array_equal(x[0], y[0]) and x[1:] == y[1:]
    s1, s2 = world.stream(11), world.stream(11)
    for _ in range(5):
        x, y = next(s1), next(s2)
        assert np.array_equal(x[0], y[0]) and x[1] == y[1]


def test_scene_geometry_follows_spec():
    rng = np.random.default_rng(5)
    for _ in range(300):
        img, cap, cat, objs = world.sample(rng, S, distractor_p=1.0)
        assert img.shape == (S, S, 3) and img.dtype == np.uint8 and len(objs) <= world.MAX_OBJECTS
        bg = (25, 25, 25) if cap.endswith("black background") else (245, 245, 245)
        assert tuple(img[0, 0]) == bg or any(o["x"] < 1 and o["y"] < 1 for o in objs)
        for o in objs:
            assert 0.16 * S <= o["size"] <= 0.32 * S
            assert o["x"] >= 0 and o["y"] >= 0 and o["x"] + o["size"] <= S and o["y"] + o["size"] <= S
        for i, a in enumerate(objs):
            for b in objs[i + 1:]:
                assert world._box_gap_ok(a, b, 0.03 * S)
        if cat == "counting":
            p = parse_prompt(cap)
            assert sum((o["color"], o["shape"]) == p["objects"][0] for o in objs) == p["count"]


def test_detect_measures_colour_shape_and_centroid():
    o = {"color": "orange", "shape": "triangle", "x": 40.0, "y": 30.0, "size": 36.0}
    img = world.render_scene([o], S, "black")
    (d,) = detect(img)
    assert (d["color"], d["shape"]) == ("orange", "triangle")
    cx, cy = world.centroid(o)
    assert abs(d["cx"] - cx) < 1 and abs(d["cy"] - cy) < 1.5
    # exact palette colours only: a 60-away tint is not the colour
    assert not score_image(np.clip(img.astype(int) + np.array([0, 0, 70]) * (img[..., :1] > 30), 0, 255)
                           .astype(np.uint8), "an orange triangle")


def test_eval_prompt_file_lines_are_json():
    with open(prompts.DEFAULT_OUT) as f:
        for line in f:
            r = json.loads(line)
            assert set(r) == {"prompt", "category", "heldOut"}


def test_ts_agreement_fixture_matches_python():
    """The committed fixture (python -m vgt.shapes.make_fixture) still holds this scorer's verdicts."""
    import gzip
    fx = os.path.join(ROOT, "..", "test", "fixtures", "shapes-agreement")
    with open(os.path.join(fx, "cases.json")) as f:
        meta = json.load(f)
    with gzip.open(os.path.join(fx, "images.bin.gz")) as f:
        blob = f.read()
    items = []
    for c in meta["cases"]:
        n = c["width"] * c["height"] * c["channels"]
        img = np.frombuffer(blob, np.uint8, n, c["offset"]).reshape(c["height"], c["width"], c["channels"])
        assert score_image(img, c["prompt"]) == c["passed"], c["name"]
        items.append((img, c["prompt"], c["category"]))
    assert evaluate(items) == meta["evaluation"]


def test_validation_prompts_avoid_the_eval_set():
    from vgt.shapes.prompts import VALIDATION_OUT, build_validation, load
    rows = build_validation()
    assert rows == load(VALIDATION_OUT)  # the committed file is what the code builds
    eval_prompts = {r["prompt"] for r in load()}
    cats = {}
    for r in rows:
        cats[r["category"]] = cats.get(r["category"], 0) + 1
        if r["category"] not in ("single_object", "colors"):
            assert r["prompt"] not in eval_prompts
    assert set(cats.values()) == {15} and len(cats) == 6


@pytest.mark.parametrize("prompt, swapped", [
    ("a red square and a blue circle", "a red circle and a blue square"),
    ("an orange triangle above a red circle on a black background",
     "an orange circle above a red triangle on a black background"),
    ("a red square and a blue square", None),
    ("three red circles", None),
    ("a red circle", None),
    ("a cat", None),
])
def test_swap_shapes(prompt, swapped):
    assert grammar.swap_shapes(prompt) == swapped


@pytest.mark.parametrize("prompt,flipped", [
    ("a red circle left of a blue square", "a red circle right of a blue square"),
    ("an orange triangle above a red circle on a black background",
     "an orange triangle below a red circle on a black background"),
    ("a green square below a green triangle", "a green square above a green triangle"),
    ("a red square and a blue circle", None),
    ("three red circles", None),
    ("a cat", None),
])
def test_flip_relation(prompt, flipped):
    assert grammar.flip_relation(prompt) == flipped
    if flipped:
        assert grammar.flip_relation(flipped) == prompt
