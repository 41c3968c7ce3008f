"""Typed dependencies: the services a route may use, and who the staff member calling it is.

Routes declare what they need (``desk: DeskDep``, ``staff: DeskStaff``) instead
of reaching into ``app.state``; the session cookie, role and CSRF checks live
here once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request
from rasa_sdk.executor import ActionExecutor
from starlette.requests import HTTPConnection

from api.analytics.service import AnalyticsService
from api.audit_context import set_audit_client
from api.chat import ChatService
from api.client_address import client_address
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import StaffLogin
from api.handoff.desk import HandoffDesk
from api.handoff.redis_bridge import RedisBridge
from api.kb.service import KnowledgeService
from api.kinds import CURATOR_ROLES, DESK_ROLES, Role
from api.knowledge import Knowledge
from api.ops.metrics import Metrics
from api.ops.warmup import Warmup
from api.rasa_client import RasaClient
from api.ratelimit import ResidentLimits
from api.resident_data import ResidentData
from api.settings import Settings
from api.tokens import ConversationTokens

STAFF_COOKIE = "minwon_console"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Services:
    """Everything one api process holds; built once by ``create_app``."""

    settings: Settings
    tokens: ConversationTokens
    limits: ResidentLimits  # residents' rate limits (turns, callbacks)
    rasa: RasaClient
    db: Database
    desk: HandoffDesk
    auth: StaffAuth
    chat: ChatService
    knowledge: Knowledge
    actions: ActionExecutor  # the bot's custom actions, run here for Rasa
    kb: KnowledgeService  # the live knowledge base: curators' changes, releases
    metrics: Metrics  # counted here, scraped on the internal metrics bind
    analytics: AnalyticsService  # the council's numbers and the unanswered inbox
    resident_data: ResidentData  # a resident's 열람·삭제 request
    warmup: Warmup  # one Rasa turn and one encoder query before /readyz says ready
    bridge: RedisBridge | None = None  # wake-ups shared with the other api processes (REDIS_URL)


# The getters are ``async`` because FastAPI runs a plain ``def`` dependency in its thread pool: a thread
# hop for each one on every request: about 5 % of the api's Python samples under load (py-spy).
async def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_tokens(services: ServicesDep) -> ConversationTokens:
    return services.tokens


async def get_desk(services: ServicesDep) -> HandoffDesk:
    return services.desk


async def get_chat(services: ServicesDep) -> ChatService:
    return services.chat


async def get_auth(services: ServicesDep) -> StaffAuth:
    return services.auth


async def get_knowledge(services: ServicesDep) -> Knowledge:
    return services.knowledge


async def get_actions(services: ServicesDep) -> ActionExecutor:
    return services.actions


async def get_kb(services: ServicesDep) -> KnowledgeService:
    return services.kb


async def get_analytics(services: ServicesDep) -> AnalyticsService:
    return services.analytics


async def get_resident_data(services: ServicesDep) -> ResidentData:
    return services.resident_data


SettingsDep = Annotated[Settings, Depends(get_settings)]
TokensDep = Annotated[ConversationTokens, Depends(get_tokens)]
DeskDep = Annotated[HandoffDesk, Depends(get_desk)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
AuthDep = Annotated[StaffAuth, Depends(get_auth)]
KnowledgeDep = Annotated[Knowledge, Depends(get_knowledge)]
ActionsDep = Annotated[ActionExecutor, Depends(get_actions)]
KbDep = Annotated[KnowledgeService, Depends(get_kb)]
AnalyticsDep = Annotated[AnalyticsService, Depends(get_analytics)]
ResidentDataDep = Annotated[ResidentData, Depends(get_resident_data)]


# ---- staff (console) ----
class StaffAuthRequired(Exception):
    """No valid console login: pages redirect to the login form, the JSON API answers 401."""

    def __init__(self, api: bool) -> None:
        self.api = api


class StaffForbidden(Exception):
    """Logged in, but the role or the CSRF token does not allow this."""


def is_console_api(request: Request) -> bool:
    return request.url.path.startswith("/console/api/")


async def get_client_address(conn: HTTPConnection, settings: SettingsDep) -> str:
    """The caller's address (``X-Forwarded-For`` only from ``Settings.trusted_proxies``)."""
    peer = conn.client.host if conn.client else None
    return client_address(peer, conn.headers.get("x-forwarded-for"), settings.proxy_networks)


ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_limits(services: ServicesDep) -> ResidentLimits:
    return services.limits


LimitsDep = Annotated[ResidentLimits, Depends(get_limits)]


async def current_staff(request: Request, auth: AuthDep, client: ClientAddress) -> StaffLogin:
    staff = await asyncio.to_thread(auth.staff_login, request.cookies.get(STAFF_COOKIE))
    if staff is None:
        raise StaffAuthRequired(is_console_api(request))
    # Awaited in the request's own task, so the route and the services it calls see it.
    set_audit_client(client)
    return staff


AnyStaff = Annotated[StaffLogin, Depends(current_staff)]


def require_role(*roles: Role) -> Callable[..., Awaitable[StaffLogin]]:
    async def dependency(staff: AnyStaff) -> StaffLogin:
        if staff.user.role not in roles:
            raise StaffForbidden()
        return staff

    return dependency


DeskStaff = Annotated[StaffLogin, Depends(require_role(*DESK_ROLES))]
AdminStaff = Annotated[StaffLogin, Depends(require_role(Role.ADMIN))]
CuratorStaff = Annotated[StaffLogin, Depends(require_role(*CURATOR_ROLES))]


def check_csrf(staff: StaffLogin, supplied: str | None) -> None:
    if not supplied or not secrets.compare_digest(supplied, staff.csrf_token):
        raise StaffForbidden()


async def desk_staff_header_csrf(request: Request, staff: DeskStaff) -> StaffLogin:
    """A desk officer's JSON call with the session's CSRF token in ``X-CSRF-Token``."""
    check_csrf(staff, request.headers.get(CSRF_HEADER))
    return staff


async def desk_staff_form_csrf(staff: DeskStaff, csrf: Annotated[str, Form()] = "") -> StaffLogin:
    """A desk officer's form post with the session's CSRF token in the ``csrf`` field."""
    check_csrf(staff, csrf)
    return staff


async def any_staff_form_csrf(staff: AnyStaff, csrf: Annotated[str, Form()] = "") -> StaffLogin:
    check_csrf(staff, csrf)
    return staff


async def curator_form_csrf(staff: CuratorStaff, csrf: Annotated[str, Form()] = "") -> StaffLogin:
    """A curator's or admin's form post with the login's CSRF token."""
    check_csrf(staff, csrf)
    return staff


async def admin_form_csrf(staff: AdminStaff, csrf: Annotated[str, Form()] = "") -> StaffLogin:
    """An admin's form post with the login's CSRF token."""
    check_csrf(staff, csrf)
    return staff


DeskStaffCsrf = Annotated[StaffLogin, Depends(desk_staff_header_csrf)]
DeskStaffFormCsrf = Annotated[StaffLogin, Depends(desk_staff_form_csrf)]
AnyStaffFormCsrf = Annotated[StaffLogin, Depends(any_staff_form_csrf)]
CuratorFormCsrf = Annotated[StaffLogin, Depends(curator_form_csrf)]
AdminFormCsrf = Annotated[StaffLogin, Depends(admin_form_csrf)]
