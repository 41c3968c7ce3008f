"""Conversation behaviour a resident notices, through the real api and Rasa."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from api.db import Database
from api.db.models import Vote
from api.runner import Stack
from api.tokens import SALT
from faq.store import CountyProfile, FaqStore

pytestmark = pytest.mark.e2e
DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8"))
PROFILE = CountyProfile.load()
FACTS = FaqStore.load().facts.facts


def stored_votes(stack: Stack, token: str | None) -> list[Vote]:
    """The helpfulness votes stored for this conversation, read from the stack's own database."""
    secret = (stack.settings.var_dir / "secret_key").read_text().strip()
    conversation_id = URLSafeTimedSerializer(secret, salt=SALT).loads(token)["sid"]
    db = Database(stack.settings.database_url)
    try:
        with db.session() as session:
            return list(session.scalars(select(Vote).where(Vote.conversation_id == conversation_id)))
    finally:
        db.dispose()


def response(name: str) -> str:
    """What the bot's own response ``name`` says to residents (county markers filled)."""
    return PROFILE.fill_markers(DOMAIN["responses"][name][0]["text"])


class Conversation:
    def __init__(self, stack: Stack) -> None:
        self.url = f"{stack.api_url}/api/v1/chat"
        self.token: str | None = None

    def say(self, text: str) -> str:
        response = httpx.post(self.url, json={"session": self.token, "text": text}, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        self.token = body["session"]
        self.last = body["messages"]
        return "\n".join(m["text"] for m in body["messages"])


def test_follow_up_question_keeps_the_subject(stack: Stack) -> None:
    chat = Conversation(stack)
    assert "분실" in chat.say("여권 잃어버렸어요")
    assert FACTS["passport.fee_10y_58"].value in chat.say("그거 수수료는요?")


def test_two_failures_in_a_row_offer_a_person(stack: Stack) -> None:
    chat = Conversation(stack)
    first = chat.say("로또 번호 알려줘")
    assert "상담하시겠어요" not in first
    second = chat.say("김치찌개 레시피 알려줘")
    assert "상담하시겠어요" in second
    titles = [b["title"] for m in chat.last for b in m["buttons"]]
    assert "상담원 연결" in titles


def test_abuse_gets_the_abuse_response_not_a_search_miss(stack: Stack) -> None:
    reply = Conversation(stack).say("멍청한 챗봇 진짜 쓸모없다")
    assert reply == response("utter_abuse")


def test_bot_says_what_it_is(stack: Stack) -> None:
    reply = Conversation(stack).say("너 누구야? 사람이야?")
    assert reply == response("utter_bot_identity")
    assert PROFILE.flat["county.office"] in reply


def test_restart_starts_over(stack: Stack) -> None:
    chat = Conversation(stack)
    chat.say("여권 잃어버렸어요")
    assert response("utter_restart") in chat.say("처음부터 다시")


def test_typed_negative_feedback_is_recorded_apologises_and_offers_help(stack: Stack) -> None:
    chat = Conversation(stack)
    answer = chat.say("전입신고 언제까지 해야 돼요")
    reply = chat.say("원하는 답이 아니에요")
    assert reply == response("utter_feedback_sorry")
    assert "상담원 연결" in [b["title"] for m in chat.last for b in m["buttons"]]
    votes = stored_votes(stack, chat.token)
    assert any(v.helpful is False and v.channel == "typed" and v.answer and v.answer in answer for v in votes)
    assert all(v.entry_id == "T04-001" for v in votes)  # tied to the entry that was answered
