"""The official models' tokenizer kind (Qwen2 byte-level BPE, ~151k tokens): tokenizer.json from vocab.json +
merges.txt (vgt.make_tokenizer), the Python BPE (vgt.bpe) against the engine's @huggingface/tokenizers, and the
reference sampler on a checkpoint with that tokenizer (by text, and by --prompt-ids).

The vocabulary is generated here, of the same kind as Qwen2's (256 byte symbols, merges that spell English words
with and without the leading-space symbol, then merges of random pieces up to 151,643 tokens, and Qwen's added
tokens after them). VGT_QWEN_TOKENIZER=path/to/tokenizer.json runs the parity test on a real file too."""
import dataclasses
import json
import os
import random
import shutil
import subprocess

import pytest

from vgt.bpe import ByteLevelBPETokenizer, bytes_to_unicode, translate_pattern
from vgt.make_tokenizer import make_tokenizer_json
from vgt.make_tokenizer import main as make_tokenizer_main
from vgt.tokenizer import tokenizer_from_json

from vgt_testutil import REPO

QWEN_VOCAB = 151_643
ADDED = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>"]
WORDS = ("a an the of and red green blue yellow circle circles square squares triangle left right above below "
         "user assistant Generate generate image Image two three").split()
TEXTS = [
    "<|im_start|>user\nGenerate an image: a red circle left of a blue square<|im_end|>\n<|im_start|>assistant\n",
    "Hello, world! It's 2024: naïve café, 日本語のテキスト 😀 x=1+2;\n\n\tindent  spaces   end ",
    "I'LL we've they'd 12345 ９９ Ⅻ  <img></img>trailing\r\n\r\n",
]


