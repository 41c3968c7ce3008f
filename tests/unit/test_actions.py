"""The bot's FAQ action run directly, as Rasa's own demo projects test actions: a dispatcher and a tracker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import (
    CHOOSE,
    CLARIFY,
    CLARIFY_DOCUMENT,
    NOT_FOUND,
    NOT_READY,
    OFFER_HUMAN,
    RELATED,
    ActionAnswerFaq,
    ActionRecordFeedback,
    ActionRequestHuman,
)
from faq.retriever import Retriever


def tracker(text: str, slots: dict[str, Any] | None = None, events: list[dict[str, Any]] | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": "ask_faq", "confidence": 0.9}, "entities": []}
    return Tracker("conv-1", slots or {}, latest, events or [], False, None, {}, "action_listen")


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def shown(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("text")]


def test_a_clear_question_gets_the_curated_answer_and_sets_the_subject(retriever: Retriever) -> None:
    messages, events = run(ActionAnswerFaq(lambda: retriever), tracker("여권 수수료 얼마예요"))
    context = messages[0]["custom"]["context"]
    assert context["decision"] == "answer" and context["candidates"][0]["id"] == "T01-002"
    [answer] = shown(messages)
    fee = retriever.store.facts.facts["passport.fee_10y_58"].value
    assert fee in answer["text"] and answer["text"] == retriever.store.render_answer(retriever.store.by_id["T01-002"])
    assert slots(events) == {"failures": 0.0, "last_faq": "T01-002", "service": "여권"}


def test_a_specific_question_with_only_general_guidance_is_not_presented_as_the_answer(retriever: Retriever) -> None:
    """Coverage: the general entry is about the same procedure but never mentions what was asked."""
    messages, events = run(ActionAnswerFaq(lambda: retriever), tracker("지방세 체납 압류 해제 요청"))
    [reply] = shown(messages)
    assert reply["text"].startswith(RELATED)
    assert "■ 담당부서:" in reply["text"]  # who to confirm it with
    assert {"상담원 연결", "다른 질문"} <= {b["title"] for b in reply["buttons"]}
    assert slots(events)["failures"] == 1.0


def test_a_vague_request_gets_choices_not_an_answer(retriever: Retriever) -> None:
    messages, _ = run(ActionAnswerFaq(lambda: retriever), tracker("서류 떼려고요"))
    [reply] = shown(messages)
    assert reply["text"] == CLARIFY_DOCUMENT
    titles = [b["title"] for b in reply["buttons"]]
    assert len(titles) >= 4 and titles[-2:] == ["다른 질문", "상담원 연결"]
    topics = {retriever.store.by_id[c["id"]].topic for c in messages[0]["custom"]["context"]["candidates"]}
    assert len(topics) == len(messages[0]["custom"]["context"]["candidates"])  # one per topic


def test_a_vague_request_far_from_every_phrasing_still_gets_choices(retriever: Retriever) -> None:
    """Similarity alone calls it out of scope; the words plainly ask for some 민원."""
    messages, _ = run(ActionAnswerFaq(lambda: retriever), tracker("신청할 게 있어서 왔는데요"))
    [reply] = shown(messages)
    assert reply["text"] == CLARIFY and reply["text"] != NOT_FOUND
    assert len(reply["buttons"]) >= 4 and [b["title"] for b in reply["buttons"]][-2:] == ["다른 질문", "상담원 연결"]


def test_chit_chat_is_still_not_found(retriever: Retriever) -> None:
    messages, _ = run(ActionAnswerFaq(lambda: retriever), tracker("오늘 점심 뭐 먹지"))
    assert [m["text"] for m in shown(messages)] == [NOT_FOUND]


def test_out_of_scope_then_a_second_miss_offers_a_person(retriever: Retriever) -> None:
    messages, events = run(ActionAnswerFaq(lambda: retriever), tracker("로또 번호 알려줘"))
    assert [m["text"] for m in shown(messages)] == [NOT_FOUND]
    messages, events = run(ActionAnswerFaq(lambda: retriever), tracker("김치찌개 레시피", slots(events)))
    assert [m["text"] for m in shown(messages)][-1] == OFFER_HUMAN
    assert slots(events)["failures"] == 0.0


def test_close_entries_are_offered_as_choices(retriever: Retriever) -> None:
    assert retriever.search("아기 출생신고 기한").decision == "choose"
    messages, _ = run(ActionAnswerFaq(lambda: retriever), tracker("아기 출생신고 기한"))
    [reply] = shown(messages)
    assert reply["text"] == CHOOSE and len(reply["buttons"]) >= 3


def test_without_a_loaded_retriever_the_resident_is_told_to_wait() -> None:
    messages, events = run(ActionAnswerFaq(lambda: None), tracker("여권"))
    assert [m["text"] for m in messages] == [NOT_READY] and events == []


@pytest.mark.parametrize(("intent", "helpful"), [("feedback_negative", False), ("feedback_positive", True)])
def test_typed_feedback_is_handed_to_the_api_with_the_last_answer(intent: str, helpful: bool) -> None:
    events = [{"event": "bot", "text": "여권 안내입니다."}, {"event": "bot", "text": None}]
    t = Tracker("c", {}, {"text": "x", "intent": {"name": intent}}, events, False, None, {}, None)
    messages, _ = run(ActionRecordFeedback(), t)
    assert messages == [{**messages[0], "custom": {"feedback": {"helpful": helpful, "answer": "여권 안내입니다."}}}]


def test_asking_for_a_person_is_handed_to_the_api() -> None:
    messages, events = run(ActionRequestHuman(), tracker("상담원 연결"))
    assert messages[0]["custom"] == {"handoff": "request"} and slots(events) == {"failures": 0.0}
