"""Analytics pages: the dashboard (any staff role), drill-down to conversations, transcripts, the Excel
export, and the unanswered inbox (curators). Every number links to the conversations behind it; all
text shown was masked before it was stored. Changes need the login's CSRF token and go through
``AnalyticsService``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.analytics.charts import bar_chart, heatmap
from api.analytics.metrics import DRILLS, HANDOFF_LABELS, STRICT_RULE, TICKET_LABELS, WEEKDAYS, Period, kst, period_of
from api.console.pages import download_once, message_page, page, scratch_file
from api.deps import AnalyticsDep, AnyStaff, CuratorFormCsrf, CuratorStaff, DeskStaffFormCsrf, KbDep
from api.kb.store import Actor
from api.kinds import DESK_ROLES, Sender, TurnOutcome

router = APIRouter(prefix="/console", include_in_schema=False)
OUTCOME_LABELS = {
    TurnOutcome.ANSWERED: "답변",
    TurnOutcome.RELATED: "관련 안내",
    TurnOutcome.CLARIFIED: "선택지 제시",
    TurnOutcome.UNANSWERED: "답하지 못함",
    TurnOutcome.OTHER: "인사·감사 등",
    TurnOutcome.HANDOFF: "상담원 요청",
    TurnOutcome.HELD: "상담원 대기·상담 중",
    TurnOutcome.RASA_DOWN: "대화 엔진 장애",
}
DRILL_LABELS = {
    "conversations": "모든 대화",
    "answered": "답변을 받은 대화",
    "related": "관련 안내를 받은 대화",
    "clarified": "선택지를 받은 대화",
    "unanswered": "답을 받지 못한 질문이 있는 대화",
    "handoff": "상담원 연결을 요청한 대화",
    "resolved": "엄격 기준으로 해결된 대화",
    "unresolved": "답변을 받았지만 엄격 기준으로 해결되지 않은 대화",
    "negative": "'도움이 안 됐어요' 평가가 있는 대화",
    "overdue": "검토 기한이 지난 답변을 받은 대화",
}
SENDER_LABELS = {Sender.RESIDENT: "민원인", Sender.BOT: "챗봇", Sender.OFFICER: "상담원", Sender.SYSTEM: "안내"}
REASON_LABELS = {
    "unanswered": "답하지 못함",
    "related": "관련 안내만",
    "clarified": "선택지 제시",
    "negative": "부정 평가",
}


def _period(since: str, until: str) -> Period | str:
    try:
        return period_of(since, until)
    except ValueError as exc:
        return str(exc) if "시작일" in str(exc) else "날짜는 YYYY-MM-DD 형식으로 입력해 주세요."


def _query(period: Period, **extra: str) -> str:
    return urlencode({"since": str(period.since or ""), "until": str(period.until or ""), **extra})


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


# ---- dashboard ----
@router.get("/analytics", response_class=HTMLResponse)
async def dashboard(
    request: Request, staff: AnyStaff, analytics: AnalyticsDep, kb: KbDep, since: str = "", until: str = ""
) -> HTMLResponse:
    period = _period(since, until)
    if isinstance(period, str):
        return message_page(request, "기간을 확인해 주세요", period, 422)
    metrics = await analytics.metrics(period)
    titles = kb.titles()
    outcome_rows = [
        (OUTCOME_LABELS[TurnOutcome(key)], metrics[name])
        for key, name in (
            ("answered", "answered"),
            ("related", "related"),
            ("clarified", "clarified"),
            ("unanswered", "unanswered"),
            ("other", "other"),
            ("handoff", "handoff_turns"),
            ("held", "held"),
            ("rasa_down", "rasa_down"),
        )
    ]
    topic_rows = sorted(
        ((f"{key} {titles.get(key, '')}".strip(), count) for key, count in metrics["by_topic"].items()),
        key=lambda r: -r[1],
    )
    department_rows = sorted(metrics["by_department"].items(), key=lambda r: -r[1])
    charts = {
        "outcomes": bar_chart("chart-outcomes", "발화 결과별 건수 (표로도 제공)", outcome_rows),
        "topics": bar_chart("chart-topics", "주제별 질문 수 (표로도 제공)", topic_rows[:15]),
        "departments": bar_chart("chart-departments", "부서별 질문 수 (표로도 제공)", department_rows[:15]),
        "heatmap": heatmap("chart-heatmap", "요일·시간대별 주민 발화 수 (표로도 제공)", metrics["heatmap"], WEEKDAYS),
    }
    return page(
        request,
        "analytics.html",
        staff,
        m=metrics,
        period=period,
        since=str(period.since or ""),
        until=str(period.until or ""),
        q=_query(period),
        charts=charts,
        outcome_rows=outcome_rows,
        topic_rows=topic_rows,
        department_rows=department_rows,
        weekdays=WEEKDAYS,
        percent=_percent,
        strict_rule=STRICT_RULE,
        handoff_labels=HANDOFF_LABELS,
        ticket_labels=TICKET_LABELS,
    )


@router.get("/analytics/drill", response_class=HTMLResponse)
async def drill(
    request: Request, staff: AnyStaff, analytics: AnalyticsDep, measure: str, since: str = "", until: str = ""
) -> HTMLResponse:
    period = _period(since, until)
    if isinstance(period, str):
        return message_page(request, "기간을 확인해 주세요", period, 422)
    if measure not in DRILLS:
        return message_page(request, "없는 지표", f"'{measure[:40]}' 지표는 없습니다.", 404)
    facts, firsts = await analytics.drill(period, measure)
    return page(
        request,
        "analytics_drill.html",
        staff,
        title=DRILL_LABELS[measure],
        facts=facts[:500],
        total=len(facts),
        firsts=firsts,
        q=_query(period),
        period=period,
        kst=kst,
        labels=OUTCOME_LABELS,
    )


@router.get("/analytics/export.xlsx")
async def export(staff: AnyStaff, analytics: AnalyticsDep, since: str = "", until: str = "") -> Response:
    period = _period(since, until)
    if isinstance(period, str):
        return Response(period, status_code=422, media_type="text/plain; charset=utf-8")
    path = scratch_file("minwon-analytics-", f"analytics-{period.since or 'all'}-{period.until or 'now'}.xlsx")
    await analytics.export_xlsx(path, period)
    return download_once(path)


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def transcript(request: Request, conversation_id: str, staff: AnyStaff, analytics: AnalyticsDep) -> HTMLResponse:
    messages = await analytics.transcript(conversation_id, staff.user.username)
    if messages is None:
        return message_page(
            request, "없는 대화", "그 대화를 찾을 수 없습니다. 보존 기간이 지나 지워졌을 수 있습니다.", 404
        )
    return page(
        request,
        "conversation.html",
        staff,
        conversation_id=conversation_id,
        messages=messages,
        senders=SENDER_LABELS,
        kst=kst,
        may_propose=staff.user.role in DESK_ROLES,
        proposed=request.query_params.get("proposed", ""),
    )


@router.post("/conversations/{conversation_id}/propose")
async def propose(
    conversation_id: str,
    staff: DeskStaffFormCsrf,
    analytics: AnalyticsDep,
    message_id: Annotated[int, Form()],
) -> Response:
    await analytics.propose(message_id, staff.user.username)
    return RedirectResponse(f"/console/conversations/{conversation_id}?proposed=1", status_code=303)


# ---- the unanswered inbox (curators) ----
@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(
    request: Request, staff: CuratorStaff, analytics: AnalyticsDep, since: str = "", until: str = "", done: str = ""
) -> HTMLResponse:
    period = _period(since, until)
    if isinstance(period, str):
        return message_page(request, "기간을 확인해 주세요", period, 422)
    clusters = await analytics.clusters(period)
    return page(
        request,
        "inbox.html",
        staff,
        clusters=clusters[:100],
        total=len(clusters),
        proposals=await analytics.proposals(),
        history=(await analytics.history())[:30],
        since=str(period.since or ""),
        until=str(period.until or ""),
        reasons=REASON_LABELS,
        done=done,
        kst=kst,
    )


def _keys(value: str) -> list[str]:
    """The comma-joined question keys a cluster's form carries."""
    return [k for k in value.split(",") if k]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


