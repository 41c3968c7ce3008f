import pytest

from api.messages import (
    RESIDENT_EMPTY,
    MessageRejected,
    RejectReason,
    clean_text,
    field_words,
    officer_words,
    resident_words,
)


def test_leading_slash_cannot_inject_an_intent() -> None:
    assert clean_text("/greet", 1000) == "greet"
    assert clean_text(' //request_human{"x":1}', 1000) == 'request_human{"x":1}'


def test_html_is_removed_and_text_kept() -> None:
    assert clean_text("<script>alert(1)</script>여권 <b>발급</b>", 1000) == "alert(1) 여권 발급"


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "/", "<br>"])
def test_empty_messages_are_rejected_in_korean(raw: str) -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text(raw, 1000)
    assert info.value.status == 422 and info.value.reason is RejectReason.EMPTY
    assert resident_words(info.value) == RESIDENT_EMPTY


def test_over_long_messages_are_rejected() -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text("가" * 1001, 1000)
    assert info.value.status == 413 and info.value.reason is RejectReason.TOO_LONG
    assert "1,000자" in resident_words(info.value)


def test_non_text_is_rejected() -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text(123, 1000)
    assert info.value.reason is RejectReason.NOT_TEXT


def test_each_channel_words_the_same_reason_its_own_way() -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text("김" * 31, 30)
    assert field_words(info.value, "성함") == "성함은 30자 이내로 입력해 주세요."
    assert "질문" not in field_words(info.value, "성함")
    assert officer_words(info.value).startswith("메시지가 너무 깁니다")
    with pytest.raises(MessageRejected) as info:
        clean_text(" ", 20)
    assert field_words(info.value, "연락받으실 전화번호") == "연락받으실 전화번호를 입력해 주세요."
