"""A resident's Korean questions answered end to end: api -> real Rasa -> in-process actions -> FAQ."""

from __future__ import annotations

import json

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from api.runner import Stack
from api.tokens import SALT
from faq.store import FaqStore

pytestmark = pytest.mark.e2e
CONTENT = FaqStore.load()


def fact(key: str) -> str:
    """The value residents must read, from the facts table: a correct content update keeps these tests green."""
    return CONTENT.facts.facts[key].value


# Facts the content review corrected, asked the way residents ask; the expected value comes from the content.
QUESTIONS = [
    ("이사 왔는데 주소 옮기는 건 어디서 하죠?", fact("move_in.deadline")),
    ("여권 재발급 수수료 얼마예요?", fact("passport.fee_10y_58")),
    ("등본 인터넷으로 뗄 수 있어요?", "정부24"),
    ("냉장고 버리려면 어떻게 해요", fact("appliance.hotline")),
    ("주민증 잃어버렸어요", fact("resident_card.reissue_fee")),
    ("민원실 몇 시까지 해요?", CONTENT.profile.flat["hours.weekday"]),
    ("인감증명서 인터넷으로 뗄 수 있나요?", fact("seal.online_start")),
    ("아동수당 몇 살까지 받아요?", fact("childcare.child_allowance_age")),
    ("주민등록증 재발급 인터넷으로 신청돼요?", "정부24"),
]


def chat(stack: Stack, text: object, session: str | None = None) -> httpx.Response:
    return httpx.post(f"{stack.api_url}/api/v1/chat", json={"session": session, "text": text}, timeout=30)


def conversation_id(stack: Stack, token: str) -> str:
    secret = (stack.settings.var_dir / "secret_key").read_text().strip()
    return URLSafeTimedSerializer(secret, salt=SALT).loads(token)["sid"]


def rasa_tracker(stack: Stack, sid: str) -> dict:
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{sid}/tracker", params={"token": stack.rasa_token}, timeout=10
    )
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_procedure_questions_get_the_curated_answer(stack: Stack, question: str, expected: str) -> None:
    response = chat(stack, question)
    assert response.status_code == 200, response.text
    body = response.json()
    texts = " ".join(m["text"] for m in body["messages"])
    assert expected in texts, texts
    assert body["session"]


def test_conversation_continues_with_the_returned_token(stack: Stack) -> None:
    first = chat(stack, "안녕하세요").json()
    assert "민원 안내 챗봇" in first["messages"][0]["text"]
    assert first["messages"][0]["buttons"], "the welcome offers quick replies"
    second = chat(stack, "인감증명서 발급 수수료", first["session"]).json()
    assert second["session"] == first["session"]
    events = rasa_tracker(stack, conversation_id(stack, first["session"]))["events"]
    assert sum(1 for e in events if e["event"] == "user") == 2


