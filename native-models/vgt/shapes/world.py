"""Shapes World v1 generator: seeded scenes, captions and anti-aliased renders (SHAPES_WORLD.md).

    image, caption, category, objects = sample(np.random.default_rng(0), S=128)

An object is a dict {color, shape, x, y, size}: (x, y) is the top-left corner of its square bounding
box in pixels (floats), size its side. Every scene makes its caption true under the scorer.

Held-out rule (so that ShapesEval can measure composition, not memorisation). The training sampler
(sample(..., train=True), the default) never emits:
  * a pair of HELDOUT_PAIRS in a multi-object caption (two_object, color_attr, position); these pairs
    are still seen alone (single_object, colors) and in counting captions;
  * a position caption whose (colour A, relation, colour B) is in HELDOUT_RELATIONS (any shapes);
  * a counting caption whose (n, colour, shape) is in HELDOUT_COUNTS.
is_held_out(parsed_prompt) says whether a prompt falls under the rule; the eval set (prompts.py) mixes both.
"""
import numpy as np

from .grammar import (BACKGROUNDS, COLORS, COLOR_NAMES, DEFAULT_BACKGROUND, NUMBERS, RELATIONS, SHAPES,
                      format_prompt, parse_prompt)

HELDOUT_PAIRS = {("blue", "triangle"), ("orange", "square"), ("green", "circle")}
HELDOUT_RELATIONS = {
    ("blue", "left of", "yellow"), ("red", "above", "green"), ("purple", "right of", "orange"),
    ("yellow", "below", "red"), ("green", "left of", "purple"), ("orange", "above", "blue"),
}
HELDOUT_COUNTS = {
    (4, "yellow", "circle"), (3, "purple", "square"), (2, "red", "triangle"),
    (4, "green", "square"), (3, "blue", "circle"), (2, "orange", "triangle"),
}
PAIRS = [(c, s) for c in COLOR_NAMES for s in SHAPES]

MIN_SIZE, MAX_SIZE = 0.16, 0.32  # bounding-box side, fraction of S
GAP = 0.03  # minimum gap between bounding boxes, fraction of S
MAX_OBJECTS = 6
REL_MARGIN = 0.10  # generated relations hold with twice the scorer's 0.05·S margin
SUPERSAMPLE = 4


def is_held_out(parsed):
    if parsed is None:
        return False
    kind, objs = parsed["kind"], parsed["objects"]
    if kind in ("and", "position") and any(p in HELDOUT_PAIRS for p in objs):
        return True
    if kind == "position" and (objs[0][0], parsed["relation"], objs[1][0]) in HELDOUT_RELATIONS:
        return True
    if kind == "count" and (parsed["count"], *objs[0]) in HELDOUT_COUNTS:
        return True
    return False


# ----------------------------------------------------------------------------- rendering

def centroid(o):
    """Area centroid of an object (the triangle's sits 2/3 of the way down from its apex)."""
    cy = o["y"] + (2 / 3 if o["shape"] == "triangle" else 0.5) * o["size"]
    return o["x"] + 0.5 * o["size"], cy


def _coverage(o, S, ss):
    """Fraction of each pixel covered by an object, over the pixel-aligned bounding box.

    Point-samples ss×ss sub-pixels per pixel and box-filters them: (coverage, row0, col0).
    """
    c0, r0 = max(int(np.floor(o["x"])), 0), max(int(np.floor(o["y"])), 0)
    c1, r1 = min(int(np.ceil(o["x"] + o["size"])), S), min(int(np.ceil(o["y"] + o["size"])), S)
    px = c0 + (np.arange((c1 - c0) * ss) + 0.5) / ss  # sub-pixel centres in pixel units
    py = r0 + (np.arange((r1 - r0) * ss) + 0.5) / ss
    X, Y = px[None, :], py[:, None]
    s, left, top = o["size"], o["x"], o["y"]
    inside_box = (X >= left) & (X < left + s) & (Y >= top) & (Y < top + s)
    if o["shape"] == "square":
        m = inside_box
    elif o["shape"] == "circle":
        m = (X - left - s / 2) ** 2 + (Y - top - s / 2) ** 2 < (s / 2) ** 2
    elif o["shape"] == "triangle":  # apex (left + s/2, top), base on y = top + s; height = base
        m = inside_box & (np.abs(X - left - s / 2) <= (Y - top) / 2)
    else:
        raise ValueError(o["shape"])
    cov = m.reshape(r1 - r0, ss, c1 - c0, ss).mean(axis=(1, 3), dtype=np.float32)
    return cov, r0, c0


def render_scene(objects, S=128, background=DEFAULT_BACKGROUND, ss=SUPERSAMPLE):
    """Render objects on a uniform background, anti-aliased by ss×ss supersampling + box filter.

    Objects never overlap, so blending each one's coverage into the canvas equals rendering the
    whole supersampled canvas and downsampling it (at a fraction of the cost).
    """
    img = np.empty((S, S, 3), np.float32)
    img[:] = BACKGROUNDS[background]
    for o in objects:
        cov, r0, c0 = _coverage(o, S, ss)
        region = img[r0:r0 + cov.shape[0], c0:c0 + cov.shape[1]]
        region += cov[..., None] * (np.float32(COLORS[o["color"]]) - region)
    return np.floor(img + 0.5).astype(np.uint8)


# ----------------------------------------------------------------------------- layout

