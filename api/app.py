"""Assemble the FastAPI app: services from settings, routes, static files."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import socketio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.admission import Admission
from api.analytics.service import AnalyticsService
from api.chat import ChatService
from api.console import analytics_routes as analytics_console
from api.console import kb_routes as kb_console
from api.console import privacy_routes as privacy_console
from api.console import routes as console
from api.console.auth import StaffAuth
from api.console_bind import ConsoleListener, ListenerSplit
from api.db import Database
from api.deps import Services
from api.handoff.config import HandoffConfig
from api.handoff.desk import HandoffDesk
from api.handoff.hub import Hub
from api.handoff.redis_bridge import RedisBridge
from api.handoff.store import HandoffStore
from api.kb.service import KnowledgeService
from api.knowledge import Knowledge
from api.ops.logs import configure_logging
from api.ops.metrics import Metrics
from api.ops.warmup import Warmup
from api.rasa_client import RasaClient
from api.ratelimit import ResidentLimits
from api.resident_data import ResidentData
from api.routes import actions, chat, handoff, health
from api.settings import Settings
from api.tokens import ConversationTokens
from api.webchat_socket import create_webchat_server
from faq.store import CountyProfile

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
CONSOLE_STATIC = Path(__file__).resolve().parent / "console" / "static"
MAX_BODY_BYTES = 64 * 1024
# Rasa posts the whole conversation to the action webhook on every action: by about a resident's
# twentieth question it is past 64 KB. Only Rasa holds the token, which is checked before the body is read.
MAX_ACTION_CALL_BYTES = 16 * 1024 * 1024
STORAGE_DOWN = (
    "지금 시스템 점검으로 잠시 메시지를 받을 수 없습니다. 보내신 메시지는 잠시 후 자동으로 다시 보내 드립니다."
)
STORAGE_RETRY_SECONDS = 5
REPLAY_MARGIN_SECONDS = 2.0
log = logging.getLogger("minwon.api")


class BodyLimit:
    """ASGI middleware: a request that says it is larger than its path's limit is refused before it is read.

    Plain ASGI rather than ``@app.middleware("http")``: that wrapper streams every request and response
    through a task of its own: about 4 % of the api's Python samples under load (py-spy)."""

    def __init__(self, app: ASGIApp, max_bytes: int, by_prefix: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.by_prefix = app, max_bytes, by_prefix or {}

    def limit(self, path: str) -> int:
        return next((size for prefix, size in self.by_prefix.items() if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length")
            if length and length.isdigit() and int(length) > self.limit(scope["path"]):
                refused = JSONResponse({"detail": "요청이 너무 큽니다. 질문을 짧게 줄여 주세요."}, status_code=413)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url)
    metrics = Metrics()
    config = HandoffConfig.load(settings.county_file, settings.office_override)
    hub = Hub()
    # Several api processes: wake-ups travel through Redis (the database stays the truth).
    bridge = RedisBridge(settings.redis_url, hub, settings.database_url) if settings.redis_url else None
    desk = HandoffDesk(HandoffStore(db), config, hub=hub, metrics=metrics)
    rasa = RasaClient(settings.rasa_endpoints, settings.rasa_token, settings.rasa_timeout, metrics)
    knowledge = Knowledge(settings)
    kb = KnowledgeService(settings, db, knowledge)
    # Rasa's turns at once are shared by every api process sending to it (MINWON_API_REPLICAS): two processes
    # each admitting the whole capacity doubled what Rasa got and timed turns out (bench_capacity r2).
    at_once = max(1, math.ceil(settings.rasa_concurrency * rasa.replicas / settings.api_replicas))
    admission = Admission(at_once, settings.rasa_queue, settings.rasa_queue_wait)
    metrics.watch(desk, knowledge, db, admission)
    county = CountyProfile.load(settings.county_file)
    return Services(
        settings=settings,
        tokens=ConversationTokens(settings.ensure_secret(), settings.session_max_age, settings.previous_secret_keys),
        limits=ResidentLimits(settings),
        rasa=rasa,
        db=db,
        desk=desk,
        auth=StaffAuth(db),
        chat=ChatService(
            rasa,
            desk,
            county,
            settings.max_message_chars,
            metrics,
            admission,
            knowledge,
            # A first try stores the words once it has its place with Rasa: what is left is Rasa's
            # timeout and storing the answer, so a retry on another process waits that and a little more.
            replay_wait=settings.rasa_timeout + REPLAY_MARGIN_SECONDS,
        ),
        knowledge=knowledge,
        actions=actions.build_executor(knowledge.current),
        kb=kb,
        analytics=AnalyticsService(db, knowledge, kb),
        resident_data=ResidentData(db),
        metrics=metrics,
        warmup=Warmup(rasa, knowledge),
        bridge=bridge,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(services.db.upgrade)
        if services.bridge is not None:
            services.bridge.start()
        scrape = services.metrics.serve(settings.metrics_host, settings.metrics_port) if settings.metrics_port else None
        console_listener = (
            ConsoleListener(app, settings.console_host, settings.console_port) if settings.console_port else None
        )
        if console_listener is not None:
            console_listener.start()
        if settings.load_retriever:
            await services.kb.start()
        background = []
        if settings.load_retriever:
            background.append(asyncio.create_task(services.warmup.run()))
        if settings.run_sweeper:
            background.append(asyncio.create_task(services.desk.run_sweeper()))
            if settings.load_retriever:
                background.append(asyncio.create_task(services.kb.run_scheduler(settings.kb_poll_seconds)))
        yield
        for task in background:
            task.cancel()
        if console_listener is not None:
            await console_listener.stop()
        if scrape is not None:
            scrape.shutdown()
            scrape.server_close()
        await services.rasa.aclose()
        if services.bridge is not None:
            await services.bridge.stop()
        services.db.dispose()

    app = FastAPI(
        title="민원 안내 챗봇 API",
        version="0.1.0",
        description="County civil-complaint guidance chatbot: resident chat, health checks, widget.",
        lifespan=lifespan,
    )
    app.state.services = services

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )

    if settings.console_port:
        app.add_middleware(ListenerSplit, console_port=settings.console_port)

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, by_prefix={"/internal/actions/": MAX_ACTION_CALL_BYTES})

    @app.exception_handler(OperationalError)
    async def database_unreachable(request: Request, exc: OperationalError) -> JSONResponse:
        # The database is restarting or gone: nothing could be stored, so the widget keeps the message
        # and sends it again (``retry``), as it does when the bot is busy.
        log.error("database unreachable on %s: %s", request.url.path, exc.orig or exc)
        body = {"retry": True, "detail": STORAGE_DOWN, "retry_after": STORAGE_RETRY_SECONDS}
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(STORAGE_RETRY_SECONDS)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in exc.errors())
        return JSONResponse(
            {"detail": "요청 형식이 올바르지 않습니다. 질문을 다시 입력해 주세요.", "fields": fields},
            status_code=422,
        )

    app.include_router(chat.router)
    app.include_router(handoff.router)
    app.include_router(kb_console.router)
    app.include_router(analytics_console.router)
    app.include_router(privacy_console.router)
    app.include_router(console.router)
    console.install_handlers(app)
    kb_console.install(app)
    app.mount("/console/static", StaticFiles(directory=CONSOLE_STATIC), name="console-static")
    app.include_router(health.router)
    app.include_router(actions.router)
    app.mount("/widget", StaticFiles(directory=WIDGET_DIR / "src"), name="widget")
    app.mount("/demo", StaticFiles(directory=WIDGET_DIR / "demo", html=True), name="demo")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/demo/")

    return app


def create_asgi(settings: Settings | None = None) -> socketio.ASGIApp:
    """The served app: FastAPI plus the rasa-webchat socket.io endpoint at /socket.io/."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_format)
    app = create_app(settings)
    services: Services = app.state.services
    sio = create_webchat_server(services.tokens, services.chat, services.settings, services.limits)
    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
