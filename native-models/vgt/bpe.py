"""Byte-level BPE (Qwen2, GPT-2 kind) from a Hugging Face tokenizer.json, for the Python reference sampler.

The studio's engine tokenizes with @huggingface/tokenizers; this module follows the same pipeline for the
tokenizer.json kinds that VGT's base models ship (InternVL3 and Qwen2.5-VL use Qwen2's), so a converted
checkpoint can be sampled in PyTorch before it is exported:
  1. split out the added tokens (`<|im_start|>`, `<img>`, ...), matched on the raw text;
  2. the normalizer (NFC, or none);
  3. the pre-tokenizer: a `Split` by the file's regex (behaviour "Isolated") then `ByteLevel` without its own regex,
     or a `ByteLevel` with GPT-2's regex;
  4. BPE on the byte-to-unicode mapped pieces, lowest merge rank first.
Python's `re` has no `\\p{L}` / `\\p{N}`; they are rewritten as explicit code-point ranges from `unicodedata`.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from .config import IMG_TOKEN, PROMPT_TEMPLATE, UNCOND_PROMPT

# GPT-2's pattern: what ByteLevel(use_regex=true) splits with.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@lru_cache(maxsize=None)
def _category_class(prefix: str) -> str:
    """The body of a `[...]` class holding every code point whose Unicode category starts with `prefix`."""
    out: List[str] = []
    start = prev = None
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if start is None:
                start = cp
            prev = cp
        elif start is not None:
            out.append(_range(start, prev))
            start = None
    if start is not None:
        out.append(_range(start, prev))
    return "".join(out)


def _range(a: int, b: int) -> str:
    esc = lambda cp: "\\U%08x" % cp  # noqa: E731
    return esc(a) if a == b else f"{esc(a)}-{esc(b)}"


def translate_pattern(pattern: str) -> str:
    """A Rust/Oniguruma-style pattern with `\\p{L}`-like classes as a Python `re` pattern."""
    out: List[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and pattern.startswith("p{", i + 1):
            end = pattern.index("}", i)
            body = _category_class(pattern[i + 3:end])
            out.append(body if in_class else f"[{body}]")
            i = end + 1
            continue
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1)
def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable character table (ByteLevel)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return table


def _pre_tokenizer(d: Optional[dict]) -> Tuple[Optional[str], bool]:
    """(split regex or None, add_prefix_space) of a ByteLevel-based pre-tokenizer; ValueError for others."""
    if d is None:
        raise ValueError("tokenizer.json has no pre_tokenizer; byte-level BPE needs ByteLevel")
    steps = d["pretokenizers"] if d.get("type") == "Sequence" else [d]
    pattern, prefix, byte_level = None, False, False
    for s in steps:
        if s["type"] == "Split":
            if s.get("behavior", "Isolated") != "Isolated" or s.get("invert"):
                raise ValueError(f"Split behaviour {s.get('behavior')} (invert {s.get('invert')}) is not supported")
            pat = s["pattern"]
            pattern = pat["Regex"] if "Regex" in pat else re.escape(pat["String"])
        elif s["type"] == "ByteLevel":
            byte_level, prefix = True, bool(s.get("add_prefix_space", False))
            if s.get("use_regex", True):
                pattern = GPT2_PATTERN
        else:
            raise ValueError(f"pre-tokenizer {s['type']} is not supported by the Python BPE tokenizer")
    if not byte_level:
        raise ValueError("not a byte-level BPE tokenizer (no ByteLevel pre-tokenizer)")
    return pattern, prefix


class ByteLevelBPETokenizer:
    """encode / decode plus the prompt helpers the sampler uses (same interface as WordPieceTokenizer)."""

    def __init__(self, d: dict, template: str = PROMPT_TEMPLATE, unconditional: str = UNCOND_PROMPT,
                 img_token: str = IMG_TOKEN, img_token_ids: Optional[Sequence[int]] = None,
                 pad_token_id: Optional[int] = None):
        model = d.get("model", {})
        if model.get("type") != "BPE":
            raise ValueError(f"not a BPE tokenizer.json (model type {model.get('type')})")
        self.vocab: Dict[str, int] = model["vocab"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model.get("merges", [])]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.ignore_merges = bool(model.get("ignore_merges", False))
        self.added = {a["content"]: a["id"] for a in d.get("added_tokens", [])}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.added.items()})
        norm = (d.get("normalizer") or {}).get("type")
        if norm not in (None, "NFC"):
            raise ValueError(f"normalizer {norm} is not supported by the Python BPE tokenizer")
        self.nfc = norm == "NFC"
        pattern, self.add_prefix_space = _pre_tokenizer(d.get("pre_tokenizer"))
        self.split = re.compile(translate_pattern(pattern)) if pattern else None
        self.specials = re.compile("|".join(re.escape(t) for t in sorted(self.added, key=len, reverse=True))) \
            if self.added else None
        self.byte_map = bytes_to_unicode()
        self.byte_unmap = {c: b for b, c in self.byte_map.items()}
        self.template, self.unconditional = template, unconditional
        self._img_ids = list(img_token_ids) if img_token_ids else None
        self.img_token = img_token
        self._pad = pad_token_id
        self._cache: Dict[str, List[int]] = {}

    # -- encoding
    def _bpe(self, piece: str) -> List[int]:
        if piece in self._cache:
            return self._cache[piece]
        if self.ignore_merges and piece in self.vocab:
            return [self.vocab[piece]]
        word = list(piece)
        while len(word) > 1:
            best = min(range(len(word) - 1), key=lambda i: self.ranks.get((word[i], word[i + 1]), 1 << 62))
            pair = (word[best], word[best + 1])
            if pair not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):  # every non-overlapping occurrence, left to right
                if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        missing = [t for t in word if t not in self.vocab]
        if missing:
            raise ValueError(f"BPE piece(s) {missing[:3]} are not in the vocabulary (no unk token in byte-level BPE)")
        ids = [self.vocab[t] for t in word]
        self._cache[piece] = ids
        return ids

    def _encode_text(self, text: str, first: bool) -> List[int]:
        if self.nfc:
            text = unicodedata.normalize("NFC", text)
        if self.add_prefix_space and first and not text.startswith(" "):
            text = " " + text
        pieces: List[str] = []
        if self.split is None:
            pieces = [text]
        else:
            pos = 0
            for m in self.split.finditer(text):
                if m.start() > pos:
                    pieces.append(text[pos:m.start()])
                if m.end() > m.start():
                    pieces.append(m.group())
                pos = m.end()
            if pos < len(text):
                pieces.append(text[pos:])
        ids: List[int] = []
        for p in pieces:
            ids += self._bpe("".join(self.byte_map[b] for b in p.encode("utf-8")))
        return ids

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        pos = 0
        for m in self.specials.finditer(text) if self.specials else ():
            if m.start() > pos:
                ids += self._encode_text(text[pos:m.start()], pos == 0)
            ids.append(self.added[m.group()])
            pos = m.end()
        if pos < len(text):
            ids += self._encode_text(text[pos:], pos == 0)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        out, buf = [], bytearray()
        for i in ids:
            tok = self.id_to_token[int(i)]
            if tok in self.added:
                out.append(buf.decode("utf-8", errors="replace") + tok)
                buf = bytearray()
            else:
                buf += bytes(self.byte_unmap[c] for c in tok)
        return "".join(out) + buf.decode("utf-8", errors="replace")

    # -- prompts (the sampler's interface)
    @property
    def vocab_size(self) -> int:
        return max(self.id_to_token) + 1

    @property
    def pad_id(self) -> int:
        if self._pad is not None:
            return self._pad
        for t in ("<|endoftext|>", "<pad>"):
            if t in self.added:
                return self.added[t]
        raise ValueError("tokenizer has neither <|endoftext|> nor <pad> to pad with")

    def encode_prompt(self, prompt: str) -> List[int]:
        return self.encode(self.template.replace("{prompt}", prompt.strip()))

    def encode_uncond(self) -> List[int]:
        return self.encode(self.unconditional)

    def img_token_ids(self) -> List[int]:
        return list(self._img_ids) if self._img_ids else self.encode(self.img_token)

    @staticmethod
    def load(path: str, **kw) -> "ByteLevelBPETokenizer":
        with open(path, encoding="utf-8") as f:
            return ByteLevelBPETokenizer(json.load(f), **kw)
