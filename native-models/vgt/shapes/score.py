"""ShapesEval: the Shapes World v1 scorer (SHAPES_WORLD.md, "Scoring").

All measurements are integers (pixel counts, coordinate sums), and the few float comparisons are the
same IEEE double expressions as in electron/common/shapes/score.ts, so both scorers give identical
verdicts. Choices the spec leaves open, fixed here and in the TS scorer alike:
  * S is min(height, width) of the image;
  * "the background" is both background colours (white 245 and black 25): a pixel nearer to either
    than to a palette colour is background, whatever the prompt's suffix;
  * an unparseable prompt raises ValueError (it cannot be scored).
"""
import numpy as np

from .grammar import BACKGROUNDS, CATEGORIES, COLOR_NAMES, COLORS, parse_prompt

_PALETTE = np.array([COLORS[c] for c in COLOR_NAMES] + list(BACKGROUNDS.values()), dtype=np.int32)
MAX_DIST2 = 60 * 60  # distance < 60, compared squared in integers
MIN_AREA_FRAC = 0.006
MARGIN_FRAC = 0.05


def segment(image):
    """Per-pixel colour label: 0..5 for the palette colour, -1 for background/unassigned."""
    rgb = np.asarray(image)[..., :3].astype(np.int32)
    d2 = ((rgb[:, :, None, :] - _PALETTE[None, None]) ** 2).sum(-1)  # H, W, 8
    k = d2[..., :6].argmin(-1)
    best = np.take_along_axis(d2, k[..., None], -1)[..., 0]
    # strictly nearer than every other colour and both backgrounds (ties mean no label)
    others = d2.copy()
    np.put_along_axis(others, k[..., None], np.iinfo(np.int32).max, -1)
    ok = (best < MAX_DIST2) & (best < others.min(-1))
    return np.where(ok, k, -1)


def _components(mask):
    """4-connected components of a bool mask via row runs + union-find.

    Returns a list of (area, x0, y0, x1, y1, sum_x, sum_y) with inclusive bounds and integer sums.
    """
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)  # +1 at run start, -1 one past run end
    ys, xs = np.nonzero(d == 1)
    _, xe = np.nonzero(d == -1)  # same row-major order as the starts
    n = len(ys)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_start = np.searchsorted(ys, np.arange(h + 1))
    for y in range(h - 1):
        a, a_end = row_start[y], row_start[y + 1]
        b, b_end = a_end, row_start[y + 2]
        # merge-walk the sorted runs of rows y and y+1; runs [s, e) touch when they overlap
        while a < a_end and b < b_end:
            if xs[a] < xe[b] and xs[b] < xe[a]:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            if xe[a] < xe[b]:
                a += 1
            else:
                b += 1
    comps = {}
    for i in range(n):
        r = find(i)
        s, e, y = int(xs[i]), int(xe[i]), int(ys[i])
        ln = e - s
        c = comps.get(r)
        sx = (s + e - 1) * ln // 2
        if c is None:
            comps[r] = [ln, s, y, e - 1, y, sx, y * ln]
        else:
            c[0] += ln
            c[1] = min(c[1], s)
            c[2] = min(c[2], y)
            c[3] = max(c[3], e - 1)
            c[4] = max(c[4], y)
            c[5] += sx
            c[6] += y * ln
    return [tuple(c) for c in comps.values()]


def classify(area, width, height):
    aspect = width / height
    if aspect < 0.6 or aspect > 1.67:
        return "unknown"
    r = area / (width * height)
    if r >= 0.88:
        return "square"
    if r >= 0.62:
        return "circle"
    return "triangle"


def detect(image):
    """All objects in an image: list of dicts {color, shape, area, cx, cy, box}."""
    image = np.asarray(image)
    h, w = image.shape[:2]
    S = min(h, w)
    labels = segment(image)
    objs = []
    for k, color in enumerate(COLOR_NAMES):
        for area, x0, y0, x1, y1, sx, sy in _components(labels == k):
            if area < MIN_AREA_FRAC * S * S:
                continue
            objs.append({
                "color": color, "shape": classify(area, x1 - x0 + 1, y1 - y0 + 1), "area": area,
                "cx": sx / area, "cy": sy / area, "box": (x0, y0, x1, y1),
            })
    return objs


def _holds(a, b, relation, margin):
    if relation == "left of":
        return a["cx"] < b["cx"] - margin
    if relation == "right of":
        return a["cx"] > b["cx"] + margin
    if relation == "above":
        return a["cy"] < b["cy"] - margin
    if relation == "below":
        return a["cy"] > b["cy"] + margin
    raise ValueError(relation)


def check(objs, parsed, S):
    """Pass rule of spec step 4 for detected objects and a parsed prompt."""
    def of(pair):
        return [o for o in objs if (o["color"], o["shape"]) == pair]

    kind, pairs = parsed["kind"], parsed["objects"]
    if kind == "object":
        return len(of(pairs[0])) >= 1
    if kind == "and":
        return len(of(pairs[0])) >= 1 and len(of(pairs[1])) >= 1
    if kind == "count":
        return len(of(pairs[0])) == parsed["count"]
    if kind == "position":
        margin = MARGIN_FRAC * S
        return any(_holds(a, b, parsed["relation"], margin) for a in of(pairs[0]) for b in of(pairs[1]))
    raise ValueError(kind)


def score_image(image, prompt):
    """True when an HxWx3 (or x4) uint8 image passes the prompt."""
    parsed = parse_prompt(prompt)
    if parsed is None:
        raise ValueError(f"not a Shapes World prompt: {prompt!r}")
    image = np.asarray(image)
    return check(detect(image), parsed, min(image.shape[:2]))


def summarize(results):
    """results: iterable of (passed: bool, category). Mean per category, then over categories."""
    per = {}
    for passed, cat in results:
        per.setdefault(cat, []).append(bool(passed))
    order = [c for c in CATEGORIES if c in per] + sorted(c for c in per if c not in CATEGORIES)
    cats = {c: sum(per[c]) / len(per[c]) for c in order}
    overall = sum(cats[c] for c in order) / len(order) if order else 0.0
    return {"overall": overall, "categories": cats, "n": sum(len(v) for v in per.values())}


def evaluate(items):
    """items: iterable of (image, prompt, category) -> {"overall", "categories", "n"}."""
    return summarize((score_image(img, p), cat) for img, p, cat in items)
