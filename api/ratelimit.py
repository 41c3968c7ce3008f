"""Limits on how fast residents may use the chat: turns and long polls per minute, callback requests per hour, each
counted per conversation and per client address. Refused requests are not counted, so waiting works.

Counts are kept in this process (a sliding window of hit times): enough to stop a runaway script or a
flood from one address without a shared store; several api processes each allow the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from api.kinds import LimitedAction
from api.settings import Settings

# Keys not hit for this long are forgotten, so memory stays bounded by recent callers.
FORGET_AFTER = 3600.0


@dataclass(frozen=True)
class Limit:
    hits: int
    seconds: float


@dataclass(frozen=True)
class Refused:
    retry_after: int  # whole seconds until one more hit is allowed
    action: LimitedAction = LimitedAction.TURN

    def resident_words(self) -> str:
        if self.action is LimitedAction.CALLBACK:
            minutes = max(1, math.ceil(self.retry_after / 60))
            return (
                "연락 요청이 짧은 시간에 여러 번 접수되었습니다. 이미 접수된 요청은 담당자가 확인합니다. "
                f"추가 요청은 {minutes}분 뒤에 다시 해 주세요."
            )
        if self.action is LimitedAction.POLL:
            return f"새 메시지 확인 요청이 너무 잦습니다. {self.retry_after}초 뒤에 다시 확인합니다."
        return f"메시지를 너무 빠르게 보내고 계십니다. 죄송하지만 {self.retry_after}초 뒤에 다시 보내 주세요."


class RateLimiter:
    """A sliding window of hit times per key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def hit(self, checks: list[tuple[str, Limit]], count: bool = True) -> float | None:
        """Count one hit against every key; or, if any key is over its limit, none, and the seconds to wait."""
        now = self._clock()
        with self._lock:
            self._sweep(now)
            waits = []
            for key, limit in checks:
                recent = [t for t in self._hits.get(key, ()) if t > now - limit.seconds]
                if len(recent) >= limit.hits:  # allowed again when the oldest of the last ``hits`` expires
                    waits.append(recent[len(recent) - limit.hits] + limit.seconds - now)
            if waits:
                return max(waits)
            if not count:
                return None
            for key, _ in checks:
                window = self._hits.setdefault(key, deque())
                window.append(now)
                while window[0] <= now - FORGET_AFTER:
                    window.popleft()
            return None

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for key in [k for k, w in self._hits.items() if not w or w[-1] <= now - FORGET_AFTER]:
            del self._hits[key]


class ResidentLimits:
    """The configured limits (``Settings``) applied to one resident action."""

    def __init__(self, settings: Settings, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or RateLimiter()
        self.limits: dict[LimitedAction, tuple[Limit, Limit]] = {
            LimitedAction.TURN: (
                Limit(settings.turns_per_minute_session, 60.0),
                Limit(settings.turns_per_minute_address, 60.0),
            ),
            LimitedAction.CALLBACK: (
                Limit(settings.callbacks_per_hour_session, 3600.0),
                Limit(settings.callbacks_per_hour_address, 3600.0),
            ),
            LimitedAction.POLL: (
                Limit(settings.polls_per_minute_session, 60.0),
                Limit(settings.polls_per_minute_address, 60.0),
            ),
        }

    def check(
        self, action: LimitedAction, conversation_id: str | None, address: str, count: bool = True
    ) -> Refused | None:
        """Refused if over a limit; otherwise the hit is counted (``count=False``: only looked at)."""
        per_session, per_address = self.limits[action]
        checks = [(f"{action}:address:{address}", per_address)]
        if conversation_id:
            checks.append((f"{action}:session:{conversation_id}", per_session))
        wait = self.limiter.hit(checks, count)
        return None if wait is None else Refused(max(1, math.ceil(wait)), action)
