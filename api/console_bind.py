"""The console and internal APIs on their own listener (``MINWON_CONSOLE_PORT``), off the public port.

Both listeners serve one app in one event loop (the handoff hub's waiters and the services are shared);
``ListenerSplit`` decides by the local port a request arrived on. The public port answers 404 for
``/console`` and ``/internal``; the console port answers 404 for everything residents use. Health checks
answer on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

CONSOLE_PREFIXES = ("/console", "/internal/")
BOTH = ("/healthz", "/readyz")
NOT_FOUND = json.dumps({"detail": "찾을 수 없습니다."}, ensure_ascii=False).encode()
log = logging.getLogger("minwon.console_bind")


def is_console_path(path: str) -> bool:
    return path == "/console" or path.startswith(CONSOLE_PREFIXES)


class ListenerSplit:
    """ASGI middleware: each path only on its own listener."""

    def __init__(self, app: ASGIApp, console_port: int) -> None:
        self.app, self.console_port = app, console_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"] not in BOTH:
            server = scope.get("server") or (None, None)
            on_console = server[1] == self.console_port
            if is_console_path(scope["path"]) != on_console:
                await self._not_found(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", b"%d" % len(NOT_FOUND))]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": NOT_FOUND})


class _Listener(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The public server owns the process's signals; it stops this one from the app's lifespan.
        yield


class ConsoleListener:
    """A second uvicorn server on the console bind, in the running event loop."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.socket = socket.socket(family, socket.SOCK_STREAM)
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
        except OSError as exc:
            raise RuntimeError(f"MINWON_CONSOLE_PORT {port} on {host} cannot be used: {exc}") from exc
        # proxy_headers off: X-Forwarded-For is the api's to judge (Settings.trusted_proxies), as on the public port.
        config = uvicorn.Config(app, lifespan="off", access_log=False, proxy_headers=False, log_config=None)
        self.server = _Listener(config)
        self.host, self.port = host, port
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.socket]))
        log.info("console on http://%s:%s/console", self.host, self.port)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
