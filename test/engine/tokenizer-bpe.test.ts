// The engine's prompt encoder on the official models' tokenizer kind: Qwen2's byte-level BPE with ~151k tokens, its
// split regex and its added tokens (InternVL3's tokenizer.json, as native-models' vgt.make_tokenizer writes it).
// The vocabulary is generated here, of the same kind: 256 byte symbols, merges that spell a few English words with
// and without the leading-space symbol, then merges of random pieces up to Qwen's 151,643 tokens.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../electron/engine/bundle';
import { PromptEncoder } from '../../electron/engine/tokenizer';
import { TINY_BUNDLE } from './golden';

const QWEN_VOCAB = 151_643;
const ADDED = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<img>'];
const WORDS = 'a an the of red blue circle square left right Generate image user assistant'.split(' ');
const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };

/** GPT-2's byte → printable character table. */
function byteSymbols(): Array<string> {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
}

function qwenKindTokenizer(): Record<string, unknown> {
  const symbols = byteSymbols();
  const vocab = new Map(symbols.map((s, i) => [s, i]));
  const ranks = new Map<string, number>();
  const merges: Array<[string, string]> = [];
  const add = (a: string, b: string): void => {
    if (!ranks.has(`${a} ${b}`)) ranks.set(`${a} ${b}`, merges.push([a, b]) - 1);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
  };
  // Lowest rank first, as BPE does: a word's new merges rank last, so they extend what the earlier ones make.
  const bpe = (word: Array<string>): Array<string> => {
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = ranks.get(`${word[i]} ${word[i + 1]}`) ?? Infinity;
        if (r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) return word;
      word.splice(best, 2, word[best]! + word[best + 1]!);
    }
  };
  for (const w of WORDS)
    for (const text of [w, ` ${w}`]) {
      const pieces = bpe([...Buffer.from(text, 'utf8')].map((b) => symbols[b]!));
      pieces.slice(1).reduce((acc, p) => (add(acc, p), acc + p), pieces[0]!);
    }
  let seed = 12345;
  const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const tokens = [...vocab.keys()];
  while (vocab.size < QWEN_VOCAB) {
    const a = tokens[random(2) ? tokens.length - 1 - random(Math.min(2000, tokens.length)) : random(tokens.length)]!;
    const b = random(5) ? symbols[random(256)]! : tokens[random(tokens.length)]!;
    if (a.length + b.length > 16 || vocab.has(a + b)) continue;
    add(a, b);
    tokens.push(a + b);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ADDED.map((content, i) => ({
      id: QWEN_VOCAB + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
        BYTE_LEVEL,
      ],
    },
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

describe('PromptEncoder with a Qwen2-kind byte-level BPE tokenizer', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vgt-bpe-'));
  const file = path.join(dir, 'tokenizer.json');
  let vocab: Record<string, number>;
  const tiny = JSON.parse(readFileSync(path.join(TINY_BUNDLE, 'vgt-bundle.json'), 'utf8')) as BundleManifest;
  const manifest = (maxTokens?: number): BundleManifest => ({
    ...tiny,
    prompt: {
      ...tiny.prompt,
      imgTokenIds: [QWEN_VOCAB + 3],
      padTokenId: QWEN_VOCAB,
      specialTokens: Object.fromEntries(ADDED.map((t, i) => [t, QWEN_VOCAB + i])),
      ...(maxTokens ? { maxTokens } : {}),
    },
  });

  beforeAll(() => {
    const json = qwenKindTokenizer();
    vocab = (json.model as { vocab: Record<string, number> }).vocab;
    writeFileSync(file, JSON.stringify(json));
  }, 180_000); // 151k tokens: seconds alone, much longer on a loaded 2-core machine

  it('encodes the template: added tokens by id, words by their merged tokens, bytes for the rest', async () => {
    expect(Object.keys(vocab)).toHaveLength(QWEN_VOCAB);
    const encoder = await PromptEncoder.load(file, manifest());
    const { cond, uncond, truncated } = encoder.encode('  a red circle left of a blue square ');
    expect(truncated).toBe(false);
    const [start, end] = [QWEN_VOCAB + 1, QWEN_VOCAB + 2];
    const newline = vocab['Ċ']!;
    // "<|im_start|>user\nGenerate an image: a red circle …<|im_end|>\n<|im_start|>assistant\n"
    expect(cond.slice(0, 4)).toEqual([start, vocab['user'], newline, vocab['Generate']]);
    const words = ['a', 'red', 'circle', 'left', 'of', 'a', 'blue', 'square'].map((w) => vocab[`Ġ${w}`]);
    expect(cond.slice(7, 15)).toEqual(words);
    expect(cond.slice(-5)).toEqual([end, newline, start, vocab['assistant'], newline]);
    expect(uncond[0]).toBe(start);
    // Text no word merge covers falls back to its UTF-8 bytes' symbols: " é" is Ġ, Ã, © (some maybe merged).
    const accent = encoder.encode('é').cond;
    const byId = new Map(Object.entries(vocab).map(([t, id]) => [id, t]));
    const middle = accent.slice(7, accent.length - 5).map((id) => byId.get(id));
    expect(middle.join('')).toBe('ĠÃ©');
  });

  it('cuts an over-long prompt at a word, keeping the template whole', async () => {
    const encoder = await PromptEncoder.load(file, manifest(24));
    const long = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'red circle' : 'blue square')).join(' ');
    const result = encoder.encode(long);
    expect(result.truncated).toBe(true);
    expect(result.cond.length).toBeLessThanOrEqual(24);
    expect(result.cond.at(-1)).toBe(vocab['Ċ']);
    expect(long.startsWith(result.prompt)).toBe(true);
    expect(result.warning).toMatch(/cut after \d+ of its 80 words/);
  });
});
