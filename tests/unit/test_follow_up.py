import pytest

from bot.actions.faq import looks_like_follow_up


@pytest.mark.parametrize(
    "text",
    [
        "그거 수수료는요?",
        "수수료는요?",
        "준비물은 뭐예요?",
        "온라인으로도 돼요?",
        "대리인이 가도 되나요?",
        "처리기간은 얼마나 걸려요?",
    ],
)
def test_questions_without_a_subject_are_follow_ups(text: str) -> None:
    assert looks_like_follow_up(text)


@pytest.mark.parametrize(
    "text", ["민원실 몇 시까지 해요?", "대형폐기물 버리는 법", "자동차세 연납", "여권 잃어버렸어요"]
)
def test_questions_naming_a_new_subject_are_not(text: str) -> None:
    assert not looks_like_follow_up(text)
