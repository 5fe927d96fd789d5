"""A byte-level BPE tokenizer (GPT-2 style), trained here and saved as a Hugging Face tokenizer.json.

Written from the published format and conventions, not copied:
- pre-tokenization is GPT-2's regex
      's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
  implemented by hand below (Python's `re` has no \\p{..}); "whitespace" is JavaScript's \\s, because the
  tokenizer that must agree with this one is the npm package @huggingface/tokenizers;
- each piece is UTF-8 encoded and every byte shown as one printable character (bytes_to_unicode:
  printable Latin-1 bytes stand for themselves, the rest map to U+0100 upwards, so space is "Ġ");
- BPE merges apply lowest rank first (leftmost first on ties) inside each piece;
- added special tokens are cut out of the text before pre-tokenization;
- a TemplateProcessing post-processor puts <s> in front (as Llama's tokenizer does by default).
"""

from __future__ import annotations

import collections
import json
import unicodedata

BOS = "<s>"
EOS = "</s>"
SPECIALS = [BOS, EOS]  # ids 0 and 1; the 256 byte symbols follow, then one token per merge

# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator), which differs from Python's str.isspace().
_JS_SPACE = set("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {chr(c) for c in range(0x2000, 0x200B)}
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def bytes_to_unicode() -> dict[int, str]:
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {b: chr(b) for b in keep}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


BYTE_CHAR = bytes_to_unicode()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}


def _space(c: str) -> bool:
    return c in _JS_SPACE


def _letter(c: str) -> bool:
    return unicodedata.category(c)[0] == "L"


def _number(c: str) -> bool:
    return unicodedata.category(c)[0] == "N"


def _other(c: str) -> bool:
    return not (_space(c) or _letter(c) or _number(c))


def pretokenize(text: str) -> list[str]:
    """GPT-2's pre-tokenizer regex, alternative by alternative, as a regex engine would try them."""
    out = []
    i, n = 0, len(text)
    while i < n:
        j = _match_at(text, i, n)
        out.append(text[i:j])
        i = j
    return out


def _run(text: str, k: int, n: int, cls) -> int:
    while k < n and cls(text[k]):
        k += 1
    return k


def _match_at(text: str, i: int, n: int) -> int:
    for c in _CONTRACTIONS:
        if text.startswith(c, i):
            return i + len(c)
    for cls in (_letter, _number, _other):
        # " ?X+": the optional space is tried first, then without it
        if text[i] == " " and i + 1 < n and cls(text[i + 1]):
            return _run(text, i + 1, n, cls)
        if cls(text[i]):
            return _run(text, i, n, cls)
    # here text[i] is whitespace
    end = _run(text, i, n, _space)
    if end == n:  # \s+(?!\S) at the end of the text
        return end
    if end - 1 > i:  # \s+(?!\S): give back the last space, which stays with the next piece
        return end - 1
    return end  # \s+


def split_specials(text: str) -> list[str]:
    """Cut the added special tokens out of the text (longest match first), keeping the rest in order."""
    parts, start, i = [], 0, 0
    while i < len(text):
        hit = None
        for s in sorted(SPECIALS, key=len, reverse=True):
            if text.startswith(s, i):
                hit = s
                break
        if hit:
            if i > start:
                parts.append(text[start:i])
            parts.append(hit)
            i += len(hit)
            start = i
        else:
            i += 1
    if start < len(text):
        parts.append(text[start:])
    return parts


def to_symbols(piece: str) -> str:
    # errors="surrogatepass" would differ from TextEncoder; lone surrogates become U+FFFD as in JS
    return "".join(BYTE_CHAR[b] for b in piece.encode("utf-8", errors="replace"))


