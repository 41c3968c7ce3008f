"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    index_ok = state.retriever is not None
    rasa_ok = await state.rasa.model_loaded()
    body = {
        "status": "ready" if index_ok and rasa_ok else "not ready",
        "rasa": "ok" if rasa_ok else "unreachable or no model loaded",
        "index": state.index_info if index_ok else state.index_error or "not loaded",
    }
    return JSONResponse(body, status_code=200 if index_ok and rasa_ok else 503)
