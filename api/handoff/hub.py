"""Wake long-polling residents and officers when something they watch changes.

In-process: one api worker owns the live connections (the county deployment runs
one api process). Subscribe *before* reading the database, then wait, so a change
that lands between the read and the wait is never missed.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

QUEUE = "queue"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class Subscription:
    def __init__(self, hub: Hub, topics: tuple[str, ...]) -> None:
        self.hub = hub
        self.topics = topics
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for topic in topics:
            hub._waiters[topic].add(self.future)

    async def wait(self, timeout: float) -> bool:
        """True if a change was published, False on timeout."""
        try:
            await asyncio.wait_for(asyncio.shield(self.future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.close()

    def close(self) -> None:
        for topic in self.topics:
            waiters = self.hub._waiters.get(topic)
            if waiters is not None:
                waiters.discard(self.future)
                if not waiters:
                    self.hub._waiters.pop(topic, None)
        if not self.future.done():
            self.future.cancel()


class Hub:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[asyncio.Future[None]]] = defaultdict(set)
        # Bumped on every publish; a poller that saw an older version returns at once.
        self._versions: defaultdict[str, int] = defaultdict(int)

    def version(self, topic: str) -> int:
        return self._versions[topic]

    def subscribe(self, *topics: str) -> Subscription:
        return Subscription(self, topics)

    def publish(self, *topics: str) -> None:
        for topic in topics:
            self._versions[topic] += 1
            for future in self._waiters.pop(topic, set()):
                if not future.done():
                    future.set_result(None)

    def watchers(self, topic: str) -> int:
        return len(self._waiters.get(topic, ()))
