"""Shapes World v1: procedural data and the ShapesEval scorer (defined in SHAPES_WORLD.md, beside this file).

Pure numpy; nothing here imports torch, so the scorer and the data generator run anywhere.
"""
from .world import sample, render_prompt, render_scene, is_held_out  # noqa: F401
from .score import parse_prompt, score_image, evaluate  # noqa: F401
