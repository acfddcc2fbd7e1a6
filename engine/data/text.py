"""Free text as token ids: the standardization, tokenization and vocabulary of a text column.

Keras' ``TextVectorization`` cannot be saved in a legacy ``.h5`` file, so, as with category
codes, text becomes integer ids *before* the model: :class:`TextFeature` (fitted on the training
split only) is written into the exported model's metadata and applied again by ``predict``.

The rules (:func:`tokenize`): Unicode NFKC normalisation, lower-case (``str.casefold``),
punctuation dropped (apostrophes inside a word join it: ``don't`` → ``dont``), words split on
anything that is not a letter, digit or mark — so accented words stay whole (``café``) — each
CJK ideograph or kana its own token (those scripts write no spaces), and each emoji or other
symbol its own token. Word n-grams (``ngrams`` > 1) add the joined neighbours (``"very good"``).
Character n-grams (``char_ngrams`` = N > 0, off by default) add each word's fastText subwords of
exactly N code points, taken from the word between boundary markers (``<café>`` → ``<ca``, ``caf``,
``afé``, ``fé>`` for N = 3; Bojanowski et al. 2017), each written with a leading ``#`` so that a
subword is never the same token as an equal word; a word shorter than N - 2 adds none. They join
the same vocabulary, so ``max_tokens`` caps words and subwords together, and come after the words
and word n-grams, so a text cut at the sequence length (:data:`MAX_LENGTH`) loses subwords first.
:class:`TextOptions` holds what a search may set: the n-gram lengths and the vocabulary size.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TOKENS = 20_000  # vocabulary size cap per column (the most frequent tokens are kept)
MAX_LENGTH = 400  # sequence length cap, in tokens
LENGTH_PERCENTILE = 95.0  # the sequence length covers this percentile of training texts
_APOSTROPHES = {"'", "\u2019", "\u02bc"}


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x3040 <= code <= 0x30FF
            or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F)


def words(text: str) -> list[str]:
    """The unigram tokens of ``text`` by the rules in this module's docstring."""
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    word: list[str] = []

    def flush() -> None:
        if word:
            tokens.append("".join(word))
            word.clear()

    for ch in text:
        category = unicodedata.category(ch)
        if _is_cjk(ch):
            flush()
            tokens.append(ch)
        elif category[0] in "LN" or ch == "_":
            word.append(ch)
        elif category[0] == "M":
            # A combining mark belongs to the letter before it; after an emoji (a variation
            # selector, a skin tone is Sk) it carries nothing.
            if word:
                word.append(ch)
        elif ch in _APOSTROPHES and word:
            continue
        elif category == "So":
            flush()
            tokens.append(ch)
        else:
            flush()
    flush()
    return tokens


SUBWORD_PREFIX = "#"  # marks a character n-gram token; words never hold punctuation


def char_ngrams(word: str, n: int) -> list[str]:
    """The character n-grams of exactly ``n`` code points of ``<word>``, each prefixed by ``#``.

    ``char_ngrams("café", 3)`` is ``["#<ca", "#caf", "#afé", "#fé>"]``; ``[]`` when ``n`` < 1 or
    ``<word>`` is shorter than ``n``. Python strings index code points, so an accented letter, a
    CJK ideograph or an emoji is never split.
    """
    if n < 1:
        return []
    bounded = f"<{word}>"
    return [SUBWORD_PREFIX + bounded[i:i + n] for i in range(len(bounded) - n + 1)]


def tokenize(text: str, ngrams: int = 1, char_n: int = 0) -> list[str]:
    """Unigrams of ``text``, then its word n-grams up to ``ngrams`` (joined by a space), then, when
    ``char_n`` > 0, each word's :func:`char_ngrams` of length ``char_n`` in word order."""
    unigrams = words(text)
    out = list(unigrams)
    for n in range(2, ngrams + 1):
        out.extend(" ".join(unigrams[i:i + n]) for i in range(len(unigrams) - n + 1))
    if char_n > 0:
        for word in unigrams:
            out.extend(char_ngrams(word, char_n))
    return out


def length_percentiles(texts: Iterable[str]) -> tuple[int, int, int]:
    """The 5th, 50th and 95th percentiles of the texts' lengths in words."""
    lengths = [len(words(t)) for t in texts]
    if not lengths:
        return 0, 0, 0
    p5, p50, p95 = np.percentile(lengths, [5, 50, 95])
    return int(p5), int(p50), int(math.ceil(p95))


@dataclass(frozen=True)
class TextOptions:
    """How a search tokenizes its text columns (Keras ``TextVectorization``'s names).

    Attributes:
        ngrams: word n-grams up to this length join the words (1: words only, 2: words and
            pairs of neighbours). ``SearchConfig`` checks the range.
        max_tokens: the vocabulary of each column keeps its most frequent tokens, at most this many.
        char_ngrams: each word's character n-grams of this length join its tokens (0: none; see
            :func:`char_ngrams`). ``SearchConfig`` checks the range.
    """

    ngrams: int = 1
    max_tokens: int = MAX_TOKENS
    char_ngrams: int = 0


