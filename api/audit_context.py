"""The client address a staff member's request comes from, for every audit entry it writes.

Set once where the request's staff member is identified (``deps.current_staff``); ``AuditEntry``
reads it as its column default, so every service that audits records the address without each
service signature carrying it. Threads started with ``asyncio.to_thread`` (and Starlette's threadpool)
copy the context, so the services' database work sees it. CLI and system entries have none.
"""

from __future__ import annotations

from contextvars import ContextVar

_client: ContextVar[str | None] = ContextVar("minwon_audit_client", default=None)


def set_audit_client(address: str) -> None:
    _client.set(address)


def audit_client() -> str | None:
    return _client.get()
