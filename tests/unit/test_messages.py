import pytest

from api.messages import EMPTY, MessageRejected, clean_text


def test_leading_slash_cannot_inject_an_intent() -> None:
    assert clean_text("/greet", 1000) == "greet"
    assert clean_text(' //request_human{"x":1}', 1000) == 'request_human{"x":1}'


def test_html_is_removed_and_text_kept() -> None:
    assert clean_text("<script>alert(1)</script>여권 <b>발급</b>", 1000) == "alert(1) 여권 발급"


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", "/", "<br>"])
def test_empty_messages_are_rejected_in_korean(raw: str) -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text(raw, 1000)
    assert info.value.status == 422 and info.value.detail == EMPTY


def test_over_long_messages_are_rejected() -> None:
    with pytest.raises(MessageRejected) as info:
        clean_text("가" * 1001, 1000)
    assert info.value.status == 413 and "1,000자" in info.value.detail


def test_non_text_is_rejected() -> None:
    with pytest.raises(MessageRejected):
        clean_text(123, 1000)
