"""The officer console: server-rendered pages plus a small JSON API that the pages long-poll.

Every page and API call needs a logged-in staff member (``api.deps``: cookie,
HttpOnly, SameSite=Strict, Secure behind TLS); every state change needs the
login's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api.client_address import in_networks
from api.console.auth import AuthError, LoginThrottled
from api.console.pages import message_page, page, templates
from api.db.models import StaffLogin
from api.deps import (
    STAFF_COOKIE,
    AdminStaff,
    AnyStaff,
    AnyStaffFormCsrf,
    AuthDep,
    ClientAddress,
    DeskDep,
    DeskStaff,
    DeskStaffCsrf,
    DeskStaffFormCsrf,
    KnowledgeDep,
    SettingsDep,
    StaffAuthRequired,
    StaffForbidden,
    is_console_api,
)
from api.handoff.desk import HandoffDesk
from api.handoff.store import HandoffError, QueueItem
from api.kinds import FinishHow, Role, TicketStatus
from api.knowledge import Knowledge
from api.messages import MessageRejected, clean_text, officer_words
from api.settings import Settings

# The JSON API (/console/api/…) is documented in the OpenAPI schema; pages and form posts are not.
router = APIRouter(prefix="/console", tags=["console"])
LOGIN_CSRF_COOKIE = "minwon_login_csrf"
STATE_LABELS = {TicketStatus.NEW: "접수", TicketStatus.IN_PROGRESS: "처리 중", TicketStatus.DONE: "완료"}
OFFICER_MESSAGE_CHARS = 2000


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(StaffAuthRequired)
    async def auth_required(request: Request, exc: StaffAuthRequired) -> Response:
        if exc.api:
            return JSONResponse({"detail": "로그인이 필요합니다."}, status_code=401)
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(StaffForbidden)
    async def forbidden(request: Request, exc: StaffForbidden) -> Response:
        if is_console_api(request):
            return JSONResponse({"detail": "권한이 없거나 보안 토큰이 맞지 않습니다."}, status_code=403)
        return templates.TemplateResponse(
            request, "message.html", {"title": "권한 없음", "text": "이 화면을 볼 권한이 없습니다."}, status_code=403
        )


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.secure_cookies


def _ticket_status(value: str) -> TicketStatus | None:
    try:
        return TicketStatus(value)
    except ValueError:
        return None


# ---- login / logout ----
@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, settings: SettingsDep, next: str = "/console") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, login_csrf=token, next=next, error="")
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request, settings), path="/console"
    )
    return response


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    auth: AuthDep,
    settings: SettingsDep,
    client: ClientAddress,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/console",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise StaffForbidden()
    try:
        trusted = in_networks(client, settings.console_trusted_networks)
        login = await asyncio.to_thread(auth.login, username, password, client, trusted)
    except AuthError as exc:
        response = page(request, "login.html", None, login_csrf=expected, next=next, error=str(exc))
        response.status_code = exc.status
        if isinstance(exc, LoginThrottled):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    target = next if next.startswith("/console") and not next.startswith("//") else "/console"
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(
        STAFF_COOKIE,
        login.token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/",
        max_age=9 * 3600,
    )
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return redirect


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, staff: AnyStaffFormCsrf, auth: AuthDep) -> Response:
    await asyncio.to_thread(auth.logout, request.cookies.get(STAFF_COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response


# ---- queue ----
def _queue_item(item: QueueItem, staff: StaffLogin) -> dict[str, Any]:
    return {
        "id": item.handoff_id,
        "state": item.state,
        "position": item.position,
        "requested_at": item.requested_at.isoformat(),
        "officer": item.officer,
        "mine": item.officer_id == staff.user_id,
        "question": item.question,
        "context": item.context,
    }


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def console_home(request: Request, staff: AnyStaff, desk: DeskDep) -> Response:
    """Officers land on the queue; curators on the knowledge base (they have no desk)."""
    if staff.user.role == Role.CURATOR:
        return RedirectResponse("/console/kb", status_code=303)
    return page(request, "queue.html", staff, hours=desk.hours_text(), open=desk.is_open())


@router.get("/api/queue")
async def queue_api(
    staff: DeskStaff, desk: DeskDep, settings: SettingsDep, since: int = -1, wait: float = 0
) -> dict[str, Any]:
    """The queue now, or (long poll) once it changes after version ``since``."""
    version = await desk.wait_for_queue(since, min(wait, settings.long_poll_seconds))
    items = await desk.queue()
    return {
        "version": version,
        "open": desk.is_open(),
        "new_tickets": await desk.new_ticket_count(),
        "items": [_queue_item(i, staff) for i in items],
    }


# ---- one conversation ----
class OfficerMessage(BaseModel):
    text: str = Field(max_length=4000)


class Finish(BaseModel):
    how: FinishHow


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse, include_in_schema=False)
async def handoff_page(request: Request, handoff_id: int, staff: DeskStaff, desk: DeskDep) -> HTMLResponse:
    item = await desk.handoff(handoff_id)
    if item is None:
        return message_page(request, "없는 상담", "요청하신 상담을 찾을 수 없습니다.", 404)
    return page(request, "handoff.html", staff, item=item)


async def _handoff_or_404(desk: HandoffDesk, handoff_id: int) -> QueueItem | JSONResponse:
    item = await desk.handoff(handoff_id)
    return item if item is not None else JSONResponse({"detail": "없는 상담입니다."}, status_code=404)


def _internal_notes(knowledge: Knowledge, context: dict[str, Any] | None) -> list[dict[str, str]]:
    """Officers' notes (처리 요령, 내부 참고) of the entries the bot considered; never shown to residents."""
    retriever = knowledge.current()
    if retriever is None or not context:
        return []
    notes = []
    for candidate in context.get("candidates", []):
        entry = retriever.store.by_id.get(str(candidate.get("id")))
        if entry is not None and entry.internal_notes:
            notes.append({"id": entry.id, "question": entry.question, "notes": entry.internal_notes})
    return notes