@router.post("/inbox/phrasing")
async def inbox_phrasing(
    staff: CuratorFormCsrf,
    analytics: AnalyticsDep,
    keys: Annotated[str, Form()],
    texts: Annotated[str, Form()],
    entry_id: Annotated[str, Form()],
) -> Response:
    number = await analytics.add_as_phrasings(_keys(keys), _lines(texts), entry_id.strip(), Actor.of(staff.user))
    return RedirectResponse(f"/console/kb/{entry_id.strip()}?saved=v{number}", status_code=303)


@router.post("/inbox/ignore")
async def inbox_ignore(
    staff: CuratorFormCsrf, analytics: AnalyticsDep, keys: Annotated[str, Form()], question: Annotated[str, Form()]
) -> Response:
    await analytics.ignore(_keys(keys), question, Actor.of(staff.user))
    return RedirectResponse("/console/inbox?done=ignored", status_code=303)


@router.post("/inbox/undo")
async def inbox_undo(staff: CuratorFormCsrf, analytics: AnalyticsDep, action_id: Annotated[int, Form()]) -> Response:
    await analytics.undo(action_id)
    return RedirectResponse("/console/inbox?done=undone", status_code=303)


@router.post("/inbox/new")
async def inbox_new(
    staff: CuratorFormCsrf,
    keys: Annotated[str, Form()],
    question: Annotated[str, Form()],
    texts: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
    proposal: Annotated[int, Form()] = 0,
) -> Response:
    """Start a new entry prefilled with the question (nothing is saved until the curator saves it)."""
    query = urlencode(
        {"question": question, "alternatives": texts, "summary": answer, "keys": keys, "proposal": proposal or ""}
    )
    return RedirectResponse(f"/console/kb/new?{query}", status_code=303)
