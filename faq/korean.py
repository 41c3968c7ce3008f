"""Korean morphology shared by FAQ retrieval (main env) and the Rasa tokenizer (Rasa env).

This module depends only on kiwipiepy and the standard library, so the Rasa
env (Python 3.10) can import it through ``PYTHONPATH`` without the main env's
packages. Kiwi is expensive to load (~2.5 s, ~0.5 GB), so there is exactly one
instance per process, created on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"
USER_WORDS_FILE = LEXICON_DIR / "user_words.tsv"
SYNONYMS_FILE = LEXICON_DIR / "synonyms.tsv"

# Tags kept as lexical evidence for BM25: nouns, verb/adjective stems, roots,
# foreign words, numbers, hanja, adverbs. Dependent nouns (NNB: 것, 수),
# particles (J*), endings (E*), suffixes and punctuation carry no topic and
# only add noise to term matching.
CONTENT_TAG_PREFIXES = ("NNG", "NNP", "NP", "NR", "VV", "VA", "XR", "SL", "SN", "SH", "MAG", "W_")

_lock = threading.Lock()
_kiwi = None
_plain_kiwi = None


@dataclass(frozen=True)
class Morpheme:
    form: str
    tag: str
    start: int
    end: int


@dataclass
class SurfaceToken:
    """A non-overlapping span of the original text and the morphemes it holds."""

    start: int
    end: int
    text: str
    morphemes: list[Morpheme] = field(default_factory=list)

    @property
    def lemma(self) -> str:
        return "+".join(m.form for m in self.morphemes) or self.text


def read_tsv(path: Path) -> list[list[str]]:
    """Rows of a tab-separated lexicon file; blank lines and ``#`` comments skipped."""
    rows: list[list[str]] = []
    if not path.exists():
        return rows
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if len(cells) < 2 or not all(cells[:2]):
            raise ValueError(f"{path}:{number}: expected two tab-separated columns, got {raw!r}")
        rows.append(cells)
    return rows


def get_kiwi() -> Any:  # a kiwipiepy.Kiwi (untyped package)
    """The process-wide Kiwi, loaded once with the maintained 민원 user-word list."""
    global _kiwi
    if _kiwi is None:
        with _lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                kiwi = Kiwi()
                for word, tag, *_ in read_tsv(USER_WORDS_FILE):
                    kiwi.add_user_word(word, tag, 0.0)
                # Both sides of a synonym must survive as single morphemes,
                # or 주민증 would split into 주민 + 증 and never map.
                for row in read_tsv(SYNONYMS_FILE):
                    for word in row[:2]:
                        if len(word) > 1 and " " not in word:
                            kiwi.add_user_word(word, "NNP", 0.0)
                _kiwi = kiwi
    return _kiwi


def get_plain_kiwi() -> Any:  # a kiwipiepy.Kiwi
    """Kiwi without our user words: only for measuring what the word list is worth."""
    global _plain_kiwi
    if _plain_kiwi is None:
        with _lock:
            if _plain_kiwi is None:
                from kiwipiepy import Kiwi

                _plain_kiwi = Kiwi()
    return _plain_kiwi


def morphemes(text: str, user_words: bool = True) -> list[Morpheme]:
    kiwi = get_kiwi() if user_words else get_plain_kiwi()
    return [Morpheme(tok.form, tok.tag, tok.start, tok.start + tok.len) for tok in kiwi.tokenize(text)]


def merge_spans(text: str, morphs: list[Morpheme]) -> list[SurfaceToken]:
    """Merge Kiwi morphemes into non-overlapping surface spans of ``text``.

    Kiwi reports contracted syllables as several morphemes on the same
    characters (했 → 하 + 었) and inserted copulas with zero length (얼마예요
    → 이/VCP at offset 2, length 0). Token offsets must index the original
    text and never overlap, so overlapping morphemes share one span and
    zero-length ones join the span they touch.
    """
    spans: list[SurfaceToken] = []
    pending: list[Morpheme] = []  # zero-length morphemes before any span
    for morph in sorted(morphs, key=lambda m: (m.start, m.end)):
        if morph.end <= morph.start:
            if spans and morph.start <= spans[-1].end:
                spans[-1].morphemes.append(morph)
            else:
                pending.append(morph)
            continue
        if spans and morph.start < spans[-1].end:
            last = spans[-1]
            last.end = max(last.end, morph.end)
            last.text = text[last.start : last.end]
            last.morphemes.append(morph)
            continue
        spans.append(SurfaceToken(morph.start, morph.end, text[morph.start : morph.end], [*pending, morph]))
        pending = []
    return spans


def surface_tokens(text: str, user_words: bool = True) -> list[SurfaceToken]:
    return merge_spans(text, morphemes(text, user_words))


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """Variant → canonical term (등본 → 주민등록등본), applied to lexical terms."""
    return {variant: canonical for variant, canonical, *_ in read_tsv(SYNONYMS_FILE)}


def lexical_terms(text: str) -> list[str]:
    """Content morphemes of ``text`` for BM25: particles and endings dropped,
    synonyms mapped to one canonical term, Latin letters lower-cased."""
    return list(_lexical_terms(text))


@lru_cache(maxsize=65536)
def _lexical_terms(text: str) -> tuple[str, ...]:
    # Cached: every knowledge release re-analyses the same phrasings and answers.
    table = synonyms()
    terms: list[str] = []
    for morph in morphemes(text):
        if not morph.tag.startswith(CONTENT_TAG_PREFIXES):
            continue
        form = morph.form.lower()
        terms.append(table.get(form, form))
    return tuple(terms)
