"""Assemble the FastAPI app: services from settings, routes, static files."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import socketio
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.analytics.service import AnalyticsService
from api.chat import ChatService
from api.console import analytics_routes as analytics_console
from api.console import kb_routes as kb_console
from api.console import routes as console
from api.console.auth import StaffAuth
from api.db import Database
from api.deps import Services
from api.handoff.config import HandoffConfig
from api.handoff.desk import HandoffDesk
from api.handoff.store import HandoffStore
from api.kb.service import KnowledgeService
from api.knowledge import Knowledge
from api.ops.logs import configure_logging
from api.ops.metrics import Metrics
from api.ops.warmup import Warmup
from api.rasa_client import RasaClient
from api.ratelimit import ResidentLimits
from api.routes import actions, chat, handoff, health
from api.settings import Settings
from api.tokens import ConversationTokens
from api.webchat_socket import create_webchat_server
from faq.store import CountyProfile

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
CONSOLE_STATIC = Path(__file__).resolve().parent / "console" / "static"
MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger("minwon.api")


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url)
    metrics = Metrics()
    config = HandoffConfig.load(settings.county_file, settings.office_override)
    desk = HandoffDesk(HandoffStore(db), config, metrics=metrics)
    rasa = RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout, metrics)
    knowledge = Knowledge(settings)
    kb = KnowledgeService(settings, db, knowledge)
    metrics.watch(desk, knowledge, db)
    county = CountyProfile.load(settings.county_file)
    return Services(
        settings=settings,
        tokens=ConversationTokens(settings.ensure_secret(), settings.session_max_age, settings.previous_secret_keys),
        limits=ResidentLimits(settings),
        rasa=rasa,
        db=db,
        desk=desk,
        auth=StaffAuth(db),
        chat=ChatService(rasa, desk, county, settings.max_message_chars, metrics),
        knowledge=knowledge,
        actions=actions.build_executor(knowledge.current),
        kb=kb,
        analytics=AnalyticsService(db, knowledge, kb),
        metrics=metrics,
        warmup=Warmup(rasa, knowledge),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    services = build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(services.db.upgrade)
        scrape = services.metrics.serve(settings.metrics_host, settings.metrics_port) if settings.metrics_port else None
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
        if scrape is not None:
            scrape.shutdown()
            scrape.server_close()
        await services.rasa.aclose()
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

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "요청이 너무 큽니다. 질문을 짧게 줄여 주세요."}, status_code=413)
        return await call_next(request)

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
    sio = create_webchat_server(services.tokens, services.chat, services.settings)
    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io")
