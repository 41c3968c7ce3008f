from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import CHOOSE, ActionAnswerFaq
from bot.actions.follow_up import (
    Facet,
    asked_facets,
    bare_subject,
    facet_only,
    looks_like_follow_up,
    strip_cues,
)
from faq.retriever import Retriever


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


@pytest.mark.parametrize(
    ("text", "facets"),
    [
        ("그거 떼는 데 얼마예요?", {Facet.FEE}),
        ("안 하면 과태료 있어요?", {Facet.PENALTY}),
        ("인터넷으로 신청도 돼요?", {Facet.ONLINE}),
    ],
)
def test_a_question_only_about_a_facet_is_read_as_that_facet(text: str, facets: set[Facet]) -> None:
    assert facet_only(text) and asked_facets(text) == facets


@pytest.mark.parametrize("text", ["재발급 수수료는요?", "고양이도 과태료 있어요?", "여권 수수료 얼마예요"])
def test_a_facet_question_naming_something_else_is_not_facet_only(text: str) -> None:
    assert not facet_only(text)


@pytest.mark.parametrize("text", ["인감증명서는요?", "자동차세는요", "등본도요?"])
def test_a_bare_subject_is_a_switch(text: str) -> None:
    assert bare_subject(text)


@pytest.mark.parametrize("text", ["수수료는요?", "여권 수수료는 얼마인가요?", "그건 왜요?"])
def test_a_facet_or_a_full_question_is_not_a_switch(text: str) -> None:
    assert not bare_subject(text)


def test_correction_and_follow_up_cues_are_left_out_of_the_search() -> None:
    assert strip_cues("아니 재발급이요") == "재발급이요"
    assert strip_cues("아니요, 재발급이요") == "재발급이요"
    assert strip_cues("그거 떼는 데 얼마예요?") == "떼는 데 얼마예요?"
    assert strip_cues("아니 재발급이요") and looks_like_follow_up("아니 재발급이요")


# --- Two-turn conversations through the FAQ action: what the resident reads on the second turn.


def converse(retriever: Retriever, *said: str, entities: dict[str, str] | None = None) -> list[str]:
    """Each turn as Rasa hands it to the action: the slots the earlier turns set, the user events so far,
    and the service entity Rasa's NLU finds in a turn (``entities``: text → value; the slot follows it)."""
    action = ActionAnswerFaq(lambda: retriever)
    state: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    shown: list[str] = []
    for text in said:
        events.append({"event": "user", "text": text})
        found = (entities or {}).get(text)
        latest = {
            "text": text,
            "intent": {"name": "ask_faq", "confidence": 0.9},
            "entities": [{"entity": "service", "value": found}] if found else [],
        }
        if found:
            state["service"] = found
        tracker = Tracker("conv-1", dict(state), latest, list(events), False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        new_events = asyncio.run(action.run(dispatcher, tracker, {}))
        state.update({e["name"]: e["value"] for e in new_events if e.get("event") == "slot"})
        texts = [m["text"] for m in dispatcher.messages if m.get("text")]
        events.extend({"event": "bot", "text": t} for t in texts)
        shown.append("\n".join(texts))
    return shown


def answer_of(retriever: Retriever, entry_id: str) -> str:
    return retriever.store.render_answer(retriever.store.by_id[entry_id])


def test_the_fee_of_the_document_just_answered(retriever: Retriever) -> None:
    first, second = converse(retriever, "주민등록 등본 뗄 수 있는 곳 알려주세요", "그거 떼는 데 얼마예요?")
    assert first == answer_of(retriever, "T03-001")
    assert second == first and "창구 400원" in second  # not choices: the fee line of the answer just read


def test_the_penalty_of_the_registration_just_answered_not_a_sibling_entry(retriever: Retriever) -> None:
    """Alone, "동물등록 … 과태료" finds the cat entry ("과태료는 없습니다"): wrong for the dog just discussed."""
    first, second = converse(retriever, "강아지 동물 등록은 어디서 해요", "안 하면 과태료 있어요?")
    assert first == answer_of(retriever, "T29-001")
    assert "1차 20만 원" in second and "과태료는 없습니다" not in second


def test_a_facet_that_nlu_tags_as_a_service_is_still_about_the_last_answer(retriever: Retriever) -> None:
    """Rasa's NLU tags 과태료 as a service (there are 과태료 entries): here it asks about the dog's registration."""
    said = ("강아지 동물 등록은 어디서 해요", "안 하면 과태료 있어요?")
    _, second = converse(retriever, *said, entities={"안 하면 과태료 있어요?": "과태료"})
    assert "1차 20만 원" in second and "과태료는 없습니다" not in second
    assert not second.startswith(CHOOSE)


def test_a_correction_answers_what_was_meant(retriever: Retriever) -> None:
    _, second = converse(retriever, "주민등록증 새로 만들려면 어디로 가요", "아니 재발급이요")
    assert second == answer_of(retriever, "T02-001") and "■ 수수료: 5,000원" in second


def test_a_switch_asks_the_previous_question_about_the_new_service(retriever: Retriever) -> None:
    first, second = converse(retriever, "여권 만드는 수수료가 얼마예요?", "인감증명서는요?")
    assert "52,000원" in first
    assert "1통 600원" in second and "52,000원" not in second


def test_a_facet_the_last_answer_does_not_state_is_searched_again(retriever: Retriever) -> None:
    """The cat entry states no fee: "얼마예요?" is not answered with it again."""
    first, second = converse(retriever, "고양이도 동물등록 꼭 해야 돼요?", "그거 얼마예요?")
    assert first == answer_of(retriever, "T29-014")
    assert second != first
