"""Talk to the Rasa server(s) over the REST webhook on loopback.

With several Rasa replicas each conversation goes to one of them, chosen by a hash of its id, so its
tracker and lock live in one place (Rasa's open-source Redis lock has a cross-replica race,
RasaHQ/rasa#9213). A replica that cannot be reached is skipped for the next one in the ring; a slow
one is not, because it may still be working on the message.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import httpx

from api.kinds import RasaFailure

if TYPE_CHECKING:
    from api.ops.metrics import Metrics

# Failures after which the message cannot have reached Rasa's dialogue: safe to send to another replica.
NOT_DELIVERED = (RasaFailure.UNREACHABLE,)


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


def replica_order(conversation_id: str, replicas: int) -> list[int]:
    """The conversation's own replica first, then the rest of the ring (the same on every api process)."""
    home = int.from_bytes(hashlib.blake2b(conversation_id.encode(), digest_size=8).digest(), "big") % replicas
    return [(home + step) % replicas for step in range(replicas)]


class RasaClient:
    def __init__(self, base_urls: str | list[str], token: str, timeout: float, metrics: Metrics | None = None) -> None:
        self.base_urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not self.base_urls:
            raise ValueError("at least one Rasa URL is needed")
        self.token = token
        self.metrics = metrics
        self._clients = [httpx.AsyncClient(base_url=url, timeout=timeout) for url in self.base_urls]

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    @property
    def replicas(self) -> int:
        return len(self._clients)

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        last: RasaUnavailable | None = None
        for index in replica_order(sender, self.replicas):
            try:
                return await self._send_to(self._clients[index], sender, text)
            except RasaUnavailable as exc:
                if self.metrics is not None:
                    self.metrics.rasa_failed(exc.kind)
                last = exc
                if exc.kind not in NOT_DELIVERED:
                    break
        assert last is not None
        raise last

    @staticmethod
    async def _send_to(client: httpx.AsyncClient, sender: str, text: str) -> list[dict[str, Any]]:
        try:
            response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{client.base_url}: {type(exc).__name__}: {exc}", failure_kind(exc)) from exc
        try:
            data = response.json()
        except ValueError as exc:
            raise RasaUnavailable(f"Rasa reply is not JSON: {exc}", RasaFailure.BAD_REPLY) from exc
        if not isinstance(data, list):
            raise RasaUnavailable(f"unexpected Rasa reply: {str(data)[:200]}", RasaFailure.BAD_REPLY)
        return data

    async def loaded(self) -> list[bool]:
        """Per replica: is it up with a model loaded."""
        return [await self._loaded(client) for client in self._clients]

    async def model_loaded(self) -> bool:
        """At least one replica can answer (the others' conversations fail over to it)."""
        return any(await self.loaded())

    async def _loaded(self, client: httpx.AsyncClient) -> bool:
        try:
            response = await client.get("/status", params=self._params(), timeout=2.0)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        return bool(response.json().get("model_file"))

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
