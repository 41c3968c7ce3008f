"""Residents' 열람·삭제 requests in the console (admins): search, open, delete. See ``api.resident_data``.

Admins only: a search runs across every resident's conversations, which no desk officer needs for their own
work; the county's privacy officer (개인정보 보호책임자 or the person they name) holds the admin account.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.analytics.metrics import kst
from api.console.pages import message_page, page
from api.deps import AdminFormCsrf, AdminStaff, ResidentDataDep
from api.resident_data import MIN_ID_CHARS, MIN_QUERY_CHARS, ErasureRefused, SearchBy

router = APIRouter(prefix="/console/privacy", include_in_schema=False)
SEARCH_LABELS = {
    SearchBy.TEXT: "대화 내용",
    SearchBy.CONVERSATION: "대화 번호",
    SearchBy.PHONE: "전화번호(전화 상담 요청)",
}
SENDERS = {"resident": "주민", "bot": "챗봇", "officer": "상담원", "system": "안내"}
REFUSALS = {
    "not_found": "그 대화를 찾을 수 없습니다. 이미 지워졌을 수 있습니다.",
    "handoff_open": "상담원 연결이 진행 중인 대화입니다. 상담이 끝난 뒤 삭제해 주세요.",
}
DELETED_LABELS = {
    "messages": "메시지",
    "turns": "답변 기록",
    "votes": "평가",
    "tickets": "전화 상담 요청",
    "handoffs": "상담 연결",
    "rasa_events": "챗봇 대화 상태(Rasa)",
}


def _search_by(value: str) -> SearchBy:
    try:
        return SearchBy(value)
    except ValueError:
        return SearchBy.TEXT


@router.get("", response_class=HTMLResponse)
async def search_page(
    request: Request, staff: AdminStaff, data: ResidentDataDep, by: str = "text", q: str = "", done: str = ""
) -> HTMLResponse:
    chosen = _search_by(by)
    found = await data.search(chosen, q[:200], staff.user.username) if q.strip() else None
    return page(
        request,
        "privacy.html",
        staff,
        by=chosen,
        q=q[:200],
        found=found,
        labels=SEARCH_LABELS,
        done=done,
        kst=kst,
        min_query=MIN_QUERY_CHARS,
        min_id=MIN_ID_CHARS,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def record_page(request: Request, conversation_id: str, staff: AdminStaff, data: ResidentDataDep) -> Response:
    record = await data.record(conversation_id, staff.user.username)
    if record is None:
        return message_page(request, "없는 대화", REFUSALS["not_found"], 404)
    return page(request, "privacy_record.html", staff, record=record, senders=SENDERS, kst=kst)


@router.post("/conversations/{conversation_id}/delete")
async def delete_conversation(
    request: Request, conversation_id: str, staff: AdminFormCsrf, data: ResidentDataDep
) -> Response:
    try:
        counts = await data.erase(conversation_id, staff.user.username)
    except ErasureRefused as exc:
        return message_page(request, "삭제하지 못했습니다", REFUSALS[exc.reason], 409)
    done = ", ".join(f"{DELETED_LABELS[name]} {count}건" for name, count in counts.items() if count)
    return page(request, "message.html", staff, title="삭제했습니다", text=f"대화와 함께 지웠습니다: {done or '없음'}.")


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: int, staff: AdminStaff, data: ResidentDataDep) -> Response:
    ticket = await data.ticket(ticket_id, staff.user.username)
    if ticket is None:
        return message_page(request, "없는 요청", "그 전화 상담 요청을 찾을 수 없습니다.", 404)
    return page(request, "privacy_ticket.html", staff, ticket=ticket, kst=kst)


@router.post("/tickets/{ticket_id}/delete")
async def delete_ticket(request: Request, ticket_id: int, staff: AdminFormCsrf, data: ResidentDataDep) -> Response:
    if not await data.erase_ticket(ticket_id, staff.user.username):
        return message_page(request, "삭제하지 못했습니다", "그 전화 상담 요청을 찾을 수 없습니다.", 404)
    return RedirectResponse("/console/privacy?done=ticket", status_code=303)
