"""Rasa's action server, in-process: Rasa POSTs here and rasa-sdk's executor runs the action.

Running actions inside the api keeps FAQ retrieval in one process (one model,
one index in memory). Only Rasa may call it: a shared token is required.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from api.deps import ActionsDep, SettingsDep
from bot.actions.faq import ActionAnswerFaq, ActionRecordFeedback, ActionRequestHuman, RetrieverSource

router = APIRouter(include_in_schema=False)
log = logging.getLogger("minwon.actions")


def build_executor(retriever: RetrieverSource) -> ActionExecutor:
    """The bot's actions, each given what it needs (no module globals)."""
    executor = ActionExecutor()
    for action in (ActionAnswerFaq(retriever), ActionRecordFeedback(), ActionRequestHuman()):
        executor.register_action(action)
    return executor


@router.post("/internal/actions/webhook")
async def run_action(request: Request, settings: SettingsDep, executor: ActionsDep) -> JSONResponse:
    expected = settings.action_token
    given = request.query_params.get("token", "")
    if not expected or not hmac.compare_digest(given, expected):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    try:
        payload = await request.json()
    except ValueError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    try:
        result = await executor.run(payload)
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
    except ActionNotFoundException as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
    if result is None:
        return JSONResponse({"events": [], "responses": []})
    return JSONResponse(result.model_dump(by_alias=True))
