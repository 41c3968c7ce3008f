"""Login throttling: growing delays per client address and per account, and no lock a stranger can set.

Failures are read back from the audit log (every attempt is recorded there with the client address),
so every api process and a restart see the same counts. An address that keeps guessing waits longer
and longer before its next try is even checked. An account under attack from many addresses is
slowed the same way, but only for addresses it has never logged in from: the officer at their own
PC, or on a configured console network, always gets in with the right password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from api.db.models import AuditEntry

FREE_PER_ADDRESS = 5  # failures an address may make before it has to wait
FREE_PER_ACCOUNT = 10  # failures on one account, from anywhere, before unknown addresses wait
FIRST_DELAY = timedelta(seconds=2)  # doubled with every further failure
MAX_ADDRESS_DELAY = timedelta(minutes=15)
MAX_ACCOUNT_DELAY = timedelta(minutes=5)
WINDOW = timedelta(hours=1)  # failures older than this are forgotten
KNOWN_ADDRESS_DAYS = 90  # an address the account logged in from this recently is the officer's own

LOGIN = "login"
LOGIN_FAIL = "login.fail"
LOGIN_THROTTLED = "login.throttled"


def client_target(address: str) -> str:
    """How an audit entry names the client address."""
    return f"client:{address}"


def delay(failures: int, free: int, cap: timedelta) -> timedelta:
    """The wait after ``failures`` recent failures: none for the first ``free``, then doubling up to ``cap``."""
    if failures < free:
        return timedelta(0)
    grown: timedelta = FIRST_DELAY * (2 ** min(failures - free, 20))
    return min(grown, cap)


@dataclass(frozen=True)
class Throttled:
    scope: Literal["address", "account"]
    retry_after: timedelta

    @property
    def seconds(self) -> int:
        return max(1, int(self.retry_after.total_seconds() + 0.999))


class LoginThrottle:
    def check(self, session: Session, username: str, address: str, now: datetime, trusted: bool) -> Throttled | None:
        """Whether this attempt must wait; the password is not even checked while it must.

        ``trusted``: the address is on a console network, so the per-account delay does not apply.
        """
        target = client_target(address)
        since = now - WINDOW
        by_address = self._failures(session, AuditEntry.target == target, since, success_actor=None, target=target)
        wait = self._wait(by_address, FREE_PER_ADDRESS, MAX_ADDRESS_DELAY, now)
        if wait:
            return Throttled("address", wait)
        if trusted or self._known(session, username, target, now):
            return None
        by_account = self._failures(session, AuditEntry.actor == username, since, success_actor=username, target=None)
        wait = self._wait(by_account, FREE_PER_ACCOUNT, MAX_ACCOUNT_DELAY, now)
        return Throttled("account", wait) if wait else None

    @staticmethod
    def _wait(failures: tuple[int, datetime | None], free: int, cap: timedelta, now: datetime) -> timedelta | None:
        count, last = failures
        if last is None:
            return None
        remaining = last + delay(count, free, cap) - now
        return remaining if remaining > timedelta(0) else None

    @staticmethod
    def _failures(
        session: Session, scope: ColumnElement[bool], since: datetime, success_actor: str | None, target: str | None
    ) -> tuple[int, datetime | None]:
        """(failures, the last one's time) since ``since`` or the scope's last successful login, if later."""
        success = select(func.max(AuditEntry.at)).where(AuditEntry.action == LOGIN)
        if success_actor is not None:
            success = success.where(AuditEntry.actor == success_actor)
        if target is not None:
            success = success.where(AuditEntry.target == target)
        last_success = session.scalar(success)
        if last_success is not None and last_success > since:
            since = last_success
        row = session.execute(
            select(func.count(), func.max(AuditEntry.at)).where(
                AuditEntry.action == LOGIN_FAIL, scope, AuditEntry.at > since
            )
        ).one()
        return int(row[0]), row[1]

    @staticmethod
    def _known(session: Session, username: str, target: str, now: datetime) -> bool:
        found = session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.action == LOGIN,
                AuditEntry.actor == username,
                AuditEntry.target == target,
                AuditEntry.at > now - timedelta(days=KNOWN_ADDRESS_DAYS),
            )
            .limit(1)
        )
        return found is not None


def throttled_words(throttled: Throttled) -> str:
    """What the login page says (Korean, for staff)."""
    seconds = throttled.seconds
    when = f"{seconds}초" if seconds < 60 else f"{(seconds + 59) // 60}분"
    if throttled.scope == "address":
        return f"이 컴퓨터에서 로그인 실패가 반복되었습니다. {when} 뒤에 다시 시도해 주세요."
    return (
        f"이 계정에 로그인 실패가 반복되었습니다. 평소 쓰시는 컴퓨터에서 로그인하시거나 {when} 뒤에 다시 시도해 주세요."
    )
