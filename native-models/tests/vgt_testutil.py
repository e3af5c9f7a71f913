import os

import pytest

from vgt.ortnode import ort_unavailable_reason

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(ROOT)
TINY_BUNDLE = os.path.join(REPO, "test", "fixtures", "tiny-bundle")
TINY_GOLDENS = os.path.join(REPO, "test", "fixtures", "tiny-goldens")


def need_ort():
    """Skip (with the reason) only when node or onnxruntime-node is truly absent."""
    why = ort_unavailable_reason()
    if why:
        pytest.skip(f"ONNX Runtime unavailable: {why}")
