"""This project's checkpoint format: torch.save({"format": "vgt-checkpoint", "version": 1, "config": VGTConfig
dict, "model": VGT state_dict (generator.*, vgt_ae.*), "tokenizer": HF tokenizer.json dict or None}).

Official hustvl checkpoints are converted to this format by convert_official.py.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .config import VGTConfig, get_config
from .queryar import VGT, randomize_

FORMAT = "vgt-checkpoint"


def save_checkpoint(path: str, model: VGT, tokenizer_json: Optional[dict] = None, extra: Optional[dict] = None) -> None:
    torch.save({"format": FORMAT, "version": 1, "config": model.c.to_dict(), "model": model.state_dict(),
                "tokenizer": tokenizer_json, **(extra or {})}, path)


def load_checkpoint(path: str) -> Tuple[VGT, dict]:
    ck = torch.load(path, map_location="cpu")
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file (convert official checkpoints with vgt.convert_official)")
    model = VGT(VGTConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["model"], strict=True)
    model.eval()
    return model, ck


def seeded_model(config: str, seed: int = 0) -> VGT:
    """Random-init model, deterministic across runs (tests, goldens, the tiny bundle)."""
    model = VGT(get_config(config))
    randomize_(model, seed)
    return model.eval()
