"""The analyser: text to index tokens, and a query to the terms it must match.

Both engines index what this module produces, and queries are analysed by the same rules, so
SQLite and PostgreSQL find the same rows. A record's searchable text gives four token lists:

- ``bigrams``: every pair of adjacent Chinese characters, in order, with a break token (``0``)
  between two runs of Chinese text and between two fields. A query of n ≥ 2 characters is the
  phrase of its n−1 bigrams, i.e. an exact substring match; the break keeps a phrase from
  spanning punctuation, a Latin word or two fields ("青岛" and "啤酒" in two fields never make
  "岛啤").
- ``chars``: each Chinese character once, for one-character queries.
- ``words``: Latin words and numbers (lower-cased, accents removed), the suffixes of a word
  that start where letters turn into digits or back ("hrb400e" → hrb400e, 400e, e), and the
  pinyin of every run of Chinese text, in full and as initials, starting at each of its
  characters (青岛啤酒 → qingdaopijiu, daopijiu, pijiu, jiu, qdpj, dpj, pj, j). Query words
  match as prefixes, so ``qingdao``, ``qd``, ``pijiu`` and ``pj`` all find 青岛啤酒: typed pinyin
  must start at a character, may stop anywhere, and is either all full syllables or all
  initials (``qingd`` works, ``qdao`` does not). Initials are first letters: 中山 is ``zs``.
- ``codes``: identifiers (credit codes, GTINs) reversed, so that a query of at least
  ``MIN_CODE_TAIL`` characters with a digit in it finds a code by its end ("尾号") as well as
  by its beginning (the code itself is a word).

Pinyin: pypinyin's phrase dictionary and its segmenter pick the reading of polyphonic
characters from context (重庆 chongqing, 银行 yinhang), as ``pypinyin.lazy_pinyin`` does;
this module reads the same dictionaries directly because ``lazy_pinyin``'s style machinery
costs about 250 µs per name, seven times the lookup itself, and a rebuild analyses hundreds
of thousands of names (the test suite checks both give the same syllables).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from pypinyin.seg.mmseg import seg

BREAK = "0"  # between runs in ``bigrams``; queries never contain it (they are pairs of Han)
MIN_CODE_TAIL = 4
MAX_TERMS = 10
MAX_PINYIN = 200  # characters of one pinyin token; a name is at most 100 characters anyway

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SPLIT = re.compile(f"([{_HAN}]+)")
_WORD = re.compile(r"[^\W_]+")
_SHIFT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


@dataclass
class Tokens:
    bigrams: list[str] = field(default_factory=list)
    chars: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    def columns(self) -> dict[str, str]:
        """The four space-separated strings stored beside the record."""
        return {
            "bigrams": " ".join(self.bigrams),
            "chars": " ".join(dict.fromkeys(self.chars)),
            "words": " ".join(dict.fromkeys(self.words)),
            "codes": " ".join(dict.fromkeys(self.codes)),
        }


def _segments(text: str) -> Iterable[tuple[bool, str]]:
    """(is_han, segment) pieces of normalised text."""
    for index, piece in enumerate(_SPLIT.split(text)):
        if piece:
            yield index % 2 == 1, piece


def normalise(text: str) -> str:
    # NFKC turns full-width Latin letters and digits (Ｑ，２) into ASCII and compatibility
    # ideographs into the unified ones people type.
    return unicodedata.normalize("NFKC", text or "")


@lru_cache(maxsize=8192)
def _fold(word: str) -> str:
    """Lower case without accents (Müller → muller)."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))


@lru_cache(maxsize=4096)
def _toneless(syllable: str) -> str:
    """A dictionary reading without its tone mark; ü is v, as pinyin is typed (绿 lv)."""
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def latin_words(segment: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(segment)]


def _word_suffixes(word: str) -> list[str]:
    cuts = [m.start() for m in _SHIFT.finditer(word)]
    return [word, *(word[cut:] for cut in cuts)]


@lru_cache(maxsize=200_000)
def syllables(run: str) -> tuple[str, ...]:
    """Toneless pinyin of each character of a run of Chinese text ('' when unknown)."""
    out: list[str] = []
    for word in seg.cut(run):
        phrase = PHRASES_DICT.get(word)
        if phrase is not None and len(phrase) == len(word):
            out.extend(_toneless(readings[0]) for readings in phrase)
            continue
        for ch in word:
            readings = PINYIN_DICT.get(ord(ch))
            out.append(_toneless(readings.split(",", 1)[0]) if readings else "")
    return tuple(out)


@lru_cache(maxsize=200_000)
def _pinyin_tokens(run: str) -> tuple[str, ...]:
    """Full pinyin and initials of every suffix of ``run``; a character without a reading
    ends the pinyin of what precedes it."""
    tokens: list[str] = []
    full = syllables(run)
    start = 0
    while start < len(full):
        end = start
        while end < len(full) and full[end]:
            end += 1
        part = full[start:end]
        for i in range(len(part)):
            tokens.append("".join(part[i:])[:MAX_PINYIN])
            tokens.append("".join(s[0] for s in part[i:])[:MAX_PINYIN])
        start = end + 1
    return tuple(tokens)


def analyse(texts: Sequence[str], codes: Sequence[str] = ()) -> Tokens:
    """Tokens of a record whose searchable fields are ``texts`` and whose identifiers are
    ``codes``. Fields are analysed one by one: no bigram spans two of them."""
    tokens = Tokens()
    for text in texts:
        for is_han, segment in _segments(normalise(text)):
            if is_han:
                if tokens.bigrams:
                    tokens.bigrams.append(BREAK)
                tokens.bigrams.extend(segment[i : i + 2] for i in range(len(segment) - 1))
                tokens.chars.extend(segment)
                tokens.words.extend(_pinyin_tokens(segment))
            else:
                for word in latin_words(segment):
                    tokens.words.extend(_word_suffixes(word))
    if tokens.bigrams and tokens.bigrams[-1] == BREAK:
        tokens.bigrams.pop()
    for code in codes:
        for word in latin_words(normalise(code)):
            tokens.words.append(word)
            tokens.codes.append(word[::-1])
    return tokens


# --- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing a matching record must contain.

    ``phrase``: bigrams that must appear in a row (n ≥ 2 Chinese characters); ``char``: one
    Chinese character; ``prefix``: a word or pinyin the record has a word starting with;
    ``tail``: also a code ending with the term (the reversed term as a prefix of ``codes``).
    """

    kind: str  # "phrase" | "char" | "prefix"
    tokens: tuple[str, ...]
    tail: str = ""


def parse(query: str) -> list[Term]:
    """The terms of a search box's text; all of them must match (AND). Punctuation and spaces
    separate terms; an empty list means nothing searchable was typed."""
    terms: list[Term] = []
    for is_han, segment in _segments(normalise(query)):
        if is_han:
            if len(segment) == 1:
                terms.append(Term("char", (segment,)))
            else:
                terms.append(Term("phrase", tuple(segment[i : i + 2] for i in range(len(segment) - 1))))
        else:
            for word in latin_words(segment):
                tail = word[::-1] if len(word) >= MIN_CODE_TAIL and any(c.isdigit() for c in word) else ""
                terms.append(Term("prefix", (word,), tail))
    return list(dict.fromkeys(terms))[:MAX_TERMS]
