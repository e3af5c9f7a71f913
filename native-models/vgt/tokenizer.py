"""WordPiece tokenizer of this project's own models (tiny, Shapes World); `tokenizer_from_json` also picks the
byte-level BPE of the official models (vgt.bpe) for the reference sampler.

The TypeScript engine loads the same `tokenizer.json` with @huggingface/tokenizers, so this module
reproduces what that pipeline does, step by step:
  1. split out the added (special) tokens, matched on the raw text (they are not normalized);
  2. Lowercase normalizer;
  2b. split out the phrase tokens (normalized added tokens, e.g. "red circle"), matched on the lowercased text;
  3. BertPreTokenizer: split on whitespace, then isolate every punctuation character;
  4. WordPiece: greedy longest-match-first with "##" continuation; a word with an unmatched piece,
     or longer than 100 characters, becomes one [UNK].
Unknown words still tokenize because every ASCII letter/digit/punctuation has a piece.

Phrase tokens: a vocabulary may add one token per colour-shape phrase (`phrase_tokenizer`). Attribute binding
("which colour takes which shape") is then a matter of the vocabulary, not of a two-hop attention circuit that a
3 M-parameter LM trained on a CPU did not learn (TRAINING.md, "Binding"). Both matchers take, at the leftmost
position where any added token starts, the longest one, with no word-boundary check, as @huggingface/tokenizers
does ("a red circles" is one phrase; "red  circle" with two spaces is two words).
"""
from __future__ import annotations

import json
import string
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional, Sequence

from .config import IMG_TOKEN, PROMPT_TEMPLATE, UNCOND_PROMPT
from .shapes.grammar import COLOR_NAMES, SHAPES

SPECIAL_TOKENS = ["<|im_start|>", "<|im_end|>", IMG_TOKEN, "<pad>", "[UNK]"]
UNK = "[UNK]"
PAD = "<pad>"
MAX_CHARS_PER_WORD = 100

# The Shapes World grammar (shapes/SHAPES_WORLD.md), the prompt template words and a few common words.
_WORDS = """
red green blue yellow purple orange
circle square triangle circles squares triangles
one two three four five six
a an and the of
left right above below
on in with white black background
user assistant generate image
""".split()
_PUNCT = list(string.punctuation)
# The Shapes World's colour-shape phrases, singular and plural, in the grammar's order; appended after the word
# vocabulary, so a word model's ids (and embedding rows) keep their meaning. The order fixes the shipped ids.
PHRASES = [f"{c} {s}{n}" for c in COLOR_NAMES for n in ("", "s") for s in SHAPES]


@lru_cache(maxsize=1)
def default_vocab() -> List[str]:
    vocab: List[str] = list(SPECIAL_TOKENS)
    seen = set(vocab)

    def add(tok: str) -> None:
        if tok not in seen:
            seen.add(tok)
            vocab.append(tok)

    for w in _WORDS:
        add(w)
    chars = string.ascii_lowercase + string.digits
    for c in chars:
        add(c)
    for c in chars:
        add("##" + c)
    for p in _PUNCT:
        add(p)
    return vocab


def _is_punct(ch: str) -> bool:
    # Same rule as the Rust BertPreTokenizer: ASCII punctuation or any Unicode P* category.
    return (ch.isascii() and ch in string.punctuation) or unicodedata.category(ch).startswith("P")


def _is_space(ch: str) -> bool:
    return ch.isspace()


