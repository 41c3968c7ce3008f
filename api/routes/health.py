"""Liveness and readiness for operators and load balancers."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Services, ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    knowledge = services.knowledge
    index_ok = knowledge.current() is not None
    replicas = await services.rasa.loaded()
    rasa_ok = any(replicas)
    database = await _database_state(services)
    # Rasa with a model and a loaded index are not enough: the first turn must also be warm.
    warm = services.warmup.done
    ready = index_ok and rasa_ok and database == "ok" and warm
    body: dict[str, object] = {
        "status": "ready" if ready else "not ready",
        "rasa": "ok" if rasa_ok else "unreachable or no model loaded",
        "index": knowledge.info if index_ok else knowledge.error or "not loaded",
        "database": database,
        "warmup": services.warmup.state.value,
    }
    if len(replicas) > 1:
        body["rasa_replicas"] = ["ok" if up else "unreachable or no model loaded" for up in replicas]
    return JSONResponse(body, status_code=200 if ready else 503)


async def _database_state(services: Services) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(services.db.ping), timeout=5.0)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason goes to the operator
        return f"unreachable: {type(exc).__name__}"
    return "ok"
