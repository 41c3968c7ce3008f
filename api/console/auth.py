"""Staff accounts: argon2 passwords, throttled logins (no lockout), server-side sessions, CSRF tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.client_address import UNKNOWN
from api.console.throttle import LOGIN, LOGIN_FAIL, LOGIN_THROTTLED, LoginThrottle, client_target, throttled_words
from api.db import Database
from api.db.models import AuditEntry, StaffLogin, User, utcnow
from api.kinds import Role

SESSION_TTL = timedelta(hours=9)  # one working day
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A refused login; the message is the Korean text to show."""

    status = 401


class LoginThrottled(AuthError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Login:
    user: User
    token: str
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffAuth:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.throttle = LoginThrottle()

    # ---- accounts (the `minwon user` CLI) ----
    def add_user(
        self,
        username: str,
        password: str,
        role: Role | str,
        display_name: str | None = None,
        department: str | None = None,
    ) -> User:
        username = username.strip()
        try:
            role = Role(role)
        except ValueError:
            raise AuthError(f"role must be one of {', '.join(Role)}, got {role!r}") from None
        if not username or len(username) > 64:
            raise AuthError("username must be 1-64 characters")
        if len(password) < MIN_PASSWORD:
            raise AuthError(f"password must be at least {MIN_PASSWORD} characters")
        with self.db.session() as session:
            if session.scalar(select(User).where(User.username == username)) is not None:
                raise AuthError(f"user {username!r} already exists")
            user = User(
                username=username,
                display_name=(display_name or username).strip()[:64],
                role=role,
                department=department or None,
                password_hash=_hasher.hash(password),
                active=True,
                failed_logins=0,
            )
            session.add(user)
            session.add(AuditEntry(actor="cli", action="user.add", target=f"user:{username}", detail=role))
            session.flush()
            return user

    def set_active(self, username: str, active: bool) -> None:
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AuthError(f"no user {username!r}")
            user.active = active
            if not active:  # a disabled account is logged out everywhere at once
                session.execute(delete(StaffLogin).where(StaffLogin.user_id == user.id))
            action = "user.enable" if active else "user.disable"
            session.add(AuditEntry(actor="cli", action=action, target=f"user:{username}"))

    def users(self) -> list[User]:
        with self.db.session() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    # ---- login ----
    def login(self, username: str, password: str, client: str = UNKNOWN, trusted: bool = False) -> Login:
        """A new session, or AuthError with the Korean message to show (LoginThrottled: wait first).

        ``trusted``: the client is on a console network (``Settings.console_networks``), so a
        stranger's failures on this account do not slow it down (its own failures still do).

        Every attempt is in the audit log with the client address; the throttle counts from there,
        so failures are committed before the error is raised.
        """
        now = utcnow()
        username = username.strip()[:64]
        target = client_target(client)
        with self.db.session() as session:
            throttled = self.throttle.check(session, username, client, now, trusted)
            if throttled is not None:
                detail = f"{throttled.scope} {throttled.seconds}s"
                session.add(
                    AuditEntry(actor=username, action=LOGIN_THROTTLED, target=target, detail=detail, client=client)
                )
                error: AuthError = LoginThrottled(throttled_words(throttled), throttled.seconds)
            else:
                error = AuthError("아이디 또는 비밀번호가 올바르지 않습니다.")
                user = session.scalar(select(User).where(User.username == username))
                if user is None or not user.active:
                    self._verify(_DUMMY_HASH, password)
                    session.add(
                        AuditEntry(
                            actor=username,
                            action=LOGIN_FAIL,
                            target=target,
                            detail="unknown or disabled",
                            client=client,
                        )
                    )
                elif not self._verify(user.password_hash, password):
                    session.add(AuditEntry(actor=username, action=LOGIN_FAIL, target=target, client=client))
                else:
                    return self._start(session, user, password, client, now)
        raise error

    def _start(self, session: Session, user: User, password: str, client: str, now: datetime) -> Login:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        hashed = _token_hash(token)
        session.add(StaffLogin(token_hash=hashed, user_id=user.id, csrf_token=csrf, expires_at=now + SESSION_TTL))
        session.add(AuditEntry(actor=user.username, action=LOGIN, target=client_target(client), client=client))
        return Login(user, token, csrf)

    @staticmethod
    def _verify(password_hash: str, password: str) -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def staff_login(self, token: str | None) -> StaffLogin | None:
        if not token:
            return None
        with self.db.session() as session:
            staff = session.get(StaffLogin, _token_hash(token))
            if staff is None or staff.expires_at <= utcnow() or not staff.user.active:
                return None
            return staff

    def logout(self, token: str) -> None:
        with self.db.session() as session:
            staff = session.get(StaffLogin, _token_hash(token))
            if staff is not None:
                session.add(AuditEntry(actor=staff.user.username, action="logout"))
                session.delete(staff)
