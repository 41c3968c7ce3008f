import pytest

CASES = [
    ("이사 왔는데 주소 옮기는 건 어디서 하죠?", "T04-001"),
    ("여권 수수료 얼마예요", "T01-002"),
    ("주민증 잃어버려서 재발급 받으려면 얼마예요", "T02-001"),
    ("등본 인터넷으로 뗄수있나요", "T03-001"),
    ("인감 대리 발급 위임장", "T06-002"),
    ("냉장고 버리려고 하는데요", "T16-002"),
    ("소파 버리는 방법", "T16-001"),
    ("자동차세 미리 내면 할인돼요?", "T12-002"),
    ("민원실 몇시에 문닫아요", "T10-001"),
    ("강아지 등록 어디서 해요", "T29-001"),
    ("보건증 어디서 받아요", "T24-001"),
    ("아기 출생신고 기한", "T07-002"),
]

OUT_OF_SCOPE = [
    "로또 번호 알려줘",
    "김치찌개 레시피",
    "삼성전자 주식 살까요",
    "ㅁㄴㅇㄹ ㅁㄴㅇㄹ",
    "asdfgh qwer",
    "오늘 날씨 어때",
]


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_resident_wording_finds_the_right_entry(retriever, question: str, expected: str) -> None:
    result = retriever.search(question)
    assert result.results and result.results[0].id == expected
    assert result.confident


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_questions_get_no_faq_answer(retriever, question: str) -> None:
    assert not retriever.search(question).confident


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_every_mode_answers_with_curated_text(retriever, mode: str) -> None:
    result = retriever.search("전입신고 언제까지 해야 돼요", mode=mode)
    top = result.results[0]
    assert top.id == "T04-001"
    assert "14일" in top.answer and "■ 문의" in top.answer
    assert len({r.id for r in result.results}) == len(result.results)  # one result per entry
