"""Admission control in front of Rasa: a bounded queue, so a rush of residents waits its turn.

Rasa answers one turn in tens of milliseconds of CPU; handed two hundred at once it answers all of
them slowly and the late ones time out, which looks to a resident like a broken bot. Here at most
``active`` turns are with Rasa at a time; the rest wait in arrival order. A turn that could not
start within ``max_wait`` seconds is refused at once (the estimate uses the measured time per turn),
so the resident hears "busy" early instead of after the whole wait.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


class Saturated(Exception):
    """The turn cannot start with Rasa in time; ``retry_after`` is a fair guess in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Rasa is saturated; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class AdmissionSnapshot:
    active: int
    waiting: int
    seconds_per_turn: float


class Admission:
    # A turn's service time is smoothed over about the last twenty turns.
    SMOOTHING = 0.1

    def __init__(self, active: int, max_waiting: int, max_wait: float, initial_seconds: float = 0.05) -> None:
        if active < 1:
            raise ValueError("active must be at least 1")
        self.limit = active
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._seconds = initial_seconds

    def snapshot(self) -> AdmissionSnapshot:
        return AdmissionSnapshot(self.active, len(self._waiters), self._seconds)

    def estimated_wait(self, ahead: int) -> float:
        return (ahead + 1) * self._seconds / self.limit

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of Rasa's places for the body; raises ``Saturated`` when none comes in time."""
        await self._acquire()
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self._seconds += self.SMOOTHING * (elapsed - self._seconds)
            self._release()

    async def _acquire(self) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        ahead = len(self._waiters)
        if ahead >= self.max_waiting or self.estimated_wait(ahead) > self.max_wait:
            raise Saturated(self._retry_after(ahead))
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.max_wait)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # the place was handed over just as time ran out: take it
            waiter.cancel()
            self._forget(waiter)
            raise Saturated(self._retry_after(len(self._waiters))) from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a place while being cancelled: pass it on
            else:
                waiter.cancel()
                self._forget(waiter)
            raise

    def _release(self) -> None:
        # The place passes straight to the longest waiter, so a newcomer cannot jump the queue.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _retry_after(self, ahead: int) -> int:
        return max(1, min(30, round(self.estimated_wait(ahead))))