def test_a_long_conversations_action_call_is_not_refused(stack: Stack) -> None:
    """Rasa posts the whole conversation to the action webhook: by a resident's ~20th question it outgrew
    the residents' 64 KB body limit, the action failed and every later question got the empty-reply
    apology. Here Rasa's own tracker of a real conversation, grown as a 45-question one would be, is
    posted the way Rasa posts it (the per-conversation turn limit keeps a test from typing 45)."""
    session = None
    for question, _ in QUESTIONS[:3]:
        session = chat(stack, question, session).json()["session"]
    assert session is not None
    sid = conversation_id(stack, session)
    tracker = rasa_tracker(stack, sid)
    tracker["events"] = tracker["events"] * 15
    domain = httpx.get(
        f"{stack.rasa_url}/domain", params={"token": stack.rasa_token}, headers={"Accept": "application/json"}
    ).json()
    call = {"next_action": "action_answer_faq", "sender_id": sid, "tracker": tracker, "domain": domain}
    assert len(json.dumps(call).encode()) > 64 * 1024
    response = httpx.post(
        f"{stack.api_url}/internal/actions/webhook", params={"token": stack.action_token}, json=call, timeout=30
    )
    assert response.status_code == 200, response.text
    assert any(r.get("text") for r in response.json()["responses"])
    huge = httpx.post(
        f"{stack.api_url}/api/v1/chat", content=b"x" * 100_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413  # residents' requests keep their limit


def test_empty_text_is_refused_in_korean(stack: Stack) -> None:
    response = chat(stack, "   ")
    assert response.status_code == 422
    assert "질문을 입력해 주세요" in response.json()["detail"]


def test_five_thousand_characters_are_refused(stack: Stack) -> None:
    response = chat(stack, "여권" * 2500)
    assert response.status_code == 413
    assert "1,000자" in response.json()["detail"]


def test_slash_intent_injection_goes_through_nlu(stack: Stack) -> None:
    response = chat(stack, '/request_human{"name": "x"}')
    assert response.status_code == 200
    latest = rasa_tracker(stack, conversation_id(stack, response.json()["session"]))["latest_message"]
    assert not latest["text"].startswith("/")
    assert len(latest["intent_ranking"]) > 1, "NLU classified the text instead of trusting an injected intent"


def test_html_is_stripped_before_storage_and_nlu_and_the_question_still_answered(stack: Stack) -> None:
    response = chat(stack, "<script>alert(1)</script>여권 처음 만들려면 뭐 가져가야 돼요?")
    assert response.status_code == 200
    assert "여권용 사진" in response.text
    # What Rasa saw (and what was stored) has no markup left: the tag never reaches NLU or the console.
    events = rasa_tracker(stack, conversation_id(stack, response.json()["session"]))["events"]
    [said] = [e["text"] for e in events if e["event"] == "user"]
    assert "<" not in said and ">" not in said and "여권 처음 만들려면" in said


def test_forged_session_token_starts_a_fresh_session(stack: Stack) -> None:
    real = chat(stack, "안녕하세요").json()["session"]
    sid = conversation_id(stack, real)
    forged = URLSafeTimedSerializer("attacker-key-0123456789", salt=SALT).dumps({"sid": sid})
    response = chat(stack, "여권 발급", forged)
    assert response.status_code == 200
    new = response.json()["session"]
    assert new != forged and conversation_id(stack, new) != sid


def test_malformed_json_gets_a_clear_error(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.api_url}/api/v1/chat", content=b"{not json", headers={"content-type": "application/json"}, timeout=10
    )
    assert response.status_code == 422
    assert "요청 형식" in response.json()["detail"]


def test_pii_is_masked_before_it_reaches_rasa(stack: Stack) -> None:
    response = chat(stack, "제 번호 010-1234-5678 이고 주민번호 900101-1234567 인데 등본 떼주세요")
    assert response.status_code == 200
    events = rasa_tracker(stack, conversation_id(stack, response.json()["session"]))["events"]
    user_texts = json.dumps([e.get("text") for e in events if e["event"] == "user"], ensure_ascii=False)
    assert "5678" not in user_texts and "1234567" not in user_texts
    assert "[전화번호]" in user_texts and "[주민등록번호]" in user_texts


def test_health_readiness_and_openapi(stack: Stack) -> None:
    assert httpx.get(f"{stack.api_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{stack.api_url}/readyz").json()
    assert ready["status"] == "ready" and ready["index"]["entries"] >= 30
    assert "/api/v1/chat" in httpx.get(f"{stack.api_url}/openapi.json").json()["paths"]


def test_action_endpoint_refuses_callers_without_the_token(stack: Stack) -> None:
    response = httpx.post(f"{stack.api_url}/internal/actions/webhook", json={"next_action": "action_answer_faq"})
    assert response.status_code == 403


def test_cors_allows_only_configured_origins(stack: Stack) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{stack.api_url}/api/v1/chat",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )

    assert preflight(stack.api_url).headers.get("access-control-allow-origin") == stack.api_url
    assert "access-control-allow-origin" not in preflight("https://evil.example").headers


def test_websocket_transport_answers(stack: Stack) -> None:
    from websockets.sync.client import connect

    with connect(stack.api_url.replace("http", "ws") + "/api/v1/ws") as ws:
        ws.send(json.dumps({"type": "hello", "session": None}))
        assert json.loads(ws.recv(timeout=10))["type"] == "session"
        ws.send(json.dumps({"type": "message", "text": "", "id": 1}))
        assert json.loads(ws.recv(timeout=10))["type"] == "error"
        ws.send(json.dumps({"type": "message", "text": "불법주차 신고하려고요", "id": 2}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "bot" and reply["id"] == 2
        assert "안전신문고" in " ".join(m["text"] for m in reply["messages"])
