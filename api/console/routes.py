"""The officer console: server-rendered pages plus a small JSON API that the pages long-poll.

Every page and API call needs a logged-in staff session (cookie, HttpOnly,
SameSite=Strict, Secure behind TLS); every state change needs the session's CSRF
token (form field ``csrf`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from api.console.auth import AuthError, StaffAuth
from api.db.models import StaffSession
from api.handoff.desk import HandoffDesk
from api.handoff.hub import QUEUE
from api.handoff.store import TICKET_STATES, HandoffError
from api.messages import MessageRejected, clean_text

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
COOKIE = "minwon_console"
LOGIN_CSRF_COOKIE = "minwon_login_csrf"
DESK_ROLES = ("officer", "admin")
LONG_POLL_SECONDS = 25.0
STATE_LABELS = {"new": "접수", "in_progress": "처리 중", "done": "완료"}


class ConsoleAuthRequired(Exception):
    def __init__(self, api: bool) -> None:
        self.api = api


class ConsoleForbidden(Exception):
    pass


def _auth(request: Request) -> StaffAuth:
    return request.app.state.staff_auth  # type: ignore[no-any-return]


def _desk(request: Request) -> HandoffDesk:
    return request.app.state.desk  # type: ignore[no-any-return]


async def _staff(request: Request, roles: tuple[str, ...] = DESK_ROLES) -> StaffSession:
    api = request.url.path.startswith("/console/api/")
    staff = await asyncio.to_thread(_auth(request).session, request.cookies.get(COOKIE))
    if staff is None:
        raise ConsoleAuthRequired(api)
    if staff.user.role not in roles:
        raise ConsoleForbidden()
    return staff


def _check_csrf(staff: StaffSession, supplied: str | None) -> None:
    if not supplied or not secrets.compare_digest(supplied, staff.csrf_token):
        raise ConsoleForbidden()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.secure_cookies)


def install_handlers(app: Any) -> None:
    @app.exception_handler(ConsoleAuthRequired)
    async def auth_required(request: Request, exc: ConsoleAuthRequired) -> Response:
        if exc.api:
            return JSONResponse({"detail": "로그인이 필요합니다."}, status_code=401)
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(ConsoleForbidden)
    async def forbidden(request: Request, exc: ConsoleForbidden) -> Response:
        if request.url.path.startswith("/console/api/"):
            return JSONResponse({"detail": "권한이 없거나 보안 토큰이 맞지 않습니다."}, status_code=403)
        return templates.TemplateResponse(
            request, "message.html", {"title": "권한 없음", "text": "이 화면을 볼 권한이 없습니다."}, status_code=403
        )


def _page(request: Request, name: str, staff: StaffSession | None, **context: Any) -> HTMLResponse:
    context.update(staff=staff, user=staff.user if staff else None, csrf=staff.csrf_token if staff else "")
    response = templates.TemplateResponse(request, name, context)
    response.headers["Cache-Control"] = "no-store"  # transcripts must not linger in a shared PC's cache
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# ---- login / logout ----
@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/console") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _page(request, "login.html", None, login_csrf=token, next=next, error="")
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/console"
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/console"),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        raise ConsoleForbidden()
    try:
        login = await asyncio.to_thread(_auth(request).login, username, password)
    except AuthError as exc:
        response = _page(request, "login.html", None, login_csrf=expected, next=next, error=str(exc))
        response.status_code = 401
        return response
    target = next if next.startswith("/console") and not next.startswith("//") else "/console"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, login.token, httponly=True, samesite="strict", secure=_secure(request), path="/", max_age=9 * 3600
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: str = Form("")) -> Response:
    staff = await _staff(request, ("officer", "curator", "admin"))
    _check_csrf(staff, csrf)
    await asyncio.to_thread(_auth(request).logout, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# ---- queue ----
def _queue_json(desk: HandoffDesk, staff: StaffSession, items: list[Any], new_tickets: int) -> dict[str, Any]:
    return {
        "open": desk.config.hours.is_open(),
        "new_tickets": new_tickets,
        "items": [
            {
                "id": i.handoff_id,
                "state": i.state,
                "position": i.position,
                "requested_at": i.requested_at.isoformat(),
                "officer": i.officer,
                "mine": i.officer_id == staff.user_id,
                "question": i.question,
                "context": i.context,
            }
            for i in items
        ],
    }


@router.get("", response_class=HTMLResponse)
async def queue_page(request: Request) -> HTMLResponse:
    staff = await _staff(request)
    desk = _desk(request)
    return _page(request, "queue.html", staff, hours=desk.config.hours.describe(), open=desk.config.hours.is_open())


@router.get("/api/queue")
async def queue_api(request: Request, since: int = -1, wait: float = 0) -> dict[str, Any]:
    """The queue now, or (long poll) once it changes after version ``since``."""
    staff = await _staff(request)
    desk = _desk(request)
    subscription = desk.hub.subscribe(QUEUE)
    try:
        if wait > 0 and since >= desk.hub.version(QUEUE):
            await subscription.wait(min(wait, LONG_POLL_SECONDS))
    finally:
        subscription.close()
    version = desk.hub.version(QUEUE)
    items = await asyncio.to_thread(desk.store.queue)
    new_tickets = await asyncio.to_thread(desk.store.count_tickets, "new")
    return {"version": version, **_queue_json(desk, staff, items, new_tickets)}


# ---- one conversation ----
class OfficerMessage(BaseModel):
    text: str = Field(max_length=4000)


class Finish(BaseModel):
    how: str = Field(pattern="^(ended|returned)$")


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
async def handoff_page(request: Request, handoff_id: int) -> HTMLResponse:
    staff = await _staff(request)
    item = await asyncio.to_thread(_desk(request).store.handoff, handoff_id)
    if item is None:
        context = {"title": "없는 상담", "text": "요청하신 상담을 찾을 수 없습니다."}
        return templates.TemplateResponse(request, "message.html", context, status_code=404)
    return _page(request, "handoff.html", staff, item=item)


@router.get("/api/handoffs/{handoff_id}/events")
async def handoff_events(request: Request, handoff_id: int, after: int = 0, wait: float = 0) -> JSONResponse:
    staff = await _staff(request)
    desk = _desk(request)
    item = await asyncio.to_thread(desk.store.handoff, handoff_id)
    if item is None:
        return JSONResponse({"detail": "없는 상담입니다."}, status_code=404)
    messages = await desk.wait_for_messages(item.conversation_id, after, min(wait, LONG_POLL_SECONDS))
    item = await asyncio.to_thread(desk.store.handoff, handoff_id)
    assert item is not None
    return JSONResponse(
        {
            "state": item.state,
            "officer": item.officer,
            "mine": item.officer_id == staff.user_id,
            "context": item.context,
            "messages": [m.public() for m in messages],
        }
    )


@router.post("/api/handoffs/{handoff_id}/accept")
async def accept(request: Request, handoff_id: int) -> JSONResponse:
    staff = await _staff(request)
    _check_csrf(staff, request.headers.get("X-CSRF-Token"))
    if await _desk(request).accept(handoff_id, staff.user) is None:
        return JSONResponse({"detail": "이미 다른 담당자가 맡았거나 대기가 끝난 상담입니다."}, status_code=409)
    return JSONResponse({"ok": True})


@router.post("/api/handoffs/{handoff_id}/messages")
async def officer_message(request: Request, handoff_id: int, body: OfficerMessage) -> JSONResponse:
    staff = await _staff(request)
    _check_csrf(staff, request.headers.get("X-CSRF-Token"))
    try:
        text = clean_text(body.text, 2000)
        message = await _desk(request).officer_message(handoff_id, staff.user, text)
    except MessageRejected as exc:
        return JSONResponse({"detail": exc.detail.replace("질문", "메시지")}, status_code=exc.status)
    except HandoffError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return JSONResponse(message.public(), status_code=201)


@router.post("/api/handoffs/{handoff_id}/finish")
async def finish(request: Request, handoff_id: int, body: Finish) -> JSONResponse:
    staff = await _staff(request)
    _check_csrf(staff, request.headers.get("X-CSRF-Token"))
    try:
        await _desk(request).finish(handoff_id, staff.user, body.how)
    except HandoffError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return JSONResponse({"ok": True})


# ---- callback tickets ----
@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(request: Request, status: str = "") -> HTMLResponse:
    staff = await _staff(request)
    chosen = status if status in TICKET_STATES else None
    tickets = await asyncio.to_thread(_desk(request).store.tickets, chosen)
    kst = _desk(request).config.hours.timezone
    return _page(request, "tickets.html", staff, tickets=tickets, status=chosen or "", labels=STATE_LABELS, kst=kst)


@router.post("/tickets/{ticket_id}")
async def update_ticket(
    request: Request, ticket_id: int, status: str = Form(...), notes: str = Form(""), csrf: str = Form("")
) -> Response:
    staff = await _staff(request)
    _check_csrf(staff, csrf)
    try:
        await asyncio.to_thread(_desk(request).store.update_ticket, ticket_id, staff.user, status, notes[:4000])
    except HandoffError as exc:
        return templates.TemplateResponse(
            request, "message.html", {"title": "저장하지 못했습니다", "text": str(exc)}, status_code=400
        )
    return RedirectResponse(f"/console/tickets#ticket-{ticket_id}", status_code=303)


# ---- audit log (admins) ----
@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> HTMLResponse:
    staff = await _staff(request, ("admin",))
    entries = await asyncio.to_thread(_desk(request).store.audit_log, 300)
    return _page(request, "audit.html", staff, entries=entries)
