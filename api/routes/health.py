"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    knowledge = services.knowledge
    index_ok = knowledge.current() is not None
    rasa_ok = await services.rasa.model_loaded()
    body = {
        "status": "ready" if index_ok and rasa_ok else "not ready",
        "rasa": "ok" if rasa_ok else "unreachable or no model loaded",
        "index": knowledge.info if index_ok else knowledge.error or "not loaded",
    }
    return JSONResponse(body, status_code=200 if index_ok and rasa_ok else 503)
