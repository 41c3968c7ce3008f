"""Talk to the Rasa server over its REST webhook on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from api.kinds import RasaFailure

if TYPE_CHECKING:
    from api.ops.metrics import Metrics


class RasaUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error."""

    def __init__(self, message: str, kind: RasaFailure) -> None:
        super().__init__(message)
        self.kind = kind


def failure_kind(exc: httpx.HTTPError) -> RasaFailure:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return RasaFailure.TIMEOUT
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return RasaFailure.UNREACHABLE
    return RasaFailure.HTTP_ERROR


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float, metrics: Metrics | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.metrics = metrics
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        try:
            try:
                response = await self._client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise RasaUnavailable(f"{type(exc).__name__}: {exc}", failure_kind(exc)) from exc
            try:
                data = response.json()
            except ValueError as exc:
                raise RasaUnavailable(f"Rasa reply is not JSON: {exc}", RasaFailure.BAD_REPLY) from exc
            if not isinstance(data, list):
                raise RasaUnavailable(f"unexpected Rasa reply: {str(data)[:200]}", RasaFailure.BAD_REPLY)
        except RasaUnavailable as exc:
            if self.metrics is not None:
                self.metrics.rasa_failed(exc.kind)
            raise
        return data

    async def model_loaded(self) -> bool:
        try:
            response = await self._client.get("/status", params=self._params(), timeout=2.0)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        return bool(response.json().get("model_file"))

    async def aclose(self) -> None:
        await self._client.aclose()
