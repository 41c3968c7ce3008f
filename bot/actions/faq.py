"""Answer a procedure question from the curated FAQ.

Actions run inside the api process (``api/routes/actions.py``), which hands
each action what it needs when it registers it: the FAQ retriever comes from a
callable, so a new knowledge release is picked up without re-registering.
What the bot tried and typed feedback go back to the api in the reply, as
custom payloads next to the answer (like the handoff request), and are stored
with the bot's messages in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.follow_up import (
    FACETS,
    asked_facets,
    bare_subject,
    covers,
    facet_only,
    facet_words_of,
    looks_like_follow_up,
    strip_cues,
)
from faq.check import today_kst
from faq.retriever import ResultItem, SearchResult

if TYPE_CHECKING:
    from faq.retriever import Retriever

RetrieverSource = Callable[[], "Retriever | None"]

HUMAN_BUTTON = {"title": "상담원 연결", "payload": "상담원 연결해 주세요"}
OTHER_BUTTON = {"title": "다른 질문", "payload": "다른 질문을 할게요"}
NOT_READY = "죄송합니다. 안내 자료를 불러오는 중입니다. 잠시 후 다시 질문해 주세요."
CHOOSE = "정확한 답을 찾지 못했습니다. 혹시 아래 질문 중 하나이신가요?"
# A specific question that only a general entry is about: show it, never as the answer.
RELATED = (
    "말씀하신 내용을 정확히 다룬 안내는 찾지 못해, 가장 관련 있는 안내를 보여 드립니다. "
    "말씀하신 경우와 다를 수 있으니 아래 담당부서에 꼭 확인해 주세요."
)
CLARIFY_DOCUMENT = "어떤 서류를 찾으시나요? 아래에서 골라 주시거나, 필요한 서류 이름을 말씀해 주세요."
CLARIFY = "어떤 민원을 찾으시나요? 아래에서 골라 주시거나, 조금 더 자세히 말씀해 주세요."
DOCUMENT_WORDS = ("서류", "증명서", "떼", "뗄", "발급", "등본", "초본")
# The entry that would answer is past its expiry date: say so, and who to ask instead.
EXPIRED = (
    "이 질문에 대한 안내는 유효기간이 지나 지금은 최신 내용을 확인해 드릴 수 없습니다. "
    "{department}({phone})에 문의하시거나, 아래에서 상담원 연결(운영 시간 외에는 전화 상담 요청)을 해 주세요."
)
NOT_FOUND = (
    "죄송합니다. 말씀하신 내용은 제가 안내해 드릴 수 있는 민원 정보에서 찾지 못했습니다. "
    "여권, 주민등록, 전입신고, 세금, 폐기물 같은 민원 절차를 물어봐 주시거나 상담원 연결을 요청해 주세요."
)
OFFER_HUMAN = "연달아 원하시는 답을 드리지 못해 죄송합니다. 담당 공무원과 상담하시겠어요?"
FAILURES_BEFORE_OFFER = 2


def previous_question(tracker: Tracker) -> str:
    """What the resident typed the turn before this one ("" at the start of a conversation)."""
    said = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
    latest = (tracker.latest_message or {}).get("text") or ""
    if said and said[-1] == latest:
        said = said[:-1]
    return said[-1] if said else ""


def context_payload(text: str, result: SearchResult, retriever: Retriever) -> dict[str, Any]:
    """What the bot tried, for the officer who may take over (masked question, candidates), and the
    entry behind the reply (its topic, department and whether its review is overdue, for analytics)."""
    context: dict[str, Any] = {
        "question": text,
        "confident": result.confident,
        "decision": result.decision,
        "candidates": [
            {"id": r.id, "question": r.question, "score": round(r.score, 3), "similarity": round(r.similarity, 3)}
            for r in result.results
        ],
    }
    if result.results:
        entry = retriever.store.by_id[result.results[0].id]
        overdue = entry.review_by is not None and entry.review_by < today_kst()
        context["entry"] = {"id": entry.id, "topic": entry.topic, "department": entry.department, "overdue": overdue}
    return {"context": context}


def faq_messages(text: str, result: SearchResult, retriever: Retriever) -> list[dict[str, Any]]:
    """What the resident reads for one retrieval decision (``text`` and ``buttons`` per message).

    Shared by the action and by the api's answers without the dialogue engine (api/degraded.py)."""
    if result.decision in ("answer", "related"):
        best = result.results[0]
        if result.decision == "answer":
            return [{"text": best.answer}]
        others = [{"title": r.question, "payload": r.question} for r in result.results[1:3]]
        return [{"text": f"{RELATED}\n\n{best.answer}", "buttons": [*others, OTHER_BUTTON, HUMAN_BUTTON]}]
    if result.decision == "expired":
        entry = retriever.store.by_id[result.results[0].id]
        dept = retriever.store.profile.department(entry.department)
        notice = EXPIRED.format(department=dept["name"], phone=dept["phone"])
        return [{"text": notice, "buttons": [HUMAN_BUTTON, OTHER_BUTTON]}]
    if result.decision == "clarify":
        buttons = [{"title": r.question, "payload": r.question} for r in result.results[:4]]
        prompt = CLARIFY_DOCUMENT if any(word in text for word in DOCUMENT_WORDS) else CLARIFY
        return [{"text": prompt, "buttons": [*buttons, OTHER_BUTTON, HUMAN_BUTTON]}]
    if result.results:
        buttons = [{"title": r.question, "payload": r.question} for r in result.results]
        return [{"text": CHOOSE, "buttons": [*buttons, OTHER_BUTTON, HUMAN_BUTTON]}]
    return [{"text": NOT_FOUND, "buttons": [HUMAN_BUTTON]}]


