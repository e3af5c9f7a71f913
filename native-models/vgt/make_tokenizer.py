"""tokenizer.json (Hugging Face "fast" format, Qwen2 kind) from a base model's slow-tokenizer files.

  python -m vgt.make_tokenizer InternVL3-2B/ --out InternVL3-2B/tokenizer.json

InternVL3 and Qwen2.5-VL may ship `vocab.json` + `merges.txt` (+ `tokenizer_config.json`, `added_tokens.json`)
without a `tokenizer.json`; the converter, the bundle and the studio's engine need the latter. The result is what
transformers' Qwen2 converter writes: NFC, Qwen2's split regex then ByteLevel, byte-level BPE without unk, and the
added tokens of `tokenizer_config.json`'s `added_tokens_decoder` and `added_tokens.json` (matched on the raw text).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict, List, Optional

# The pre-tokenizer regex of Qwen2's tokenizer (transformers' Qwen2 tokenizer, PRETOKENIZE_REGEX).
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}


def read_merges(path: str) -> List[List[str]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\r\n")
            if not line or (n == 0 and line.startswith("#version")):
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path}:{n + 1}: a merge is two tokens separated by one space, got {line!r}")
            out.append(parts)
    return out


def added_tokens(folder: str, vocab: Dict[str, int]) -> List[dict]:
    """Added tokens by id: tokenizer_config.json's added_tokens_decoder (with its flags), then added_tokens.json."""
    by_id: Dict[int, dict] = {}
    cfg = os.path.join(folder, "tokenizer_config.json")
    if os.path.isfile(cfg):
        with open(cfg, encoding="utf-8") as f:
            for i, a in (json.load(f).get("added_tokens_decoder") or {}).items():
                by_id[int(i)] = {"id": int(i), "content": a["content"], "single_word": bool(a.get("single_word")),
                                 "lstrip": bool(a.get("lstrip")), "rstrip": bool(a.get("rstrip")),
                                 "normalized": bool(a.get("normalized")), "special": bool(a.get("special", True))}
    extra = os.path.join(folder, "added_tokens.json")
    if os.path.isfile(extra):
        with open(extra, encoding="utf-8") as f:
            for content, i in json.load(f).items():
                by_id.setdefault(int(i), {"id": int(i), "content": content, "single_word": False, "lstrip": False,
                                          "rstrip": False, "normalized": False, "special": True})
    clash = [a["content"] for i, a in by_id.items() if vocab.get(a["content"], i) != i]
    if clash:
        raise ValueError(f"added tokens with another id in vocab.json: {clash[:5]}")
    return [by_id[i] for i in sorted(by_id)]


def make_tokenizer_json(folder: str, vocab_path: Optional[str] = None, merges_path: Optional[str] = None) -> dict:
    vocab_path = vocab_path or os.path.join(folder, "vocab.json")
    merges_path = merges_path or os.path.join(folder, "merges.txt")
    for p in (vocab_path, merges_path):
        if not os.path.isfile(p):
            raise FileNotFoundError(f"{p} not found (the base model's vocab.json and merges.txt are needed)")
    with open(vocab_path, encoding="utf-8") as f:
        vocab = json.load(f)
    merges = read_merges(merges_path)
    unknown = [m for m in merges[:100000] if m[0] + m[1] not in vocab]
    if unknown:
        raise ValueError(f"merges whose result is not in vocab.json (wrong pair of files?): {unknown[:3]}")
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_tokens(folder, vocab),
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
            dict(BYTE_LEVEL)]},
        "post_processor": dict(BYTE_LEVEL),
        "decoder": dict(BYTE_LEVEL),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vgt.make_tokenizer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="the base model's folder (vocab.json, merges.txt, tokenizer_config.json, ...)")
    ap.add_argument("--vocab", help="vocab.json elsewhere than FOLDER")
    ap.add_argument("--merges", help="merges.txt elsewhere than FOLDER")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", metavar="PROMPT", default="a red circle left of a blue square",
                    help="a prompt to tokenize with the result (vgt.bpe) and print")
    args = ap.parse_args(argv)
    d = make_tokenizer_json(args.folder, args.vocab, args.merges)
    tmp = f"{args.out}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False)
    os.replace(tmp, args.out)
    from .bpe import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer(d)
    ids = tok.encode_prompt(args.check)
    print(f"wrote {args.out}: {len(d['model']['vocab'])} tokens, {len(d['model']['merges'])} merges, "
          f"{len(d['added_tokens'])} added tokens")
    print(f"prompt row ({len(ids)} ids): {ids}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
