"""The county's own synonyms (주소 이전 ≈ 전입신고), applied to lexical retrieval and coverage.

The shipped shorthand list (`lexicon/synonyms.tsv`) maps single morphemes inside Kiwi; curators add
phrases in the console. A phrase is expanded in the text itself ("주소 이전" → "주소 이전 전입신고"), on
both the FAQ's phrasings and residents' questions, so the two meet without retraining anything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import lru_cache

from faq.korean import lexical_terms


class Lexicon:
    def __init__(self, synonyms: Mapping[str, str] | None = None) -> None:
        self.synonyms = {k.strip(): v.strip() for k, v in (synonyms or {}).items() if k.strip() and v.strip()}
        variants = sorted(self.synonyms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in variants)) if variants else None
        self.terms = lru_cache(maxsize=8192)(self._terms)

    def expand(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: f"{m.group(0)} {self.synonyms[m.group(0)]}", text)

    def _terms(self, text: str) -> list[str]:
        return lexical_terms(self.expand(text))

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(sorted(self.synonyms.items())).encode()).hexdigest()[:12]