class ActionAnswerFaq(Action):
    def __init__(self, retriever: RetrieverSource | None = None) -> None:
        self._retriever: RetrieverSource = retriever or (lambda: None)

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        retriever = self._retriever()
        text = (tracker.latest_message or {}).get("text") or ""
        if retriever is None:
            dispatcher.utter_message(text=NOT_READY)
            return []
        # Embedding takes tens of milliseconds of CPU; keep the event loop free.
        result = await asyncio.to_thread(retriever.search, text, 3)
        result = await self._resolve(retriever, tracker, text, result)
        dispatcher.utter_message(json_message=context_payload(text, result, retriever))
        for message in faq_messages(text, result, retriever):
            dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or [])
        failures = float(tracker.get_slot("failures") or 0)
        if result.decision in ("answer", "related"):
            best = result.results[0]
            events: list[dict[str, Any]] = [SlotSet("last_faq", best.id)]
            subject = retriever.store.by_id[best.id].subject
            if subject:
                events.append(SlotSet("service", subject))
            if result.decision == "answer":
                return [SlotSet("failures", 0.0), *events]
            return [*self._failed(dispatcher, failures), *events]
        return self._failed(dispatcher, failures)

    @staticmethod
    async def _resolve(retriever: Retriever, tracker: Tracker, text: str, result: SearchResult) -> SearchResult:
        """Read the question against the conversation so far: a facet of the last answer, a correction,
        or the previous question asked again about another service."""
        service = tracker.get_slot("service")
        entities = (tracker.latest_message or {}).get("entities", [])
        named = [e.get("value") for e in entities if e.get("entity") == "service"]
        # "안 하면 과태료 있어요?": 과태료 is a service of its own, but here a facet of the one discussed
        # (Rasa has already put it in the slot; the last answer's subject is what the question is about).
        mentioned = any(value not in FACETS for value in named)
        last = retriever.store.by_id.get(tracker.get_slot("last_faq") or "")
        if named and not mentioned and last is not None and last.subject:
            service = last.subject
        previous = previous_question(tracker)
        if previous and bare_subject(text) and (facets := facet_words_of(previous)):
            # "여권 수수료 얼마예요?" → "인감증명서는요?": the fee again, of 인감증명서.
            switched = await asyncio.to_thread(retriever.search, f"{text} {' '.join(facets)}", 3)
            if switched.confident or not result.confident:
                return switched
            return result
        if not service or mentioned or not (looks_like_follow_up(text) or not result.confident):
            return result
        if last is not None and facet_only(text):
            # "그거 떼는 데 얼마예요?" about the answer just read: if that answer states the fee, it is
            # the answer (a search on "등본 … 얼마" may prefer a sibling entry the resident never saw).
            answer = retriever.store.render_answer(last)
            if covers(answer, asked_facets(text)):
                item = ResultItem(id=last.id, question=last.question, answer=answer, score=1.0, matched=text)
                return SearchResult(text, "answer", [item])
        # A follow-up such as "그거 수수료는요?" or "아니 재발급이요" has no subject of its own:
        # ask again about the service the conversation is about, without the cue words.
        followup = await asyncio.to_thread(retriever.search, f"{service} {strip_cues(text)}", 3)
        if followup.confident or (followup.results and not result.confident):
            return followup
        return result

    @staticmethod
    def _failed(dispatcher: CollectingDispatcher, failures: float) -> list[dict[str, Any]]:
        """One more turn without a confirmed answer; at two in a row, offer a person."""
        failures += 1
        if failures >= FAILURES_BEFORE_OFFER:
            dispatcher.utter_message(text=OFFER_HUMAN, buttons=[HUMAN_BUTTON, OTHER_BUTTON])
            failures = 0.0
        return [SlotSet("failures", failures)]


class ActionRecordFeedback(Action):
    """Typed feedback ("도움이 안 됐어요") about the bot's last answer, handed to the api to store."""

    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        helpful = (tracker.latest_message or {}).get("intent", {}).get("name") == "feedback_positive"
        last_answer = next(
            (e["text"] for e in reversed(tracker.events) if e.get("event") == "bot" and e.get("text")), ""
        )
        dispatcher.utter_message(json_message={"feedback": {"helpful": helpful, "answer": last_answer[:300]}})
        return []


class ActionRequestHuman(Action):
    """Ask the api to connect an officer; the api decides between the queue and a callback offer."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(json_message={"handoff": "request"})
        return [SlotSet("failures", 0.0)]
