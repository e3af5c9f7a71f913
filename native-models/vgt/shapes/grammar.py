"""The Shapes World vocabulary and prompt grammar, shared by the generator and the scorer.

parse_prompt() is the one place that decides what a prompt means; the TypeScript scorer
(electron/common/shapes/score.ts) mirrors it rule for rule.
"""
import re

COLORS = {
    "red": (220, 50, 47),
    "green": (60, 170, 70),
    "blue": (38, 110, 220),
    "yellow": (240, 200, 40),
    "purple": (140, 70, 180),
    "orange": (245, 130, 40),
}
COLOR_NAMES = list(COLORS)  # spec order; indices are used as segmentation labels
SHAPES = ["circle", "square", "triangle"]
BACKGROUNDS = {"white": (245, 245, 245), "black": (25, 25, 25)}
DEFAULT_BACKGROUND = "white"
RELATIONS = ["left of", "right of", "above", "below"]
NUMBERS = {"two": 2, "three": 3, "four": 4}
NUMBER_WORDS = {v: k for k, v in NUMBERS.items()}
CATEGORIES = ["single_object", "two_object", "counting", "colors", "position", "color_attr"]

_C = "|".join(COLOR_NAMES)
_S = "|".join(SHAPES)
_OBJ = rf"(a|an) ({_C}) ({_S})"
_PATTERNS = [
    ("object", re.compile(rf"^{_OBJ}$")),
    ("and", re.compile(rf"^{_OBJ} and {_OBJ}$")),
    ("count", re.compile(rf"^({'|'.join(NUMBERS)}) ({_C}) ({_S})s$")),
    ("position", re.compile(rf"^{_OBJ} ({'|'.join(RELATIONS)}) {_OBJ}$")),
]
_SUFFIX = re.compile(r"^(.*) on a (white|black) background$")


def article(color):
    return "an" if color == "orange" else "a"


def obj_phrase(color, shape):
    return f"{article(color)} {color} {shape}"


def format_prompt(kind, objects, relation=None, count=None, background=None):
    """Inverse of parse_prompt: objects is a list of (color, shape)."""
    if kind == "object":
        text = obj_phrase(*objects[0])
    elif kind == "and":
        text = f"{obj_phrase(*objects[0])} and {obj_phrase(*objects[1])}"
    elif kind == "count":
        text = f"{NUMBER_WORDS[count]} {objects[0][0]} {objects[0][1]}s"
    elif kind == "position":
        text = f"{obj_phrase(*objects[0])} {relation} {obj_phrase(*objects[1])}"
    else:
        raise ValueError(kind)
    if background is not None:
        text += f" on a {background} background"
    return text


def swap_shapes(prompt):
    """The prompt with its two objects' shapes exchanged ("a red square and a blue circle" -> "a red circle and a
    blue square"), or None where that says the same (one object, a count, equal shapes). As a negative prompt it
    guides towards the prompt's colour-shape binding and away from the swapped one."""
    parsed = parse_prompt(prompt)
    if parsed is None or parsed["kind"] not in ("and", "position"):
        return None
    (c1, s1), (c2, s2) = parsed["objects"]
    if s1 == s2:
        return None
    return format_prompt(parsed["kind"], [(c1, s2), (c2, s1)], parsed["relation"], None, parsed["background"])


OPPOSITE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def flip_relation(prompt):
    """A position prompt with the opposite relation ("a red circle left of a blue square" -> "... right of ..."),
    or None for other prompts: the same objects, the layout mirrored."""
    parsed = parse_prompt(prompt)
    if parsed is None or parsed["kind"] != "position":
        return None
    return format_prompt("position", parsed["objects"], OPPOSITE[parsed["relation"]], None, parsed["background"])


def parse_prompt(prompt):
    """Parse a prompt of the grammar into a dict, or return None when it is not one.

    Returns {"kind": object|and|count|position, "objects": [(color, shape), ...],
             "count": int|None, "relation": str|None, "background": "white"|"black"|None}.
    Case and surrounding whitespace are ignored; the article must agree with the colour
    ("an orange", "a red") and the two pairs of an "and" prompt must differ.
    """
    text = prompt.strip().lower()
    background = None
    m = _SUFFIX.match(text)
    if m:
        text, background = m.group(1), m.group(2)
    for kind, pat in _PATTERNS:
        m = pat.match(text)
        if not m:
            continue
        g = m.groups()
        out = {"kind": kind, "objects": [], "count": None, "relation": None, "background": background}
        if kind == "count":
            out["count"] = NUMBERS[g[0]]
            out["objects"] = [(g[1], g[2])]
            return out
        arts = [g[0]]
        out["objects"].append((g[1], g[2]))
        if kind == "and":
            arts.append(g[3])
            out["objects"].append((g[4], g[5]))
        elif kind == "position":
            out["relation"] = g[3]
            arts.append(g[4])
            out["objects"].append((g[5], g[6]))
        if any(a != article(c) for a, (c, _) in zip(arts, out["objects"])):
            return None
        if kind == "and" and out["objects"][0] == out["objects"][1]:
            return None
        return out
    return None