@dataclass(frozen=True)
class TextFeature:
    """A text column: its vocabulary and the rules that turn a value into ``length`` token ids.

    Ids of this column are ``offset`` (a token not in the vocabulary) and ``offset + 1 + i`` for
    ``vocabulary[i]``; id 0 pads every text to ``length`` (the model masks it), and columns use
    disjoint id ranges so one embedding serves them all. A text without tokens (empty, missing,
    punctuation only) is one out-of-vocabulary id: a row that were all padding would leave the
    model's masked average pooling nothing to average (0/0, a NaN prediction).
    """

    name: str
    vocabulary: tuple[str, ...]
    offset: int
    length: int
    ngrams: int = 1
    max_tokens: int = MAX_TOKENS  # the cap the vocabulary was learnt under (a record; encode ignores it)
    char_ngrams: int = 0

    @classmethod
    def fit(cls, name: str, texts: Sequence[str], offset: int, *, ngrams: int = 1,
            max_tokens: int = MAX_TOKENS, char_ngrams: int = 0) -> TextFeature:
        """Learns the vocabulary (most frequent first, ties by text) and length from ``texts``."""
        counts: Counter[str] = Counter()
        lengths = []
        for text in texts:
            tokens = tokenize(text, ngrams, char_ngrams)
            counts.update(tokens)
            lengths.append(len(tokens))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:max_tokens]
        p95 = float(np.percentile(lengths, LENGTH_PERCENTILE)) if lengths else 1.0
        length = max(1, min(MAX_LENGTH, int(math.ceil(p95))))
        return cls(name, tuple(token for token, _ in ranked), offset, length, ngrams, max_tokens, char_ngrams)

    @property
    def ids(self) -> int:
        """How many ids this column uses (its vocabulary plus the out-of-vocabulary id)."""
        return len(self.vocabulary) + 1

    def encode(self, texts: Sequence[Any]) -> np.ndarray:
        """``len(texts)`` × ``length`` int32 ids; a missing value (None/NaN) reads as an empty text."""
        lookup = {token: self.offset + 1 + i for i, token in enumerate(self.vocabulary)}
        out = np.zeros((len(texts), self.length), dtype=np.int32)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                text = "" if text is None or text != text else str(text)
            ids = [lookup.get(token, self.offset) for token in tokenize(text, self.ngrams, self.char_ngrams)][:self.length]
            out[row, :len(ids) or 1] = ids or [self.offset]
        return out

    def out_of_vocabulary_rate(self, texts: Sequence[Any]) -> float:
        """The share of tokens in ``texts`` that are not in the vocabulary (0 without tokens)."""
        known = set(self.vocabulary)
        total = unknown = 0
        for text in texts:
            if isinstance(text, str):
                tokens = tokenize(text, self.ngrams, self.char_ngrams)
                total += len(tokens)
                unknown += sum(token not in known for token in tokens)
        return unknown / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "vocabulary": list(self.vocabulary), "offset": self.offset,
                "length": self.length, "ngrams": self.ngrams, "max_tokens": self.max_tokens,
                "char_ngrams": self.char_ngrams,
                "rules": "nfkc casefold, punctuation dropped, cjk per character, symbols per token"
                         + (", character n-grams of <word> prefixed #" if self.char_ngrams else "")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextFeature:
        return cls(str(data["name"]), tuple(data["vocabulary"]), int(data["offset"]),
                   int(data["length"]), int(data.get("ngrams", 1)), int(data.get("max_tokens", MAX_TOKENS)),
                   int(data.get("char_ngrams", 0)))


@dataclass(frozen=True)
class TokenStatistics:
    """What a search's model gets of one text column, as the Data page shows it.

    Counted with the search's own tokenizer options on its own split: ``vocabulary`` (tokens kept,
    the column's ids less the out-of-vocabulary one) of ``distinct`` tokens in the training rows;
    ``lengths``: the 5th, 50th and 95th percentile of the training texts' lengths in tokens (words
    and, with n-grams, the word and character n-grams beside them); ``length``: the sequence length
    the model reads (the 95th percentile, capped at :data:`MAX_LENGTH`); ``out_of_vocabulary``: the
    share (0–1) of the validation rows' tokens the vocabulary lacks; ``char_ngrams``: the character
    n-gram length (0: none).
    """

    name: str
    ngrams: int
    vocabulary: int
    distinct: int
    lengths: tuple[int, int, int]
    length: int
    out_of_vocabulary: float
    char_ngrams: int = 0

    def describe(self) -> str:
        """``text: 812 tokens (words and 2-grams) of 950; 4–18 tokens per value (median 9; ...)``."""
        parts = ["words"] + ([f"{'2' if self.ngrams == 2 else f'2–{self.ngrams}'}-grams"] if self.ngrams > 1 else [])
        parts += [f"character {self.char_ngrams}-grams"] if self.char_ngrams else []
        grams = " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]
        kept = f" (the {self.vocabulary:,} most frequent of {self.distinct:,})" if self.distinct > self.vocabulary else ""
        p5, p50, p95 = self.lengths
        return (f"text: {self.vocabulary:,} tokens{kept}, {grams}; {p5}–{p95} tokens per value (median {p50}), "
                f"sequences of {self.length}; {self.out_of_vocabulary:.0%} of validation tokens out of vocabulary")


def token_statistics(name: str, train: Sequence[Any], validation: Sequence[Any],
                     options: TextOptions | None = None) -> TokenStatistics:
    """The :class:`TokenStatistics` of a text column: ``train`` and ``validation`` are its values in
    the search's training and validation rows (missing values read as empty texts)."""
    options = options or TextOptions()
    texts = [t for t in train if isinstance(t, str)]
    feature = TextFeature.fit(name, texts, 1, ngrams=options.ngrams, max_tokens=options.max_tokens,
                              char_ngrams=options.char_ngrams)
    tokenized = [tokenize(t, options.ngrams, options.char_ngrams) for t in texts]
    lengths = [len(tokens) for tokens in tokenized]
    distinct = len({token for tokens in tokenized for token in tokens})
    p5, p50, p95 = np.percentile(lengths, [5, 50, 95]) if lengths else (0, 0, 0)
    return TokenStatistics(name, options.ngrams, len(feature.vocabulary), distinct,
                           (int(p5), int(p50), int(math.ceil(p95))), feature.length,
                           feature.out_of_vocabulary_rate(list(validation)), options.char_ngrams)
