"""Runtime settings, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from faq.paths import var_dir

DEFAULT_PORT = 8000
DEFAULT_RASA_PORT = 5005


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def load_secret(path: Path) -> str:
    """The session-signing key: ``MINWON_SECRET_KEY`` or a generated file kept across restarts."""
    configured = os.environ.get("MINWON_SECRET_KEY", "").strip()
    if configured:
        return configured
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    rasa_url: str = f"http://127.0.0.1:{DEFAULT_RASA_PORT}"
    rasa_token: str = ""
    # The bound: a Rasa slower than 3 s gets the apology and the handoff option.
    rasa_timeout: float = 3.0
    action_token: str = ""
    secret_key: str = ""
    cors_origins: list[str] = field(default_factory=list)
    max_message_chars: int = 1000
    session_max_age: int = 24 * 3600
    load_retriever: bool = True
    database_url: str = ""  # empty: DATABASE_URL, else SQLite in var/
    run_sweeper: bool = True
    # Console cookies get the Secure flag on https requests; force it behind a TLS-terminating proxy.
    secure_cookies: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        port = _int("MINWON_PORT", DEFAULT_PORT)
        origins = os.environ.get("MINWON_CORS_ORIGINS", "").strip()
        return cls(
            host=os.environ.get("MINWON_HOST", "127.0.0.1"),
            port=port,
            rasa_url=os.environ.get("RASA_URL", f"http://127.0.0.1:{DEFAULT_RASA_PORT}").rstrip("/"),
            rasa_token=os.environ.get("RASA_TOKEN", ""),
            rasa_timeout=_float("RASA_TIMEOUT", 3.0),
            action_token=os.environ.get("ACTION_TOKEN", ""),
            secret_key=load_secret(var_dir() / "secret_key"),
            cors_origins=[o.strip() for o in origins.split(",") if o.strip()]
            or [f"http://127.0.0.1:{port}", f"http://localhost:{port}"],
            max_message_chars=_int("MINWON_MAX_MESSAGE_CHARS", 1000),
            session_max_age=_int("MINWON_SESSION_MAX_AGE", 24 * 3600),
            load_retriever=os.environ.get("MINWON_LOAD_RETRIEVER", "1") != "0",
            database_url=os.environ.get("DATABASE_URL", "").strip(),
            secure_cookies=os.environ.get("MINWON_SECURE_COOKIES", "0") == "1",
        )
