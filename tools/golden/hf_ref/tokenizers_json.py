"""Tiny tokenizers in the Hugging Face `tokenizers` JSON format, built by hand, with an independent
Python encoder for each (so input.json's ids do not depend on the library the engine will use).

* GPT-2 style byte-level BPE: ByteLevel pre-tokenizer (GPT-2 regex, no prefix space), the byte->unicode
  table of GPT-2's encoder.py, a vocabulary of the 94 printable ASCII bytes + 'Ġ' (space) + learned
  merges + <|endoftext|>, merges in the classic "a b" string form.
* Llama (SentencePiece-converted) style BPE: normalizer Prepend('▁') + Replace(' ' -> '▁'), no
  pre-tokenizer, <unk>/<s>/</s> at 0/1/2, TemplateProcessing that adds <s>; byte_fallback is off because
  the 256 <0xNN> tokens do not fit a 128-token vocabulary (unknown characters become <unk>).
"""
import re
from collections import Counter


# ── byte-level alphabet (GPT-2 encoder.py bytes_to_unicode) ──────────────────────────────────────

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = bytes_to_unicode()
# GPT-2's pre-tokenizer regex, restricted to ASCII text (\p{L} -> [A-Za-z], \p{N} -> [0-9]); the
# texts encoded here are plain ASCII, where the two agree.
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def _train_merges(words, n_merges):
    """Plain BPE training over words given as tuples of symbols with counts. Ties on count are broken
    by the pair's string order, so the result is deterministic."""
    words = {tuple(w): c for w, c in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    return merges


def _take_merges(merges, vocab, size):
    """Add merge results to `vocab` (in place) in training order until it holds `size` tokens; a merge
    whose result is already a token takes no new id. Returns the merges kept (a prefix of the list)."""
    kept = []
    for a, b in merges:
        if len(vocab) == size:
            break
        kept.append((a, b))
        vocab.setdefault(a + b, len(vocab))
    assert len(vocab) == size, f"corpus too small: {len(vocab)} of {size} tokens"
    return kept


def _bpe(symbols, ranks):
    """Apply merges by rank: repeatedly merge the lowest-ranked adjacent pair (all its occurrences,
    left to right), as GPT-2's encoder.py and the tokenizers BPE model do."""
    word = list(symbols)
    while len(word) > 1:
        pairs = [(ranks.get((a, b), None), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
        pairs = [p for p in pairs if p[0] is not None]
        if not pairs:
            break
        r = min(pairs)[0]
        a, b = None, None
        for rr, i in pairs:
            if rr == r:
                a, b = word[i], word[i + 1]
                break
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                out.append(a + b)
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = out
    return word


# ── GPT-2 byte-level BPE ───────────────────────────────────────────────────────────────────────────

def build_gpt2_tokenizer(corpus, vocab_size):
    base = [B2U[b] for b in range(33, 127)] + [B2U[32]]           # '!'..'~' then 'Ġ'
    n_merges = vocab_size - len(base) - 1                           # last id: <|endoftext|>
    words = Counter()
    for m in GPT2_SPLIT.findall(corpus):
        words[tuple(B2U[b] for b in m.encode("utf-8"))] += 1
    vocab = {s: i for i, s in enumerate(base)}
    merges = _take_merges(_train_merges(words, 4 * n_merges), vocab, vocab_size - 1)
    eot = vocab_size - 1
    vocab["<|endoftext|>"] = eot
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eot, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    config = {"add_prefix_space": False, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
              "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer", "unk_token": "<|endoftext|>"}
    return tok, config


def encode_gpt2(tok, text):
    vocab = tok["model"]["vocab"]
    ranks = {tuple(m.split(" ")): i for i, m in enumerate(tok["model"]["merges"])}
    ids, pieces = [], []
    for m in GPT2_SPLIT.findall(text):
        for s in _bpe([B2U[b] for b in m.encode("utf-8")], ranks):
            pieces.append(s)
            ids.append(vocab[s])
    return ids, pieces


# ── Llama (SentencePiece BPE converted to tokenizers) ──────────────────────────────────────────────

SPIECE = "\u2581"


def build_llama_tokenizer(corpus, vocab_size, alphabet):
    special = ["<unk>", "<s>", "</s>"]
    base = [SPIECE] + list(alphabet)
    words = Counter()
    for w in corpus.split():
        words[tuple(SPIECE + w)] += 1                               # every word starts with '▁'
    vocab = {s: i for i, s in enumerate(special + base)}
    merges = _take_merges(_train_merges(words, 4 * vocab_size), vocab, vocab_size)

    def added(i, c):
        return {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}

    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPIECE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPIECE}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPIECE}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "legacy": True, "model_max_length": 2048, "pad_token": None, "tokenizer_class": "LlamaTokenizer",
              "unk_token": "<unk>"}
    return tok, config


def encode_llama(tok, text):
    vocab = tok["model"]["vocab"]
    ranks = {tuple(m.split(" ")): i for i, m in enumerate(tok["model"]["merges"])}
    norm = SPIECE + text.replace(" ", SPIECE)
    pieces = _bpe(list(norm), ranks)
    ids = []
    for s in pieces:
        assert s in vocab, f"{s!r} not in the vocabulary (no unknowns in fixture texts)"
        ids.append(vocab[s])
    return [1] + ids, ["<s>"] + pieces
