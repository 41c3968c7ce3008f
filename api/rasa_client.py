"""Talk to the Rasa server over its REST webhook on loopback."""

from __future__ import annotations

from typing import Any

import httpx


class RasaUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base_url = base_url
        self.token = token
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        try:
            response = await self._client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        data = response.json()
        if not isinstance(data, list):
            raise RasaUnavailable(f"unexpected Rasa reply: {str(data)[:200]}")
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
