"""Wake long-polling residents and officers when something they watch changes.

In-process: one api worker owns the live connections. Subscribe *before*
reading the database, then wait, so a change that lands between the read and
the wait is never missed. The database stays the truth; a wake-up only says
"read again".
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable

QUEUE = "queue"


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class Subscription:
    """One waiter on one or more topics; made by ``Hub.subscribe``."""

    def __init__(self, hub: Hub, topics: tuple[str, ...]) -> None:
        self._hub = hub
        self.topics = topics
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

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
        self._hub.unsubscribe(self)
        if not self.future.done():
            self.future.cancel()


class Hub:
    def __init__(self) -> None:
        self._waiters: defaultdict[str, set[Subscription]] = defaultdict(set)
        # Raised on every publish; a poller that saw an older version returns at once. Microseconds of
        # the clock (never going back), so every api process sharing wake-ups (redis_bridge) agrees.
        self._versions: defaultdict[str, int] = defaultdict(int)
        # Told of every local publish (the Redis bridge passes it on to the other processes).
        self.on_publish: Callable[[dict[str, int]], None] | None = None

    def version(self, topic: str) -> int:
        return self._versions[topic]

    def subscribe(self, *topics: str) -> Subscription:
        subscription = Subscription(self, topics)
        for topic in topics:
            self._waiters[topic].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            waiters = self._waiters.get(topic)
            if waiters is not None:
                waiters.discard(subscription)
                if not waiters:
                    del self._waiters[topic]

    def publish(self, *topics: str) -> None:
        now = time.time_ns() // 1000
        versions = {topic: max(self._versions[topic] + 1, now) for topic in topics}
        self._apply(versions)
        if self.on_publish is not None:
            self.on_publish(versions)

    def remote(self, versions: dict[str, int]) -> None:
        """Another process published: take its versions (never going back) and wake our waiters."""
        self._apply({topic: max(self._versions[topic], version) for topic, version in versions.items()})

    def wake_all(self) -> None:
        """Wake every waiter to read the database again (wake-ups may have been missed)."""
        self._apply({topic: self._versions[topic] for topic in list(self._waiters)})

    def _apply(self, versions: dict[str, int]) -> None:
        for topic, version in versions.items():
            self._versions[topic] = version
            for subscription in self._waiters.pop(topic, set()):
                if not subscription.future.done():
                    subscription.future.set_result(None)
