"""Answer a procedure question from the curated FAQ."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import runtime

HUMAN_BUTTON = {"title": "상담원 연결", "payload": "상담원 연결해 주세요"}
NOT_READY = "죄송합니다. 안내 자료를 불러오는 중입니다. 잠시 후 다시 질문해 주세요."
CHOOSE = "정확한 답을 찾지 못했습니다. 혹시 아래 질문 중 하나이신가요?"
NOT_FOUND = (
    "죄송합니다. 말씀하신 내용은 제가 안내해 드릴 수 있는 민원 정보에서 찾지 못했습니다. "
    "여권, 주민등록, 전입신고, 세금, 폐기물 같은 민원 절차를 물어봐 주시거나 상담원 연결을 요청해 주세요."
)


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        retriever = runtime.get_retriever()
        text = (tracker.latest_message or {}).get("text") or ""
        if retriever is None:
            dispatcher.utter_message(text=NOT_READY)
            return []
        # Embedding takes tens of milliseconds of CPU; keep the event loop free.
        result = await asyncio.to_thread(retriever.search, text, 3)
        if result.confident:
            best = result.results[0]
            dispatcher.utter_message(text=best.answer)
            return []
        if result.results:
            buttons = [{"title": r.question, "payload": r.question} for r in result.results]
            dispatcher.utter_message(text=CHOOSE, buttons=[*buttons, HUMAN_BUTTON])
            return []
        dispatcher.utter_message(text=NOT_FOUND, buttons=[HUMAN_BUTTON])
        return []
