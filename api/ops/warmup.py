"""Warm-up before readiness: one internal turn through Rasa and one encoder query.

Rasa answers ``/status`` as soon as its model file is loaded, but its first real turn still builds
the pipeline's graphs (TensorFlow) and calls the action webhook, and the embedding model's first
query pays its own start-up: the first resident after a restart would wait past RASA_TIMEOUT and
get the apology. ``/readyz`` therefore waits for this warm-up as well. The warm-up turn goes to Rasa
directly under its own sender id, so it is no resident's conversation and no analytics turn.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from enum import StrEnum

from api.knowledge import Knowledge
from api.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("minwon.warmup")
# A question the FAQ answers, so the turn runs Rasa's NLU, its policies and the FAQ action.
WARM_TEXT = "여권 재발급은 어떻게 하나요?"


class WarmupState(StrEnum):
    WAITING_FOR_INDEX = "waiting for the knowledge release"
    WAITING_FOR_RASA = "waiting for Rasa's model"
    RASA_TURN = "first Rasa turn not answered yet"
    DONE = "done"


class Warmup:
    def __init__(self, rasa: RasaClient, knowledge: Knowledge, retry_seconds: float = 1.0) -> None:
        self.rasa = rasa
        self.knowledge = knowledge
        self.retry_seconds = retry_seconds
        self.state = WarmupState.WAITING_FOR_INDEX
        self.seconds: float | None = None  # how long the warm-up turn and query took, once done

    @property
    def done(self) -> bool:
        return self.state is WarmupState.DONE

    async def run(self) -> None:
        """Until one Rasa turn and one encoder query have succeeded (cancelled at shutdown)."""
        sender = f"warmup-{secrets.token_hex(8)}"
        while not self.done:
            retriever = self.knowledge.current()
            if retriever is None:
                self.state = WarmupState.WAITING_FOR_INDEX
            elif not await self.rasa.model_loaded():
                self.state = WarmupState.WAITING_FOR_RASA
            else:
                self.state = WarmupState.RASA_TURN
                started = time.monotonic()
                try:
                    await self.rasa.send(sender, WARM_TEXT)
                except RasaUnavailable as exc:
                    # A cold first turn may outlast RASA_TIMEOUT; Rasa finishes it anyway and the next is warm.
                    log.info("warm-up turn not answered yet (%s); trying again", exc.kind)
                else:
                    await asyncio.to_thread(retriever.search, WARM_TEXT)
                    self.seconds = time.monotonic() - started
                    self.state = WarmupState.DONE
                    log.info("warm-up done in %.1f s (one Rasa turn, one encoder query)", self.seconds)
                    return
            await asyncio.sleep(self.retry_seconds)