def _box_gap_ok(a, b, gap):
    """Boxes are apart by >= gap along x or along y (so shapes never touch or overlap)."""
    return (a["x"] + a["size"] + gap <= b["x"] or b["x"] + b["size"] + gap <= a["x"]
            or a["y"] + a["size"] + gap <= b["y"] or b["y"] + b["size"] + gap <= a["y"])


def _size_range(n_total, S):
    # crowded scenes use smaller objects so rejection sampling finds a layout quickly
    hi = MAX_SIZE - 0.02 * max(0, n_total - 3)
    return MIN_SIZE * S, hi * S


def _relation_holds(a, b, relation, margin):
    (ax, ay), (bx, by) = centroid(a), centroid(b)
    return {"left of": ax < bx - margin, "right of": ax > bx + margin,
            "above": ay < by - margin, "below": ay > by + margin}[relation]


def layout(rng, S, pairs, relation=None, tries=200):
    """Place objects for the (color, shape) list `pairs` without overlap.

    With relation, pairs[0] relation pairs[1] holds on area centroids with margin REL_MARGIN·S.
    """
    lo, hi = _size_range(len(pairs), S)
    gap = GAP * S
    for _ in range(tries):
        placed = []
        for color, shape in pairs:
            for _ in range(100):
                size = float(rng.uniform(lo, hi))
                o = {"color": color, "shape": shape, "size": size,
                     "x": float(rng.uniform(0, S - size)), "y": float(rng.uniform(0, S - size))}
                if not all(_box_gap_ok(o, p, gap) for p in placed):
                    continue
                if relation and len(placed) == 1 and not _relation_holds(placed[0], o, relation, REL_MARGIN * S):
                    continue
                placed.append(o)
                break
            else:
                break
        if len(placed) == len(pairs):
            return placed
    raise RuntimeError(f"could not lay out {pairs} at S={S}")


# ----------------------------------------------------------------------------- scenes for prompts

def _distractors(rng, exclude, n_max, p):
    """0..n_max extra objects with probability p, of pairs not named by the prompt."""
    if n_max <= 0 or rng.random() >= p:
        return []
    pool = [q for q in PAIRS if q not in exclude]
    n = int(rng.integers(1, n_max + 1))
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=True)]


def scene_for(parsed, rng, S=128, distractor_p=0.0, max_distractors=2):
    """Objects that make a parsed prompt true (plus optional distractors that cannot break it)."""
    kind, named = parsed["kind"], parsed["objects"]
    if kind == "count":
        pairs = [named[0]] * parsed["count"]
    else:
        pairs = list(named)
    room = min(max_distractors, MAX_OBJECTS - len(pairs))
    pairs = pairs + _distractors(rng, set(named), room, distractor_p)
    if kind == "position":
        return layout(rng, S, pairs, relation=parsed["relation"])
    objs = layout(rng, S, pairs)
    return objs


def render_prompt(prompt, rng, S=128, distractor_p=0.0):
    """Render a scene that satisfies any prompt of the grammar: (image, objects)."""
    parsed = parse_prompt(prompt)
    if parsed is None:
        raise ValueError(f"not a Shapes World prompt: {prompt!r}")
    objs = scene_for(parsed, rng, S, distractor_p)
    return render_scene(objs, S, parsed["background"] or DEFAULT_BACKGROUND), objs


# ----------------------------------------------------------------------------- caption sampler

def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def sample_prompt(rng, category=None, train=True, suffix_p=0.3):
    """A random (caption, category). train=True never emits held-out combinations."""
    from .grammar import CATEGORIES
    category = category or _pick(rng, CATEGORIES)
    while True:
        if category in ("single_object", "colors"):
            kind, objs, rel, n = "object", [_pick(rng, PAIRS)], None, None
        elif category == "two_object":
            a, b = _pick(rng, PAIRS), _pick(rng, PAIRS)
            kind, objs, rel, n = "and", [a, b], None, None
            if a == b:
                continue
        elif category == "color_attr":
            a, b = _pick(rng, PAIRS), _pick(rng, PAIRS)
            kind, objs, rel, n = "and", [a, b], None, None
            if a[0] == b[0] or a[1] == b[1]:
                continue
        elif category == "counting":
            kind, objs, rel, n = "count", [_pick(rng, PAIRS)], None, _pick(rng, list(NUMBERS.values()))
        elif category == "position":
            a, b = _pick(rng, PAIRS), _pick(rng, PAIRS)
            kind, objs, rel, n = "position", [a, b], _pick(rng, RELATIONS), None
            if a == b:
                continue
        else:
            raise ValueError(category)
        u = rng.random()
        bg = None if u >= suffix_p else ("black" if u < suffix_p * 2 / 3 else "white")
        caption = format_prompt(kind, objs, rel, n, bg)
        if train and is_held_out(parse_prompt(caption)):
            continue
        return caption, category


def sample(rng, S=128, train=True, distractor_p=0.2, suffix_p=0.3, category=None, render=True):
    """One training example: (image uint8 SxSx3, caption, category, objects). render=False: the image is None and
    the generator is left exactly where rendering would leave it (rendering draws nothing from it)."""
    caption, category = sample_prompt(rng, category, train, suffix_p)
    parsed = parse_prompt(caption)
    objs = scene_for(parsed, rng, S, distractor_p)
    image = render_scene(objs, S, parsed["background"] or DEFAULT_BACKGROUND) if render else None
    return image, caption, category, objs


def stream(seed, S=128, **kw):
    """Unbounded seeded stream of sample() tuples."""
    rng = np.random.default_rng(seed)
    while True:
        yield sample(rng, S, **kw)
