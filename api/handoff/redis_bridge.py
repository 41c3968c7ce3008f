"""Wake-ups across api processes through Redis pub/sub (``REDIS_URL``).

Each process keeps its own ``Hub`` for the long polls it holds. What one process publishes is also
sent on one Redis channel; every other process wakes its own waiters, which then read the database
(the truth). A wake-up lost while Redis restarts costs at most one long-poll period, and on
reconnecting every local waiter is woken once to read again, so nothing waits for a message that
already arrived. Versions travel with the topics: a poll that saw version V on one process is judged
against the same numbers on another.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Any

import redis.asyncio as redis

from api.handoff.hub import Hub
from api.settings import install_key

log = logging.getLogger("minwon.redis")
CHANNEL = "minwon:wake:{install}"
RETRY_SECONDS = (0.5, 1, 2, 5)


class RedisBridge:
    def __init__(self, url: str, hub: Hub, database_url: str) -> None:
        self.url = url
        self.hub = hub
        # Processes sharing a database share a channel; another install on the same Redis is not woken.
        self.channel = CHANNEL.format(install=install_key(database_url))
        self.origin = secrets.token_hex(8)  # our own messages come back too: skip them
        self.connected = asyncio.Event()
        self._client: redis.Redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None)
        self._task: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        hub.on_publish = self.send

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._client.aclose()

    def send(self, versions: dict[str, int]) -> None:
        """Called by the hub on every publish (inside the event loop); never blocks the caller."""
        payload = json.dumps({"origin": self.origin, "versions": versions})
        task = asyncio.get_running_loop().create_task(self._publish(payload))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _publish(self, payload: str) -> None:
        try:
            await self._client.publish(self.channel, payload)
        except (redis.RedisError, OSError) as exc:
            # The change is in the database; other processes' polls find it at their next read.
            log.warning("redis publish failed: %s", exc)

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                if attempt:
                    log.info("redis reconnected; waking local long polls to read again")
                    self.hub.wake_all()
                attempt = 0
                self.connected.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._received(message.get("data"))
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                self.connected.clear()
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                attempt += 1
                log.warning("redis unavailable (%s); retrying in %s s", exc, delay)
                await asyncio.sleep(delay)
            finally:
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                except (redis.RedisError, OSError):
                    pass

    def _received(self, data: Any) -> None:
        try:
            payload = json.loads(data)
            if payload.get("origin") == self.origin:
                return
            versions = {str(k): int(v) for k, v in dict(payload["versions"]).items()}
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("ignoring a malformed wake-up on %s: %s", self.channel, exc)
            return
        self.hub.remote(versions)
