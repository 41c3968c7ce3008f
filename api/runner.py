"""Start, watch and stop the two processes: Rasa (Rasa env) and the api (main env).

Used by ``minwon run`` and by the end-to-end tests, so tests exercise exactly
what an operator runs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.messages import frame_bytes_limit
from api.rasa_stores import RasaStores, prepare
from api.settings import Settings
from faq.paths import REPO_ROOT

BOT_DIR = REPO_ROOT / "bot"
MODEL_NAME = "minwon"
# Everything that changes what `rasa train` produces.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "components")
SHARED_INPUTS = (REPO_ROOT / "faq" / "korean.py", REPO_ROOT / "faq" / "lexicon")


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # The child inherits the operator's environment (proxies, locale) plus what Rasa needs.
    env = dict(os.environ)
    env.update(
        {
            # Custom components (components.kiwi_tokenizer) and the shared
            # Korean module (faq.korean) are imported from the checkout.
            "PYTHONPATH": os.pathsep.join([str(BOT_DIR), str(REPO_ROOT)]),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.update(extra or {})
    return env


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    paths: list[Path] = []
    for name in TRAINING_INPUTS:
        path = BOT_DIR / name
        paths.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for path in SHARED_INPUTS:
        paths.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for path in paths:
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def models_dir() -> Path:
    return BOT_DIR / "models"


def trained_model() -> Path:
    return models_dir() / f"{MODEL_NAME}.tar.gz"


def train(settings: Settings, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """Train the Rasa model unless its inputs are unchanged since the last training."""
    fingerprint = training_fingerprint()
    stamp = models_dir() / f"{MODEL_NAME}.fingerprint"
    if not force and trained_model().exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        say(f"[train] Rasa model up to date ({fingerprint})")
        return trained_model()
    say("[train] training the Rasa model (about 1-2 minutes) ...")
    started = time.monotonic()
    command = [
        str(settings.rasa_bin),
        "train",
        "--fixed-model-name",
        MODEL_NAME,
        "--out",
        "models",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
    ]
    result = subprocess.run(command, cwd=BOT_DIR, env=rasa_env(), check=False)
    if result.returncode != 0 or not trained_model().exists():
        raise RuntimeError(f"rasa train failed (exit {result.returncode}); see the output above")
    stamp.write_text(fingerprint)
    say(f"[train] done in {time.monotonic() - started:.0f} s -> {trained_model()}")
    return trained_model()


@dataclass
class Stack:
    """Rasa + api as child processes on loopback, configured by ``settings``."""

    settings: Settings
    log_dir: Path | None = None  # default: settings.log_dir
    extra_env: dict[str, str] = field(default_factory=dict)
    # Hex, not urlsafe: a token starting with "-" would be read by rasa's argparse as an option.
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(24))
    action_token: str = field(default_factory=lambda: secrets.token_hex(24))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stores: RasaStores | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.log_dir is None:
            self.log_dir = self.settings.log_dir

    @property
    def logs(self) -> Path:
        assert self.log_dir is not None
        return self.log_dir

    @property
    def api_port(self) -> int:
        return self.settings.port

    @property
    def rasa_port(self) -> int:
        return self.settings.rasa_port

    @property
    def api_url(self) -> str:
        wildcard = self.settings.host in ("0.0.0.0", "::")  # noqa: S104 - comparing, not binding
        host = "127.0.0.1" if wildcard else self.settings.host
        return f"http://{host}:{self.api_port}"

    def internal_url(self, replica: int = 0) -> str:
        """Where Rasa reaches api process ``replica``'s action webhook: its console listener when there is one."""
        if not self.settings.console_port:
            return f"http://127.0.0.1:{self.api_port + replica}"
        host = self.settings.console_host
        if host in ("0.0.0.0", "::", ""):  # noqa: S104  # a wildcard bind is reached on loopback
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.settings.console_port + replica}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _spawn(self, name: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa replica: RASA_PORT, RASA_PORT+1, … (MINWON_RASA_REPLICAS)."""
        return [f"http://127.0.0.1:{self.rasa_port + i}" for i in range(self.settings.rasa_replicas)]

    @staticmethod
    def rasa_name(replica: int) -> str:
        return "rasa" if replica == 0 else f"rasa{replica + 1}"

    @staticmethod
    def api_name(replica: int) -> str:
        return "api" if replica == 0 else f"api{replica + 1}"

    @property
    def api_urls(self) -> list[str]:
        """Every api process: MINWON_PORT, MINWON_PORT+1, … (MINWON_API_REPLICAS)."""
        base = self.api_url.rsplit(":", 1)[0]
        return [f"{base}:{self.api_port + i}" for i in range(self.settings.api_replicas)]

    def start(self) -> None:
        model = trained_model()
        if not model.exists():
            raise RuntimeError(f"no trained Rasa model at {model}; run `minwon train` (or `make train`)")
        for replica in range(self.settings.rasa_replicas):
            self.start_rasa(replica)
        for replica in range(self.settings.api_replicas):
            self.start_api(replica)

    @property
    def rasa_stores(self) -> RasaStores:
        """Rasa's endpoints file: trackers in PostgreSQL and locks in Redis when the install has them."""
        if self._stores is None:
            self._stores = prepare(self.settings, BOT_DIR / "endpoints.yml")
        return self._stores

    def start_rasa(self, replica: int = 0) -> None:
        # Rasa runs the bot's actions in an api process: replica i uses api process i mod N (behind
        # nginx, point every replica at the internal upstream instead; see deploy/README.md).
        action_url = f"{self.internal_url(replica % self.settings.api_replicas)}/internal/actions/webhook"
        self._spawn(
            self.rasa_name(replica),
            [
                str(self.settings.rasa_bin),
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(self.rasa_port + replica),
                "--auth-token",
                self.rasa_token,
                "-m",
                str(trained_model()),
                "--endpoints",
                str(self.rasa_stores.endpoints),
                "--credentials",
                "credentials.yml",
            ],
            rasa_env(
                {
                    "ACTION_ENDPOINT_URL": action_url,
                    "ACTION_TOKEN": self.action_token,
                    **self.rasa_stores.env,
                    **self.tensorflow_threads(),
                }
            ),
            BOT_DIR,
        )

    def tensorflow_threads(self) -> dict[str, str]:
        """Rasa reads these at start (rasa.utils.tensorflow.environment); the operator's own values win."""
        threads = self.settings.model_threads
        if threads <= 0:
            return {}
        names = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")
        return {name: os.environ.get(name) or str(threads) for name in names}

    def start_api(self, replica: int = 0) -> None:
        port = self.api_port + replica
        api_env = dict(os.environ)
        api_env.update(self.settings.child_env())
        api_env.update(
            {
                "MINWON_HOST": self.settings.host,
                "MINWON_PORT": str(port),
                "RASA_URL": self.rasa_url,
                "MINWON_RASA_URLS": ",".join(self.rasa_urls),
                "RASA_TOKEN": self.rasa_token,
                "ACTION_TOKEN": self.action_token,
                "TOKENIZERS_PARALLELISM": "false",
            }
        )
        # Each api process has its own listeners: the console and metrics ports move up with it.
        if self.settings.console_port:
            api_env["MINWON_CONSOLE_PORT"] = str(self.settings.console_port + replica)
        if self.settings.metrics_port:
            api_env["MINWON_METRICS_PORT"] = str(self.settings.metrics_port + replica)
        api_env.update(self.extra_env)
        self._spawn(
            self.api_name(replica),
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_asgi",
                "--factory",
                "--host",
                self.settings.host,
                "--port",
                str(port),
                "--no-access-log",
                # Bigger WebSocket frames are dropped unread; up to this the api refuses them in Korean.
                "--ws-max-size",
                str(4 * frame_bytes_limit(self.settings.max_message_chars)),
                # X-Forwarded-For is the api's to judge (Settings.trusted_proxies), not uvicorn's.
                "--no-proxy-headers",
            ],
            api_env,
            REPO_ROOT,
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail}")

    def wait_ready(self, timeout: float = 240.0, say: Callable[[str], None] = print) -> float:
        """Poll /readyz until Rasa's model and the FAQ index are loaded and a first turn was answered
        (the warm-up); returns seconds waited."""
        started = time.monotonic()
        last_report = -10.0
        while True:
            self.check_alive()
            elapsed = time.monotonic() - started
            details = [self._not_ready(url) for url in self.api_urls]
            waiting = [detail for detail in details if detail is not None]
            if not waiting:
                return elapsed
            detail = (
                waiting[0] if len(details) == 1 else f"{len(waiting)} of {len(details)} api processes: {waiting[0]}"
            )
            if elapsed - last_report >= 5:
                say(f"[run] waiting for readiness ({elapsed:.0f} s): {detail}")
                last_report = elapsed
            if elapsed > timeout:
                raise TimeoutError(f"not ready after {timeout:.0f} s ({detail}); logs in {self.logs}")
            time.sleep(1.0)

    @staticmethod
    def _not_ready(api_url: str) -> str | None:
        """None when this api process is ready and sees every Rasa replica; else what it waits for."""
        try:
            response = httpx.get(f"{api_url}/readyz", timeout=3.0)
            state = response.json()
        except (httpx.HTTPError, ValueError):
            return "api starting"
        replicas = state.get("rasa_replicas", ["ok"])
        if response.status_code == 200 and all(replica == "ok" for replica in replicas):
            return None  # at start every Rasa replica must be up, not just one
        index_state = "ok" if isinstance(state.get("index"), dict) else state.get("index")
        return (
            f"Rasa: {state.get('rasa')}, index: {index_state}, database: {state.get('database')}, "
            f"warm-up: {state.get('warmup')}"
        )

    def kill_api(self, replica: int) -> None:
        """SIGKILL one api process (a fault drill: the others carry on from the database)."""
        process = self.processes.pop(self.api_name(replica))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def kill_rasa(self, replica: int) -> None:
        """SIGKILL one Rasa replica (a fault drill: its conversations fail over to the next one)."""
        process = self.processes.pop(self.rasa_name(replica))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_api(self) -> None:
        """Stop only the api (a restart drill: Rasa keeps running, the database keeps the handoffs)."""
        process = self.processes.pop("api", None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def free_ports(count: int) -> list[int]:
    """Distinct free ports: all sockets stay bound until every port is chosen."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