class ByteBPE:
    def __init__(self, merges: list[tuple[str, str]]):
        self.merges = merges
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.vocab: dict[str, int] = {}
        for s in SPECIALS:
            self.vocab[s] = len(self.vocab)
        for b in range(256):
            self.vocab[BYTE_CHAR[b]] = len(self.vocab)
        for a, b in merges:
            self.vocab[a + b] = len(self.vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self._cache: dict[str, list[int]] = {}

    def _bpe(self, word: str) -> list[str]:
        parts = list(word)
        while len(parts) > 1:
            best, at = None, -1
            for k in range(len(parts) - 1):
                r = self.ranks.get((parts[k], parts[k + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, k
            if best is None:
                break
            parts[at : at + 2] = [parts[at] + parts[at + 1]]
        return parts

    def encode_piece(self, piece: str) -> list[int]:
        ids = self._cache.get(piece)
        if ids is None:
            ids = [self.vocab[t] for t in self._bpe(to_symbols(piece))]
            self._cache[piece] = ids
        return ids

    def encode(self, text: str, add_bos: bool = True) -> list[int]:
        ids = [self.vocab[BOS]] if add_bos else []
        for part in split_specials(text):
            if part in SPECIALS:
                ids.append(self.vocab[part])
                continue
            for piece in pretokenize(part):
                ids.extend(self.encode_piece(piece))
        return ids

    def decode(self, ids: list[int]) -> str:
        out, buf = [], bytearray()
        for i in ids:
            t = self.id_to_token[i]
            if t in SPECIALS:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(t)
            else:
                buf.extend(CHAR_BYTE[c] for c in t)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)

    def tokens(self, ids: list[int]) -> list[str]:
        return [self.id_to_token[i] for i in ids]

    # ---- Hugging Face files ----

    def tokenizer_json(self) -> dict:
        added = [
            {"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for s in SPECIALS
        ]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": added,
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [
                    {"SpecialToken": {"id": BOS, "type_id": 0}},
                    {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": BOS, "type_id": 1}},
                    {"Sequence": {"id": "B", "type_id": 1}},
                ],
                "special_tokens": {BOS: {"id": BOS, "ids": [self.vocab[BOS]], "tokens": [BOS]}},
            },
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": self.vocab,
                # the classic "a b" form: readable by every tokenizers version (no symbol holds a space)
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def tokenizer_config_json(self, max_len: int) -> dict:
        return {
            "add_bos_token": True,
            "add_eos_token": False,
            "added_tokens_decoder": {
                str(self.vocab[s]): {"content": s, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
                for s in SPECIALS
            },
            "bos_token": BOS,
            "eos_token": EOS,
            "clean_up_tokenization_spaces": False,
            "model_max_length": max_len,
            "pad_token": None,
            "unk_token": None,
            "tokenizer_class": "PreTrainedTokenizerFast",
        }


def train_bpe(texts, vocab_size: int, log=print) -> ByteBPE:
    """Classic BPE training over pre-tokenized words: repeatedly merge the most frequent adjacent pair
    (ties: the lexicographically smallest pair), until the vocabulary reaches vocab_size."""
    n_merges = vocab_size - len(SPECIALS) - 256
    assert n_merges > 0
    word_freq: collections.Counter[str] = collections.Counter()
    for t in texts:
        for part in split_specials(t):
            if part not in SPECIALS:
                word_freq.update(pretokenize(part))
    words = [list(to_symbols(w)) for w in word_freq]
    freqs = list(word_freq.values())
    pairs: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for wi, syms in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pairs[(a, b)] += freqs[wi]
            where[(a, b)].add(wi)
    merges: list[tuple[str, str]] = []
    for step in range(n_merges):
        if not pairs:
            break
        top = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == top)
        merges.append(best)
        a, b = best
        for wi in list(where[best]):
            syms = words[wi]
            f = freqs[wi]
            for x, y in zip(syms, syms[1:]):
                pairs[(x, y)] -= f
                if pairs[(x, y)] <= 0:
                    del pairs[(x, y)]
            k, new = 0, []
            while k < len(syms):
                if k + 1 < len(syms) and syms[k] == a and syms[k + 1] == b:
                    new.append(a + b)
                    k += 2
                else:
                    new.append(syms[k])
                    k += 1
            words[wi] = new
            for x, y in zip(new, new[1:]):
                pairs[(x, y)] += f
                where[(x, y)].add(wi)
        if step % 100 == 0 or step == n_merges - 1:
            log(f"  merge {step + 1}/{n_merges}: {a!r} + {b!r} ({top})")
    return ByteBPE(merges)