class WordPieceTokenizer:
    def __init__(self, vocab: Sequence[str], specials: Sequence[str] = SPECIAL_TOKENS, phrases: Sequence[str] = (),
                 template: str = PROMPT_TEMPLATE):
        self.vocab: List[str] = list(vocab)
        self.template = template
        self.ids: Dict[str, int] = {t: i for i, t in enumerate(self.vocab)}
        self.specials = list(specials)
        self.phrases = list(phrases)
        for s in self.specials + self.phrases:
            if s not in self.ids:
                raise ValueError(f"added token {s!r} missing from vocab")
        for s in self.phrases:
            if s != s.lower():
                raise ValueError(f"phrase token {s!r} is matched on lowercased text, so must be lower case")
        # Longest first so that overlapping added tokens match greedily, as HF's added-token matcher does.
        self._specials_sorted = sorted(self.specials, key=len, reverse=True)
        self._phrases_sorted = sorted(self.phrases, key=len, reverse=True)

    # -- properties the bundle needs
    @property
    def pad_id(self) -> int:
        return self.ids[PAD]

    @property
    def unk_id(self) -> int:
        return self.ids[UNK]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    # -- pipeline
    @staticmethod
    def _split_added(text: str, added_sorted: Sequence[str]) -> List[tuple]:
        """(is_added, piece) runs: at each position the longest added token starting there, else one character on."""
        out, i, start = [], 0, 0
        while i < len(text):
            for s in added_sorted:
                if text.startswith(s, i):
                    if start < i:
                        out.append((False, text[start:i]))
                    out.append((True, s))
                    i += len(s)
                    start = i
                    break
            else:
                i += 1
        if start < len(text):
            out.append((False, text[start:]))
        return out

    @staticmethod
    def _pre_tokenize(text: str) -> List[str]:
        words: List[str] = []
        cur: List[str] = []
        for ch in text:
            if _is_space(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
            elif _is_punct(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return words

    def _wordpiece(self, word: str) -> List[int]:
        if len(word) > MAX_CHARS_PER_WORD:
            return [self.unk_id]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = word[start:end]
                if start > 0:
                    sub = "##" + sub
                if sub in self.ids:
                    found = self.ids[sub]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        for is_special, chunk in self._split_added(text, self._specials_sorted):
            if is_special:
                ids.append(self.ids[chunk])
                continue
            for is_phrase, part in self._split_added(chunk.lower(), self._phrases_sorted):
                if is_phrase:
                    ids.append(self.ids[part])
                    continue
                for w in self._pre_tokenize(part):
                    ids.extend(self._wordpiece(w))
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        out: List[str] = []
        for i in ids:
            t = self.vocab[i]
            if t.startswith("##") and out:
                out[-1] += t[2:]
            else:
                out.append(t)
        return " ".join(out)

    # -- prompts
    def encode_prompt(self, prompt: str) -> List[int]:
        # every {prompt}, as the engine's split/join: an echo template says the prompt twice
        return self.encode(self.template.replace("{prompt}", prompt.strip()))

    def encode_uncond(self) -> List[int]:
        return self.encode(UNCOND_PROMPT)

    def img_token_ids(self) -> List[int]:
        return self.encode(IMG_TOKEN)

    # -- Hugging Face tokenizer.json
    def to_hf_json(self) -> dict:
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for s in self.specials
            ] + [
                {"id": self.ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": True, "special": False}
                for s in self.phrases
            ],
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": None,
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
            "model": {
                "type": "WordPiece",
                "unk_token": UNK,
                "continuing_subword_prefix": "##",
                "max_input_chars_per_word": MAX_CHARS_PER_WORD,
                "vocab": {t: i for i, t in enumerate(self.vocab)},
            },
        }

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False, indent=1)

    @staticmethod
    def load(path: str) -> "WordPieceTokenizer":
        with open(path, encoding="utf-8") as f:
            return WordPieceTokenizer.load_dict(json.load(f))

    @staticmethod
    def load_dict(d: dict, template: str = PROMPT_TEMPLATE) -> "WordPieceTokenizer":
        if d.get("model", {}).get("type") != "WordPiece":
            raise ValueError("not a WordPiece tokenizer.json")
        vocab_map = d["model"]["vocab"]
        vocab = [None] * len(vocab_map)
        for t, i in vocab_map.items():
            vocab[i] = t
        added = d.get("added_tokens", [])
        # HF's default: an added token is normalized unless it is special
        normalized = [a.get("normalized", not a.get("special", False)) for a in added]
        return WordPieceTokenizer(vocab, [a["content"] for a, n in zip(added, normalized) if not n],
                                  [a["content"] for a, n in zip(added, normalized) if n], template)


def default_tokenizer(template: str = PROMPT_TEMPLATE) -> WordPieceTokenizer:
    return WordPieceTokenizer(default_vocab(), template=template)


def phrase_tokenizer(template: str = PROMPT_TEMPLATE) -> WordPieceTokenizer:
    """The word vocabulary plus one token per colour-shape phrase (PHRASES), appended after it."""
    return WordPieceTokenizer(default_vocab() + PHRASES, phrases=PHRASES, template=template)


def tokenizer_for(cfg) -> WordPieceTokenizer:
    """The tokenizer a model of this project was trained with (VGTConfig.text_phrases and .prompt_template say
    which)."""
    template = getattr(cfg, "prompt_template", PROMPT_TEMPLATE)
    return phrase_tokenizer(template) if getattr(cfg, "text_phrases", False) else default_tokenizer(template)


def tokenizer_from_json(d: Optional[dict], prompt: Optional[dict] = None,
                        img_token_ids: Optional[Sequence[int]] = None):
    """The sampler's tokenizer for a tokenizer.json: WordPiece (this project's models) or byte-level BPE (the
    official models' Qwen2 kind, vgt.bpe). `prompt` is a bundle manifest's `prompt` entry (template, unconditional
    prompt, image token ids, pad id); without it the config's template and the tokenizer's own ids are used."""
    if d is None:
        return default_tokenizer()
    kind = d.get("model", {}).get("type")
    if kind == "WordPiece":
        return WordPieceTokenizer.load_dict(d, prompt["template"] if prompt else PROMPT_TEMPLATE)
    if kind == "BPE":
        from .bpe import ByteLevelBPETokenizer
        kw: dict = {"img_token_ids": img_token_ids}
        if prompt:
            kw = dict(template=prompt["template"], unconditional=prompt["unconditional"],
                      img_token=prompt.get("imgToken", IMG_TOKEN),
                      img_token_ids=img_token_ids or prompt.get("imgTokenIds"), pad_token_id=prompt.get("padTokenId"))
        return ByteLevelBPETokenizer(d, **kw)
    raise ValueError(f"tokenizer.json model type {kind!r}: the Python sampler runs WordPiece and byte-level BPE; "
                     "pass the prompt's token ids instead (--prompt-ids, --uncond-ids)")
