import pytest

from api.privacy import mask_pii


@pytest.mark.parametrize(
    "text",
    [
        "제 주민번호는 900101-1234567 입니다",
        "주민등록번호 9001011234567 로 조회해주세요",
        "051231 - 4123456",
        "외국인등록번호 850315-5123456",
    ],
)
def test_resident_registration_numbers_are_masked(text: str) -> None:
    masked = mask_pii(text)
    assert "[주민등록번호]" in masked
    assert "1234567" not in masked and "4123456" not in masked and "5123456" not in masked


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
        "+82 10-1234-5678",
        "02-123-4567",
        "061-123-4567",
        "031)123-4567",
    ],
)
def test_phone_numbers_are_masked(text: str) -> None:
    masked = mask_pii(f"연락처 {text} 로 연락주세요")
    assert "[전화번호]" in masked
    assert "4567" not in masked and "5678" not in masked


def test_card_account_and_email_are_masked() -> None:
    masked = mask_pii("카드 1234-5678-9012-3456, 계좌 110-123-456789, 메일 hong.gildong@example.com")
    assert "[카드번호]" in masked and "[계좌번호]" in masked and "[이메일]" in masked
    assert "3456" not in masked and "456789" not in masked and "hong.gildong" not in masked


def test_ordinary_numbers_survive() -> None:
    text = "2024-05-07에 여권 수수료 53,000원을 냈고 1599-0903에 전화했어요"
    assert mask_pii(text) == text
