"""What a follow-up question refers to: the facet asked, a correction, a switch to another service.

A resident reading an answer asks about it in few words: "그거 떼는 데 얼마예요?" (the fee of what was
just answered), "아니 재발급이요" (not that one: the reissue), "인감증명서는요?" (the same question as
before, about another service). These helpers read the words; the FAQ action decides what to search.
"""

from __future__ import annotations

import re
from enum import StrEnum

from faq.korean import morphemes

FOLLOW_UP_CUES = ("그거", "그건", "그것", "그럼", "그러면", "그래서", "이거", "이건", "거기", "그 ")
# "아니 재발급이요": the resident rejects the last answer; the cue itself means nothing to the search
# (and "아니" pulls the query towards entries about refusals and negations).
CORRECTION = re.compile(r"^\s*(아니요|아니오|아뇨|아니|그게 아니라|그거 말고|말고)[\s,.!~]*")
CONTENT_TAGS = ("NNG", "NNP", "VV", "VA", "SL")
LIGHT_WORDS = {"하", "되", "있", "없", "알", "주", "뭐", "얼마", "어디", "언제", "어떻", "가", "오"}
# Aspects of a procedure: a question made only of these asks about the
# service already under discussion, not about a new one.
FACETS = {
    "수수료",
    "비용",
    "돈",
    "가격",
    "준비물",
    "서류",
    "필요",
    "처리",
    "기간",
    "기한",
    "장소",
    "곳",
    "온라인",
    "인터넷",
    "대리",
    "대리인",
    "위임장",
    "시간",
    "방법",
    "신청",
    "발급",
    "재발급",
    "수령",
    "예약",
    "취소",
    "환불",
    "조건",
    "자격",
    "대상",
    "할인",
    "감면",
    "가능",
    "걸리",
    "받",
    "내",
    "들",
    "문의",
    "전화",
    "번호",
    "담당",
    "과태료",
    "벌금",
    "가산세",
}


class Facet(StrEnum):
    FEE = "fee"
    PENALTY = "penalty"
    ONLINE = "online"
    DOCUMENTS = "documents"
    DURATION = "duration"
    DEADLINE = "deadline"
    PLACE = "place"
    CONTACT = "contact"


# Words that ask for a facet, and the text an answer must contain to cover it (the curated answers
# put each facet on its own "■" line; penalties are written inside the 참고 line).
FACET_WORDS: dict[Facet, frozenset[str]] = {
    Facet.FEE: frozenset({"수수료", "비용", "돈", "가격", "얼마", "얼마나"}),
    Facet.PENALTY: frozenset({"과태료", "벌금", "가산세"}),
    Facet.ONLINE: frozenset({"온라인", "인터넷", "정부24"}),
    Facet.DOCUMENTS: frozenset({"준비물", "챙기", "가져가"}),
    Facet.DURATION: frozenset({"처리", "기간", "걸리", "며칠"}),
    Facet.DEADLINE: frozenset({"기한", "언제", "언제까지"}),
    Facet.PLACE: frozenset({"장소", "어디", "곳"}),
    Facet.CONTACT: frozenset({"전화", "번호", "담당", "문의"}),
}
FACET_MARKERS: dict[Facet, tuple[str, ...]] = {
    Facet.FEE: ("■ 수수료",),
    Facet.PENALTY: ("과태료", "가산세"),
    Facet.ONLINE: ("■ 온라인",),
    Facet.DOCUMENTS: ("■ 준비물",),
    Facet.DURATION: ("■ 처리기간",),
    Facet.DEADLINE: ("■ 기한",),
    Facet.PLACE: ("■ 신청 장소",),
    Facet.CONTACT: ("■ 담당부서",),
}
# Verbs every procedure question uses ("떼는 데", "신청도 돼요", "안 하면"): they name no service.
NEUTRAL_WORDS = {"떼", "뗄", "받", "내", "들", "하", "되", "만들", "발급", "신청", "필요", "가능", "안", "알리", "궁금"}
# "인감증명서는요?": a bare subject with a topic particle and nothing else.
BARE_SUBJECT_ENDINGS = ("은요", "는요", "도요", "은요?", "는요?", "도요?")


def _content(text: str) -> set[str]:
    """Content words; a prefix joins its noun, so "재발급" is not the neutral "발급"."""
    words: set[str] = set()
    prefix = ""
    for m in morphemes(text):
        if m.tag == "XPN":
            prefix = m.form
            continue
        if m.tag.startswith(CONTENT_TAGS) and m.form not in LIGHT_WORDS:
            words.add(prefix + m.form)
        prefix = ""
    return words


def looks_like_follow_up(text: str) -> bool:
    """ "그거 수수료는요?", "준비물은요?", "온라인으로도 돼요?": no subject of their own."""
    stripped = strip_cues(text)
    if text.strip().startswith(FOLLOW_UP_CUES) or CORRECTION.match(text):
        return True
    return _content(stripped) <= FACETS


def strip_cues(text: str) -> str:
    """The question without "아니," or a leading "그거": what is left is what the resident asks."""
    stripped = CORRECTION.sub("", text.strip(), count=1)
    for cue in FOLLOW_UP_CUES:
        if stripped.startswith(cue):
            return stripped[len(cue) :].strip()
    return stripped


def asked_facets(text: str) -> set[Facet]:
    forms = {m.form for m in morphemes(text)}
    return {facet for facet, words in FACET_WORDS.items() if forms & words}


def facet_only(text: str) -> bool:
    """The question asks for facets and names nothing else ("안 하면 과태료 있어요?", not "재발급 수수료는요?")."""
    if not asked_facets(text):
        return False
    facet_words = set().union(*FACET_WORDS.values())
    return not (_content(strip_cues(text)) - facet_words - NEUTRAL_WORDS)


def covers(answer: str, facets: set[Facet]) -> bool:
    """Does this answer state every facet asked?"""
    return all(any(marker in answer for marker in FACET_MARKERS[facet]) for facet in facets)


def bare_subject(text: str) -> bool:
    """ "인감증명서는요?", "자동차세는요?": a new subject, and the question is the one asked before."""
    stripped = text.strip().rstrip("?.! ")
    if not stripped.endswith(tuple(e.rstrip("?") for e in BARE_SUBJECT_ENDINGS)):
        return False
    content = _content(stripped)
    return 0 < len(content) <= 2 and not asked_facets(stripped) and not content & FACETS


def facet_words_of(text: str) -> list[str]:
    """The facet words of an earlier question, in its order, to ask them again about a new subject."""
    words = set().union(*FACET_WORDS.values())
    seen: list[str] = []
    for m in morphemes(text):
        if m.form in words and m.form not in seen:
            seen.append(m.form)
    return seen