@router.get("/api/handoffs/{handoff_id}/events")
async def handoff_events(
    handoff_id: int,
    staff: DeskStaff,
    desk: DeskDep,
    settings: SettingsDep,
    knowledge: KnowledgeDep,
    after: int = 0,
    wait: float = 0,
) -> JSONResponse:
    found = await _handoff_or_404(desk, handoff_id)
    if isinstance(found, JSONResponse):
        return found
    messages = await desk.wait_for_messages(found.conversation_id, after, min(wait, settings.long_poll_seconds))
    item = await desk.handoff(handoff_id)
    assert item is not None
    return JSONResponse(
        {
            "state": item.state,
            "officer": item.officer,
            "mine": item.officer_id == staff.user_id,
            "context": item.context,
            "internal_notes": _internal_notes(knowledge, item.context),
            "messages": [m.public() for m in messages],
        }
    )


@router.post("/api/handoffs/{handoff_id}/accept")
async def accept(handoff_id: int, staff: DeskStaffCsrf, desk: DeskDep) -> JSONResponse:
    if await desk.accept(handoff_id, staff.user) is None:
        return JSONResponse({"detail": "이미 다른 담당자가 맡았거나 대기가 끝난 상담입니다."}, status_code=409)
    return JSONResponse({"ok": True})


@router.post("/api/handoffs/{handoff_id}/messages")
async def officer_message(handoff_id: int, body: OfficerMessage, staff: DeskStaffCsrf, desk: DeskDep) -> JSONResponse:
    try:
        text = clean_text(body.text, OFFICER_MESSAGE_CHARS)
        message = await desk.officer_message(handoff_id, staff.user, text)
    except MessageRejected as exc:
        return JSONResponse({"detail": officer_words(exc)}, status_code=exc.status)
    except HandoffError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return JSONResponse(message.public(), status_code=201)


@router.post("/api/handoffs/{handoff_id}/finish")
async def finish(handoff_id: int, body: Finish, staff: DeskStaffCsrf, desk: DeskDep) -> JSONResponse:
    try:
        await desk.finish(handoff_id, staff.user, body.how)
    except HandoffError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return JSONResponse({"ok": True})


# ---- callback tickets ----
@router.get("/tickets", response_class=HTMLResponse, include_in_schema=False)
async def tickets_page(request: Request, staff: DeskStaff, desk: DeskDep, status: str = "") -> HTMLResponse:
    chosen = _ticket_status(status)
    tickets = await desk.tickets(chosen)
    kst = desk.config.hours.timezone
    return page(request, "tickets.html", staff, tickets=tickets, status=chosen or "", labels=STATE_LABELS, kst=kst)


@router.post("/tickets/{ticket_id}", include_in_schema=False)
async def update_ticket(
    request: Request,
    ticket_id: int,
    staff: DeskStaffFormCsrf,
    desk: DeskDep,
    status: Annotated[str, Form()],
    notes: Annotated[str, Form()] = "",
) -> Response:
    chosen = _ticket_status(status)
    if chosen is None:
        return message_page(request, "저장하지 못했습니다", f"알 수 없는 상태입니다: {status}", 400)
    try:
        await desk.update_ticket(ticket_id, staff.user, chosen, notes[:4000])
    except HandoffError as exc:
        return message_page(request, "저장하지 못했습니다", str(exc), 400)
    return RedirectResponse(f"/console/tickets#ticket-{ticket_id}", status_code=303)


# ---- audit log (admins) ----
@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(request: Request, staff: AdminStaff, desk: DeskDep) -> HTMLResponse:
    entries = await desk.audit_log(300)
    return page(request, "audit.html", staff, entries=entries, kst=desk.config.hours.timezone)