def make_slow_files(folder: str, n_vocab: int = QWEN_VOCAB, seed: int = 0) -> None:
    """vocab.json, merges.txt and tokenizer_config.json of a generated Qwen2-kind tokenizer."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    merges, ranks = [], {}

    def add(a: str, b: str) -> None:
        if (a, b) not in ranks:
            ranks[(a, b)] = len(merges)
            merges.append(f"{a} {b}")
        vocab.setdefault(a + b, len(vocab))

    def bpe(word):  # lowest rank first, as the tokenizer does; new merges rank last, so they extend this result
        while len(word) > 1:
            i = min(range(len(word) - 1), key=lambda j: ranks.get((word[j], word[j + 1]), 1 << 62))
            if (word[i], word[i + 1]) not in ranks:
                break
            word = word[:i] + [word[i] + word[i + 1]] + word[i + 2:]
        return word

    for w in WORDS:
        for text in (w, " " + w):
            pieces = bpe([b2u[b] for b in text.encode("utf-8")])
            acc = pieces[0]
            for p in pieces[1:]:
                add(acc, p)
                acc += p
    rng = random.Random(seed)
    tokens = list(vocab)
    singles = tokens[:256]
    while len(vocab) < n_vocab:
        a = rng.choice(tokens[-2000:] if rng.random() < 0.5 else tokens)
        b = rng.choice(singles if rng.random() < 0.8 else tokens)
        if len(a) + len(b) > 16 or a + b in vocab:
            continue
        add(a, b)
        tokens.append(a + b)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    decoder = {str(n_vocab + i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                  "single_word": False, "special": True} for i, t in enumerate(ADDED)}
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"added_tokens_decoder": decoder}, f)


@pytest.fixture(scope="module")
def qwen_like(tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen")
    make_slow_files(str(d))
    out = str(d / "tokenizer.json")
    assert make_tokenizer_main([str(d), "--out", out]) == 0
    return out


def engine_ids(tokenizer_json: str, texts):
    """Token ids from @huggingface/tokenizers, the library the studio's engine encodes prompts with."""
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    lib = os.path.join(REPO, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs")
    if not os.path.isfile(lib):
        pytest.skip("@huggingface/tokenizers is not installed (npm ci)")
    script = ("import { readFileSync } from 'node:fs';"
              f"const {{ Tokenizer }} = await import({json.dumps('file://' + lib)});"
              "const [file, texts] = JSON.parse(readFileSync(0, 'utf8'));"
              "const tok = new Tokenizer(JSON.parse(readFileSync(file, 'utf8')), {});"
              "console.log(JSON.stringify(texts.map((t) => tok.encode(t, { add_special_tokens: false }).ids)));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps([tokenizer_json, texts]),
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_made_tokenizer_json_is_qwen2_kind(qwen_like):
    d = json.load(open(qwen_like, encoding="utf-8"))
    assert len(d["model"]["vocab"]) == QWEN_VOCAB and d["model"]["type"] == "BPE"
    assert [a["content"] for a in d["added_tokens"]] == ADDED and d["added_tokens"][0]["id"] == QWEN_VOCAB
    assert d["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"].startswith("(?i:'s|'t|'re")
    tok = ByteLevelBPETokenizer(d)
    # The merges spell each word as one token, with and without the leading space.
    assert tok.encode(" circle") == [d["model"]["vocab"]["Ġcircle"]]
    assert tok.encode("circle") == [d["model"]["vocab"]["circle"]]
    for text in TEXTS:
        assert tok.decode(tok.encode(text)) == text


def test_refuses_mismatched_files(tmp_path):
    make_slow_files(str(tmp_path), n_vocab=400)
    with open(tmp_path / "merges.txt", "a", encoding="utf-8") as f:
        f.write("zz qq\n")
    with pytest.raises(ValueError, match="not in vocab.json"):
        make_tokenizer_json(str(tmp_path))


@pytest.mark.parametrize("which", ["generated", "real"])
def test_python_bpe_matches_the_engine(qwen_like, which):
    path = qwen_like if which == "generated" else os.environ.get("VGT_QWEN_TOKENIZER")
    if path is None:
        pytest.skip("VGT_QWEN_TOKENIZER is not set (a real Qwen2/Qwen3 tokenizer.json)")
    tok = ByteLevelBPETokenizer.load(path)
    assert [tok.encode(t) for t in TEXTS] == engine_ids(path, TEXTS)


def test_translate_pattern_classes():
    import re
    pat = re.compile(translate_pattern(r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"))
    assert [m.group() for m in pat.finditer("x ab café ٣4")] == ["x", " ab", " café", "٣", "4"]


def test_prompt_rows_follow_the_manifest(qwen_like):
    d = json.load(open(qwen_like, encoding="utf-8"))
    prompt = {"template": "<|im_start|>user\n{prompt}<|im_end|>", "unconditional": "<|im_start|>user\n<|im_end|>",
              "imgToken": "<img>", "imgTokenIds": [QWEN_VOCAB + 3], "padTokenId": QWEN_VOCAB}
    tok = tokenizer_from_json(d, prompt)
    start, end = QWEN_VOCAB + 1, QWEN_VOCAB + 2
    assert tok.encode_prompt(" a red circle ")[0] == start and tok.encode_prompt("x")[-1] == end
    assert tok.decode(tok.encode_prompt("a red circle")) == "<|im_start|>user\na red circle<|im_end|>"
    assert tok.encode_uncond() == [start, tok.vocab["user"], tok.vocab["Ċ"], end]
    assert tok.img_token_ids() == [QWEN_VOCAB + 3] and tok.pad_id == QWEN_VOCAB


def test_generate_samples_a_checkpoint_with_a_bpe_tokenizer(qwen_like, tmp_path, capsys):
    """A converted checkpoint's situation before export: Qwen-kind vocabulary, BPE tokenizer.json inside."""
    from vgt.checkpoint import save_checkpoint
    from vgt.config import get_config
    from vgt.generate import main
    from vgt.queryar import VGT, randomize_
    d = json.load(open(qwen_like, encoding="utf-8"))
    c = get_config("tiny")
    c = dataclasses.replace(c, lm=dataclasses.replace(c.lm, vocab_size=QWEN_VOCAB + len(ADDED)))
    model = VGT(c)
    randomize_(model, 0)
    ck = str(tmp_path / "bpe.pt")
    save_checkpoint(ck, model, d, extra={"imgTokenIds": [QWEN_VOCAB + 3]})
    common = ["--checkpoint", ck, "--steps", "2", "--tokens-per-step", "16", "--json", "--seed", "5"]
    assert main(common + ["--prompt", "a red circle", "--out", str(tmp_path / "a.png")]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["images"][0]["width"] == c.ae.image_size and (tmp_path / "a.png").exists()
    # The same rows as ids give the same image; other ids give another.
    tok = tokenizer_from_json(d, img_token_ids=[QWEN_VOCAB + 3])
    ids = ",".join(map(str, tok.encode_prompt("a red circle")))
    assert main(common + ["--prompt-ids", ids, "--out", str(tmp_path / "b.png")]) == 0
    other = ",".join(map(str, tok.encode_prompt("three green triangles")))
    assert main(common + ["--prompt-ids", other, "--out", str(tmp_path / "c.png")]) == 0
    a, b, c2 = [(tmp_path / f"{n}.png").read_bytes() for n in "abc"]
    assert a == b and a != c2
