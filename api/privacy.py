"""Mask residents' personal data before text is logged, stored or sent to Rasa.

Masking is deliberately greedy: a 13-digit number that looks like a resident
registration number is masked even if it is an order number, because a
false positive costs a re-typed question and a false negative leaks identity.
Only residents' own text goes through here: the bot's answers (which carry the
county offices' phone numbers) are never masked.

Detectors run in a fixed order and a later one never touches what an earlier one
took, so a driver's licence number is not also read as a bank account. A stated
name is found with Kiwi's part-of-speech tags (proper noun after "제 이름은",
"저는 …입니다"), not with a list of names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from api.kinds import PiiKind
from faq.korean import USER_WORDS_FILE, get_kiwi, read_tsv


@dataclass(frozen=True)
class PiiSpan:
    kind: PiiKind
    start: int
    end: int


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# YYMMDD + gender/century digit + 6 digits; 1-4 (and 9/0 before 1900) residents, 5-8 registered foreigners.
# Residents often type the last six as stars ("900101-1******"): the rest is still theirs.
RRN = re.compile(
    r"(?<!\d)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\s?[-–]?\s?(?P<g>[1-8])(?:\d{6}|[*xX●○]{6})(?!\d)"
)
REGIONS = "서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주"
# Driver's licence: region code (2 digits, or the region's name) - year (2) - serial (6) - check (2).
LICENCE = re.compile(rf"(?<![\d-])(?:(?:{REGIONS})\s?|\d{{2}}\s?-\s?)\d{{2}}\s?-\s?\d{{6}}\s?-\s?\d{{2}}(?![\d-])")
LICENCE_PLAIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
LICENCE_CUE = re.compile(r"면허")
# Korean passports: a letter and 8 digits (until 2020), a letter, 3 digits, a letter, 4 digits (since 2021).
PASSPORT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:\d{8}|\d{3}[A-Za-z]\d{4})(?![A-Za-z0-9])")
CARD = re.compile(r"(?<!\d)(?:\d{4}[- ]?\d{4}[- ]?\d{4}[- ]?\d{3,4}|\d{4}[- ]?\d{6}[- ]?\d{5})(?!\d)")
# Mobile and area codes, with 0 or +82; separators: dash, dot, space, brackets, or none.
_AREA = r"(?:1[016789]|2|[3-6][1-5]|70|50\d)"
PHONE = re.compile(
    rf"(?<![\d+])(?:\+\s?82[\s.\-]*(?:\(0\)[\s.\-]*)?0?|\(?0){_AREA}\)?\s*[-.)]?\s*\d{{3,4}}\s*[-.]?\s*\d{{4}}(?!\d)"
)
# The same read out in Korean numerals: 공일공 일이삼사 오륙칠팔 (digits may be mixed in).
_K = "[0-9공영일이삼사오육륙칠팔구]"
_KS = r"[\s.\-]*"
_KAREA = rf"(?:[1일]{_KS}[016789공영육륙칠팔구]|[2이]|[3-6삼사오육륙]{_KS}[1-5일이삼사오]|[7칠]{_KS}[0공영])"
KOREAN_PHONE = re.compile(rf"(?<![가-힣0-9])[0공영]{_KS}{_KAREA}(?:{_KS}{_K}){{7,8}}")
KOREAN_NUMERAL = re.compile("[공영일이삼사오육륙칠팔구]")
# A number followed by one of these counts something (3번 창구, 10시, 2만 원), it is not a building number.
_NOT_ADDRESS = r"(?!\d|\s?(?:번(?![지길])|[일월년개명시분원세살회차장건쪽면층주박배초만천종%]|개월|시간|가지))"
ROAD_ADDRESS = re.compile(
    rf"[가-힣0-9]*[가-힣](?:대로|로|길)\s?\d{{1,4}}(?:-\d{{1,4}})?(?:\s?번길\s?\d{{1,4}}(?:-\d{{1,4}})?)?{_NOT_ADDRESS}"
)
LOT_ADDRESS = re.compile(
    r"[가-힣]+(?:동|리|\d가)\s?\d{1,5}(?:-\d{1,5})?\s?번지|[가-힣]+(?:동|리|\d가)\s\d{1,5}-\d{1,5}(?![\d-])"
)
UNIT = re.compile(r"(?<!\d)\d{1,4}\s?동\s?\d{1,5}\s?호|(?<![\d-])\d{1,4}-\d{3,5}\s?호")
_PLATE_LETTER = "[가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호]"
PLATE = re.compile(rf"(?:(?:{REGIONS})\s?\d{{1,2}}|(?<!\d)\d{{2,3}})\s?{_PLATE_LETTER}\s?\d{{4}}(?!\d)")
# Bank accounts: 10-14 digits, plain or in 2-6 digit hyphenated groups.
ACCOUNT = re.compile(r"(?<![\d-])(?:\d{2,6}-){1,4}\d{2,8}(?![\d-])|(?<!\d)\d{10,14}(?!\d)")


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def _matches(pattern: re.Pattern[str], kind: PiiKind) -> Callable[[str], Iterator[PiiSpan]]:
    def find(text: str) -> Iterator[PiiSpan]:
        for match in pattern.finditer(text):
            yield PiiSpan(kind, match.start(), match.end())

    return find


def _rrn(text: str) -> Iterator[PiiSpan]:
    for match in RRN.finditer(text):
        kind = PiiKind.ALIEN if match.group("g") in "5678" else PiiKind.RRN
        yield PiiSpan(kind, match.start(), match.end())


def _licence(text: str) -> Iterator[PiiSpan]:
    yield from _matches(LICENCE, PiiKind.LICENCE)(text)
    if LICENCE_CUE.search(text):  # twelve bare digits are an account number unless a licence is talked about
        yield from _matches(LICENCE_PLAIN, PiiKind.LICENCE)(text)


def _korean_phone(text: str) -> Iterator[PiiSpan]:
    for match in KOREAN_PHONE.finditer(text):
        if KOREAN_NUMERAL.search(match.group(0)):  # all-digit numbers are PHONE's
            yield PiiSpan(PiiKind.PHONE, match.start(), match.end())


def _account(text: str) -> Iterator[PiiSpan]:
    for match in ACCOUNT.finditer(text):
        if 10 <= _digits(match.group(0)) <= 14:
            yield PiiSpan(PiiKind.ACCOUNT, match.start(), match.end())


# ---- names ----
# Words that introduce the resident's own name; what follows is a name whatever Kiwi tags it.
NAME_NOUNS = {"이름", "성함", "성명", "실명"}
# "저는 X입니다" is weaker: X is a name only if Kiwi tags it a proper noun (not 주민, 서울 사는…).
NAME_CUES = ("이름", "성함", "성명", "실명", "저는", "전 ", "저 ", "제가", "라고", "입니다", "이에요", "예요")
NAME_TAGS = ("NNP", "NNG", "NR", "NNB", "XSN")
HANGUL_NAME = re.compile(r"[가-힣]{2,5}")
# Weakly introduced, a name has a surname and a given name (3-4 syllables: 서울 is not one), and does
# not end like a place or its people (세종시민, 예시군민).
WEAK_NAME = re.compile(r"[가-힣]{3,4}")
NAME_ENDINGS = (
    "입니다",
    "이에요",
    "이예요",
    "이고요",
    "인데요",
    "이라고",
    "예요",
    "에요",
    "이고",
    "인데",
    "이요",
    "라고",
)
PLACE_ENDINGS = ("시민", "군민", "구민", "도민", "읍민", "면민", "주민", "시", "군", "도", "읍", "면")


@lru_cache(maxsize=1)
def _lexicon_words() -> frozenset[str]:
    """The project's own 민원 terms, which Kiwi is taught as proper nouns: never a person's name."""
    return frozenset(row[0] for row in read_tsv(USER_WORDS_FILE))


def _names(text: str) -> Iterator[PiiSpan]:
    if not any(cue in text for cue in NAME_CUES):
        return
    tokens = list(get_kiwi().tokenize(text))
    for i in range(len(tokens)):
        strong = _after_name_noun(tokens, i)
        weak = not strong and _after_self(tokens, i)
        if not (strong or weak):
            continue
        run = _noun_run(tokens, i)
        if not run:
            continue
        start, end = tokens[run[0]].start, tokens[run[-1]].start + tokens[run[-1]].len
        # Kiwi reads an unknown name and its copula as one noun (박지현입니다/NNG): cut the ending off.
        surface = text[start:end]
        trimmed = next((surface[: -len(e)] for e in NAME_ENDINGS if surface.endswith(e) and len(surface) > len(e)), "")
        if trimmed:
            surface, end = trimmed, start + len(trimmed)
        if not HANGUL_NAME.fullmatch(surface) or surface in _lexicon_words():
            continue
        follow = tokens[run[-1] + 1 :]
        if strong and not (trimmed or not follow or follow[0].tag.startswith(("VCP", "J", "E", "S"))):
            continue  # 이름은 개명하려면: a verb, not a name
        if weak and not (
            WEAK_NAME.fullmatch(surface)
            and not surface.endswith(PLACE_ENDINGS)
            and any(_name_like(tokens[j]) for j in run)
            and (trimmed or _introduces(follow))
        ):
            continue
        yield PiiSpan(PiiKind.NAME, start, end)


def _after_name_noun(tokens: list[Any], i: int) -> bool:
    """``…이름은 X | 성함이 X | 성함: X`` (``이름 철자`` is a compound, not an introduction)."""
    if i < 2 or tokens[i - 2].form not in NAME_NOUNS:
        return False
    particle = tokens[i - 1]
    return bool(particle.tag.startswith(("SP", "SS")) or particle.form in ("은", "는", "이", "가", ":"))


def _after_self(tokens: list[Any], i: int) -> bool:
    """``저는 X`` / ``전 X`` / ``저 X``, or X opening the message or a sentence (``김민지입니다.``)."""
    if i == 0 or tokens[i - 1].tag in ("SF", "SP"):
        return True
    previous = tokens[i - 1].form
    if previous == "저" and tokens[i - 1].tag in ("NP", "MM"):
        return True
    return previous in ("는", "ᆫ") and i >= 2 and tokens[i - 2].form == "저"


def _noun_run(tokens: list[Any], i: int) -> list[int]:
    """The adjacent noun morphemes from ``i`` (성함은 이영희요 → 이/NR 영/NR 희/NNG)."""
    run: list[int] = []
    for j in range(i, len(tokens)):
        token = tokens[j]
        if not token.tag.startswith(NAME_TAGS):
            break
        if run:
            before = tokens[run[-1]]
            if before.start + before.len != token.start:
                break
        run.append(j)
    return run


def _introduces(follow: list[Any]) -> bool:
    """``X입니다 / X인데요 / X이에요 / X(이)라고 합니다``."""
    forms = [t.form for t in follow[:3]]
    return bool(follow) and (follow[0].tag == "VCP" or "라고" in forms or "이라고" in forms)


@lru_cache(maxsize=1)
def _unknown_noun_ids() -> frozenset[int]:
    """The ids Kiwi gives nouns it does not know, found by asking it about made-up words.

    A known common noun after 저는 is what the resident is (주민, 세입자, 대학생); a proper noun or
    a noun Kiwi has never seen (장도준, 안현지) is who they are.
    """
    probe = "뷁뛣꿿이고 쉛뢟퉯입니다 그리고 꿿뷁뛣"
    return frozenset(t.id for t in get_kiwi().tokenize(probe) if t.tag in ("NNG", "NNP"))


def _name_like(token: Any) -> bool:
    return token.tag == "NNP" or token.id in _unknown_noun_ids()


DETECTORS: tuple[Callable[[str], Iterator[PiiSpan]], ...] = (
    _matches(EMAIL, PiiKind.EMAIL),
    _rrn,
    _licence,
    _matches(PASSPORT, PiiKind.PASSPORT),
    _matches(CARD, PiiKind.CARD),
    _matches(PHONE, PiiKind.PHONE),
    _korean_phone,
    _matches(UNIT, PiiKind.ADDRESS),
    _matches(LOT_ADDRESS, PiiKind.ADDRESS),
    _matches(ROAD_ADDRESS, PiiKind.ADDRESS),
    _matches(PLATE, PiiKind.PLATE),
    _account,
    _names,
)


def find_pii(text: str) -> list[PiiSpan]:
    """Every personal-data span in ``text``, in order; an earlier detector wins an overlap."""
    taken: list[PiiSpan] = []
    for detect in DETECTORS:
        for span in detect(text):
            if span.end > span.start and not any(span.start < t.end and t.start < span.end for t in taken):
                taken.append(span)
    return sorted(taken, key=lambda s: s.start)


def mask_pii(text: str) -> str:
    """``text`` with each personal-data span replaced by its label, e.g. ``[전화번호]``."""
    parts: list[str] = []
    position = 0
    for span in find_pii(text):
        parts.append(text[position : span.start])
        parts.append(f"[{span.kind.value}]")
        position = span.end
    parts.append(text[position:])
    return "".join(parts)
