"""Does an entry cover what the resident asked? Term coverage and vagueness, from the content itself.

Dense similarity says "this is about the same thing"; it does not say "this answers it". A resident
asking "외국인과 혼인신고" is close to the general 혼인신고 entry, but the entry never mentions foreigners:
presenting it as the answer would be a fluent wrong answer. So a direct answer also needs the
question's specific terms to appear somewhere in the entry (its phrasings or its answer). Terms that
only frame a question ("문의", "방법", "가능한가요") or name a facet of any procedure ("수수료", "서류")
are not specific. A question made only of such words ("서류 떼려고요") is vague: it gets choices.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from faq.store import FaqStore

# Words that frame a question or name a facet every procedure has; they never make a question specific.
FRAME_WORDS = frozenset(
    """
    문의 문의드리 질의 질문 응답 여쭙 부탁 궁금 궁금하 알 알리 알아보 알려주 안내 관련 관하 대하 인하 대한
    방법 절차 여부 가능 가능하 무엇 뭐 어떻 어떡하 어디 언제 얼마 누구 왜 몇 어느 이 그 저 것 거 수 등 및 때 경우
    점 건 데 중 후 전 내 외 위 시 분 번 개 하 되 있 없 같 좋 싶 주 드리 받 보 가 오 나오 나 들 내다 하다 해주
    요청 사항 내용 기준 필요 서류 증명서 구비 준비물 준비 수수료 비용 돈 가격 요금 기간 기한 처리 신청 발급 재발급 접수
    제출 방문 온라인 인터넷 전화 번호 담당 부서 장소 곳 시간 이용 대상 자격 조건 요건 혜택 지원 제도 확인 정보
    민원 처리기간 현황 사업 서비스 프로그램 제공 운영 사용 변경 등록 신고 허가 해당 관련하 문 답 씨 님 저희 제 우리
    """.split()
)
# Who is asking, for whom, and how they say it: everyday words that do not change which procedure applies.
EVERYDAY_WORDS = frozenset(
    """
    아내 남편 부인 와이프 어머니 아버지 엄마 아빠 부모 부모님 할머니 할아버지 시어머니 시아버지 장인 장모 자녀 자식
    아들 딸 아이 애 애기 아기 손자 손녀 형 누나 오빠 언니 동생 가족 식구 본인 남 타인 친구 지인 사람 분들
    핸드폰 휴대폰 폰 스마트폰 카톡 카카오톡 문자 앱 어플 바로 많이 빨리 급하 급히 깜빡 잊어버리 오픈 점심 구입 사다
    하나 양식 대처 좀 꼭 혹시 제발 그냥 다시 또 계속 아직 이미 지금 오늘 내일 어제 요즘 최근 처음 나중 미리 직접 대신
    떼 떼기 뽑 출력 가져가 찾아오 가다 오다 오시 사 살 돈 쓰 쓰다 버리 ㅠㅠ ㅜㅜ
    """.split()
)
IGNORED_WORDS = FRAME_WORDS | EVERYDAY_WORDS


@dataclass(frozen=True)
class CoverageCheck:
    uncovered: tuple[str, ...]  # specific terms of the question the entry never mentions
    unknown: tuple[str, ...]  # specific terms no entry mentions at all (other places' names, other services)
    weight: float  # how much specific meaning is left unanswered (sum of idf)


class Coverage:
    def __init__(self, store: FaqStore) -> None:
        self.vocab: dict[str, frozenset[str]] = {}
        for entry in store.entries:
            terms: set[str] = set()
            for text in entry.texts():
                terms.update(store.lexicon.terms(store.fill(text)))
            self.vocab[entry.id] = frozenset(terms)
        self.df = Counter(term for terms in self.vocab.values() for term in terms)
        self.entries = len(self.vocab)
        self._lexicon = store.lexicon

    def terms(self, query: str) -> tuple[str, ...]:
        """The question's content terms, once each (the lexicon caches the analysis)."""
        return tuple(t for t in dict.fromkeys(self._lexicon.terms(query)) if len(t) > 1)

    def specific_terms(self, query: str) -> list[str]:
        return [t for t in self.terms(query) if t not in IGNORED_WORDS]

    def idf(self, term: str) -> float:
        return math.log((self.entries + 1) / (self.df.get(term, 0) + 1))

    def check(self, query: str, entry_id: str) -> CoverageCheck:
        vocab = self.vocab.get(entry_id, frozenset())
        missing = [t for t in self.specific_terms(query) if t not in vocab]
        unknown = tuple(t for t in missing if t not in self.df)
        known = tuple(t for t in missing if t in self.df)
        return CoverageCheck(known, unknown, sum(self.idf(t) for t in known))

    def is_vague(self, query: str) -> bool:
        """Only framing and facet words, all known to the FAQ: "서류 떼려고요", "신청하려고요", "민원 문의"."""
        terms = self.terms(query)
        return bool(terms) and all(t in IGNORED_WORDS for t in terms) and any(t in self.df for t in terms)
