"""WordPiece tokenizer: tricky strings, tokenizer.json round trip, and agreement with @huggingface/tokenizers."""
import json
import os
import shutil
import subprocess

import pytest

from vgt.config import ECHO_TEMPLATE, PROMPT_TEMPLATE
from vgt.tokenizer import (PHRASES, SPECIAL_TOKENS, WordPieceTokenizer, default_tokenizer, phrase_tokenizer,
                           tokenizer_for, tokenizer_from_json)

from vgt_testutil import ROOT

TRICKY = [
    "a red circle", "", "   ", "A Red CIRCLE", "two  blue\tsquares...", "an orange triangle left of a purple square",
    "three green circles on a white background", "<img>", "<|im_start|><|im_end|><img><pad>[UNK]", "red<img>blue",
    "<|im_start", "x" * 101, "x" * 100, "café naïve", "emoji 🙂 ok", "a-b_c d'e", "ÀB", "1234 56.7", "İstanbul",
    "“quotes” — dash", "tab\ttab\nnew\r\nline", "##a", "unknownword", "hello, world!?",
    PROMPT_TEMPLATE.format(prompt="Four YELLOW squares above a blue circle."),
    # phrase tokens: leftmost-longest, no word boundary, after lowercasing, never across a special token
    "bored circles", "a red  circle", "red circlesquare", "Red Circle<img>blue squares", "redcircle", "red<img> circle",
    "a red circle and a blue square", "red circle red circles red circle",
]


@pytest.fixture(scope="module", params=["words", "phrases"])
def tok(request):
    return default_tokenizer() if request.param == "words" else phrase_tokenizer()


def test_phrase_tokens():
    t, w = phrase_tokenizer(), default_tokenizer()
    assert t.vocab[:w.vocab_size] == w.vocab  # word ids keep their meaning
    assert t.encode("A Red Circle and two blue squares") == [t.ids["a"], t.ids["red circle"], t.ids["and"],
                                                              t.ids["two"], t.ids["blue squares"]]
    assert t.encode("a red  circle") == w.encode("a red  circle")  # two spaces: not the phrase
    assert t.encode("bored circles") == w.encode("bo") + [t.ids["red circles"]]  # as @huggingface/tokenizers
    assert len(PHRASES) == 36 and t.vocab_size == w.vocab_size + 36


def test_echo_template_says_the_prompt_twice():
    """The echo template fills every {prompt}, as the engine does (split/join); a bundle's prompt entry and a
    config's prompt_template pick it."""
    t = phrase_tokenizer(ECHO_TEMPLATE)
    one, two = phrase_tokenizer().encode_prompt("  a red circle left of a blue square "), t.encode_prompt(
        "  a red circle left of a blue square ")
    body = t.encode("a red circle left of a blue square")
    head = one[:len(one) - len(body) - 3]  # the template's tail: <|im_end|> <|im_start|> assistant
    assert two == head + body + [t.ids["."]] + body + one[-3:]
    assert tokenizer_from_json(t.to_hf_json(), {"template": ECHO_TEMPLATE}).encode_prompt("a red circle") == \
        t.encode_prompt("a red circle")
    assert tokenizer_from_json(t.to_hf_json()).template == PROMPT_TEMPLATE

    class Cfg:
        text_phrases, prompt_template = True, ECHO_TEMPLATE
    assert tokenizer_for(Cfg).encode_prompt("a red circle") == two[:len(head)] + t.encode("a red circle. a red circle") \
        + one[-3:]


def test_vocab_covers_grammar_and_chars(tok):
    words = ("red green blue yellow purple orange circle square triangle circles squares triangles two three four "
             "a an and left right of above below on white black background user assistant generate image").split()
    for w in words:
        assert tok.encode(w) == [tok.ids[w]], w
    for s in SPECIAL_TOKENS:
        assert tok.encode(s) == [tok.ids[s]]
    assert tok.ids["[UNK]"] == tok.unk_id and tok.ids["<pad>"] == tok.pad_id


def test_tricky_strings(tok):
    assert tok.encode("") == [] and tok.encode("   ") == []
    assert tok.encode("A Red CIRCLE") == tok.encode("a red circle")
    assert tok.encode("unknownword") == [tok.ids["u"]] + [tok.ids["##" + c] for c in "nknownword"]
    assert tok.encode("x" * 101) == [tok.unk_id]  # max_input_chars_per_word 100
    assert len(tok.encode("x" * 100)) == 100
    assert tok.encode("café") == [tok.unk_id]  # a word with an unknown char becomes one [UNK]
    assert tok.encode("red<img>blue") == [tok.ids["red"], tok.ids["<img>"], tok.ids["blue"]]
    assert tok.encode("hello, world!?") == tok.encode("hello") + [tok.ids[","]] + tok.encode("world") + [tok.ids["!"], tok.ids["?"]]
    ids = tok.encode_prompt("a red circle")
    assert ids[0] == tok.ids["<|im_start|>"] and ids[-1] == tok.ids["assistant"]
    assert tok.decode(tok.encode("two blue squares")) == "two blue squares"


def test_tokenizer_json_round_trip(tok, tmp_path):
    p = tmp_path / "tokenizer.json"
    tok.save(str(p))
    d = json.loads(p.read_text())
    assert d["model"]["type"] == "WordPiece" and d["model"]["continuing_subword_prefix"] == "##"
    assert d["model"]["max_input_chars_per_word"] == 100 and d["normalizer"] == {"type": "Lowercase"}
    added = d["added_tokens"]
    assert [a["content"] for a in added] == SPECIAL_TOKENS + tok.phrases
    assert all(a["special"] and not a["normalized"] for a in added[:len(SPECIAL_TOKENS)])
    assert all(a["normalized"] and not a["special"] for a in added[len(SPECIAL_TOKENS):])
    t2 = WordPieceTokenizer.load(str(p))
    assert t2.vocab == tok.vocab and t2.phrases == tok.phrases
    for s in TRICKY:
        assert t2.encode(s) == tok.encode(s)


def test_agrees_with_huggingface_tokenizers_js(tok, tmp_path):
    """The TypeScript engine tokenizes with @huggingface/tokenizers: same ids on every tricky string."""
    if shutil.which("node") is None:
        pytest.skip("node not on PATH")
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "s.json").write_text(json.dumps(TRICKY))
    p = subprocess.run(["node", os.path.join(ROOT, "tools", "tok_encode.mjs"), str(tmp_path / "tokenizer.json"),
                        str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120)
    if p.returncode == 3:
        pytest.skip("@huggingface/tokenizers not installed (npm ci)")
    assert p.returncode == 0, p.stderr
    for s, ids in zip(TRICKY, json.loads(p.stdout)):
        assert ids == tok.encode(s), repr(s)
