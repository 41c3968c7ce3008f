"""Personal data typed into the chat never reaches the disk: planted values are searched for in the stack's var
folder (database, api and Rasa logs) and in Rasa's tracker, after a real conversation."""

from __future__ import annotations

import json
import random
import secrets
from pathlib import Path

import pytest

from api.runner import Stack
from tests.e2e.test_chat_e2e import chat, conversation_id, rasa_tracker

pytestmark = pytest.mark.e2e
KOREAN_DIGITS = "공일이삼사오육칠팔구"


def planted(draw: random.Random) -> dict[str, tuple[str, str]]:
    """Per kind: (the value, the message a resident would type with it). Fresh values every run."""

    def digits(n: int) -> str:
        return "".join(draw.choice("0123456789") for _ in range(n))

    birth = f"{draw.randint(50, 99)}{draw.randint(1, 12):02d}{draw.randint(1, 28):02d}"
    letters = "MSRGD"
    mobile = f"010-{draw.randint(2000, 9999)}-{digits(4)}"
    spoken = "".join(KOREAN_DIGITS[int(d)] for d in digits(8))
    name = draw.choice("김이박최정강조윤장임한") + draw.choice("민서준지현도하은수진") + draw.choice("우윤영호성연주원")
    values = {
        "rrn": (f"{birth}-{draw.randint(1, 4)}{digits(6)}", "제 주민번호는 {} 입니다 등본 떼려고요"),
        "alien": (f"{birth}-{draw.randint(5, 8)}{digits(6)}", "외국인등록번호 {} 체류지 변경 문의요"),
        "passport_old": (f"{draw.choice(letters)}{digits(8)}", "여권번호 {} 분실신고 하려고요"),
        "passport_new": (f"{draw.choice(letters)}{digits(3)}{draw.choice('ABCDEF')}{digits(4)}", "새 여권 {} 재발급요"),
        "licence": (f"{draw.randint(11, 28)}-{digits(2)}-{digits(6)}-{digits(2)}", "운전면허 {} 주소 변경이요"),
        "mobile": (mobile, "연락처 {} 로 전화 주세요"),
        "spoken_phone": (f"공일공 {spoken[:4]} {spoken[4:]}", "제 번호는 {}입니다"),
        "email": (f"resident{secrets.token_hex(4)}@example.com", "답변은 {} 으로 주세요"),
        "card": (f"{digits(4)}-{digits(4)}-{digits(4)}-{digits(4)}", "카드 {} 로 낸 수수료 환불되나요"),
        "account": (f"{digits(3)}-{digits(3)}-{digits(6)}", "환급 계좌 {} 로 넣어주세요"),
        "unit": (f"{draw.randint(101, 129)}동 {draw.randint(1001, 2504)}호", "예시아파트 {}로 이사했어요 전입신고요"),
        "road": (f"행복로 {draw.randint(200, 999)}", "새 주소는 {} 입니다"),
        "name": (name, "제 이름은 {}입니다 여권 찾으러 가요"),
        "plate": (f"{draw.randint(10, 99)}{draw.choice('가나다라마')}{digits(4)}", "차량번호 {} 과태료 조회요"),
    }
    return {kind: (value, template.format(value)) for kind, (value, template) in values.items()}


def files_containing(root: Path, needles: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        for kind, needle in needles.items():
            if needle.encode() in data:
                found.setdefault(kind, []).append(str(path.relative_to(root)))
    return found


def needles_of(values: dict[str, tuple[str, str]]) -> dict[str, str]:
    needles = {kind: value for kind, (value, _) in values.items()}
    # Stored digits without their separators would leak as much as the typed form.
    return needles | {
        f"{kind}-digits": "".join(c for c in value if c.isdigit())
        for kind, value in needles.items()
        if sum(c.isdigit() for c in value) >= 8
    }


def test_planted_personal_data_is_nowhere_on_disk_nor_in_rasas_tracker(stack: Stack) -> None:
    draw = random.Random(secrets.randbits(64))
    values = planted(draw)
    # A drawn name or street number the knowledge base already contains would be found for the wrong reason.
    while files_containing(stack.settings.var_dir, needles_of(values)):
        values = planted(draw)
    needles = needles_of(values)
    # Not personal: must be found, or the search proves nothing. Hangul only: a run of hex digits in it would be
    # masked as an account number now and then (1 run in 60), and the marker would go missing for the right reason.
    marker = "확인표식" + "".join(secrets.choice("가나다라마바사아자차카타파하") for _ in range(10))
    session = None
    for kind, (_, message) in values.items():
        response = chat(stack, f"{message} {marker}" if kind == "rrn" else message, session)
        assert response.status_code == 200, response.text
        session = response.json()["session"]
    assert session is not None
    tracker = json.dumps(rasa_tracker(stack, conversation_id(stack, session)), ensure_ascii=False)

    leaks = files_containing(stack.settings.var_dir, needles | {"marker": marker})
    assert leaks.pop("marker", None), "the marker was not found on disk: the search does not see stored text"
    assert leaks == {}
    assert marker in tracker  # the conversation reached Rasa
    assert [kind for kind, needle in needles.items() if needle in tracker] == []
