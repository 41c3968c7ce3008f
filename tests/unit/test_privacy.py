"""Masking residents' personal data: a labelled table of real-style messages, and the edge cases."""

import itertools

import pytest

from api.privacy import find_pii, mask_pii
from evaluation.bench_masking import PiiCase, load_cases

CASES = load_cases()


def _param(case: PiiCase) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.known_miss)] if case.known_miss else []
    return pytest.param(case, id=case.text[:30], marks=marks)


def test_the_labelled_set_covers_every_kind_and_ordinary_questions() -> None:
    kinds = {span.kind for case in CASES for span in case.spans}
    assert len(CASES) >= 60
    assert len(kinds) == 11
    assert sum(not case.spans for case in CASES) >= 20


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_resident_message_is_stored_as_labelled(case: PiiCase) -> None:
    masked = mask_pii(case.text)
    assert masked == case.expected
    for span in case.spans:
        assert case.text[span.start : span.end] not in masked


@pytest.mark.parametrize(
    "text",
    [
        "901301-1234567",  # month 13: not a birth date
        "900132-1234567",  # day 32
        "900101-9234567",  # 9 is not a valid gender/century digit
    ],
)
def test_invalid_rrn_patterns_are_not_labelled_as_rrn(text: str) -> None:
    assert "[주민등록번호]" not in mask_pii(text)


@pytest.mark.parametrize(
    "text",
    [
        "010-1234-5678",
        "01012345678",
        "010 1234 5678",
        "010 - 1234 - 5678",
        "+82 10-1234-5678",
        "+821012345678",
        "02-123-4567",
        "061-123-4567",
        "031)123-4567",
        "공일공 일이삼사 오륙칠팔",
        "영일영일이삼사오륙칠팔",
    ],
)
def test_phone_numbers_are_masked(text: str) -> None:
    masked = mask_pii(f"연락처 {text} 로 연락주세요")
    assert masked == "연락처 [전화번호] 로 연락주세요"


def test_a_drivers_licence_is_labelled_as_a_licence_not_an_account() -> None:
    assert mask_pii("면허 11-12-345678-90") == "면허 [운전면허번호]"
    assert mask_pii("계좌 111234567890") == "계좌 [계좌번호]"


def test_ordinary_numbers_survive() -> None:
    text = "2024-05-07에 여권 수수료 53,000원을 냈고 1599-0903에 전화했어요. 58면, 14일 이내, 3번 창구"
    assert mask_pii(text) == text


def test_spans_do_not_overlap_and_keep_the_text_around_them() -> None:
    text = "홍길동입니다. 010-1234-5678, 테헤란로 123 101동 202호, M123A4567"
    spans = find_pii(text)
    assert [s.kind.value for s in spans] == ["이름", "전화번호", "주소", "주소", "여권번호"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert mask_pii(text) == "[이름]입니다. [전화번호], [주소] [주소], [여권번호]"
