"""Curator pages: find, edit, preview, review, publish, history, synonyms, golden questions, Excel.

Every page needs a curator or admin login; every change needs the login's CSRF token and goes through
``KnowledgeService`` (permissions, versions and the audit log live there, not here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.pages import download_once, message_page, page, scratch_file, templates
from api.db.models import StaffLogin
from api.deps import AnalyticsDep, CuratorFormCsrf, CuratorStaff, KbDep
from api.kb.excel import MAX_FILE_BYTES, ImportRefused
from api.kb.store import Actor, KbConflict, KbError
from api.kinds import Role, VersionStatus
from faq.check import today_kst
from faq.store import ANSWER_FIELDS, FaqLoadError

router = APIRouter(prefix="/console/kb", include_in_schema=False)
KST = ZoneInfo("Asia/Seoul")
STATUS_LABELS = {
    VersionStatus.DRAFT: "초안",
    VersionStatus.IN_REVIEW: "검토 중",
    VersionStatus.APPROVED: "공개 예약",
    VersionStatus.PUBLISHED: "공개 중",
    VersionStatus.SUPERSEDED: "이전 버전",
    VersionStatus.REJECTED: "반려",
}
TEXT_FIELDS = [name for name in ANSWER_FIELDS if name != "bring"]
META_FIELDS = (
    "department",
    "source",
    "verified",
    "subject",
    "basis",
    "as_of",
    "review_by",
    "expires",
    "internal_notes",
)
FIELD_LABELS = {
    "question": "질문",
    "alternatives": "다른 표현",
    "summary": "답변",
    "links": "바로가기",
    "department": "담당부서",
    "source": "출처",
    "verified": "확인일",
    "basis": "근거",
    "as_of": "기준",
    "review_by": "검토기한",
    "expires": "만료일",
    "internal_notes": "내부 메모",
    "subject": "주제어",
    **ANSWER_FIELDS,
}


def _actor(staff: StaffLogin) -> Actor:
    return Actor.of(staff.user)


def _context(kb: KbDep) -> dict[str, Any]:
    from faq.store import CountyProfile

    profile = CountyProfile.load(kb.settings.county_file)
    departments = sorted((k, str(v.get("name", k))) for k, v in (profile.values.get("dept") or {}).items())
    return {"departments": departments, "topics": sorted(kb.titles().items()), "labels": STATUS_LABELS}


def _kst(value: dt.datetime | None) -> str:
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M") if value else "-"


templates.env.filters["kst"] = _kst


# ---- list ----
@router.get("", response_class=HTMLResponse)
async def kb_list(
    request: Request,
    staff: CuratorStaff,
    kb: KbDep,
    q: str = "",
    topic: str = "",
    department: str = "",
    status: str = "",
    overdue: str = "",
) -> HTMLResponse:
    today = today_kst()
    rows = await asyncio.to_thread(kb.store.search, q, topic, department, status, today if overdue else None)
    mine = staff.user.department
    overdue_mine = await asyncio.to_thread(kb.store.search, "", "", mine or "", "", today) if mine else []
    return page(
        request,
        "kb_list.html",
        staff,
        rows=rows,
        filters={"q": q, "topic": topic, "department": department, "status": status, "overdue": overdue},
        overdue_mine=len(overdue_mine),
        today=today,
        **_context(kb),
    )


# ---- edit ----
def _form_content(form: dict[str, str], entry_id: str, topic: str) -> dict[str, Any]:
    def lines(name: str) -> list[str]:
        return [line.strip() for line in form.get(name, "").splitlines() if line.strip()]

    links = []
    for line in lines("links"):
        title, _, url = line.partition("|")
        links.append({"title": title.strip(), "url": url.strip()})
    answer: dict[str, Any] = {"summary": form.get("summary", "").strip(), "bring": lines("bring")}
    for name in TEXT_FIELDS:
        if name != "summary" and form.get(name, "").strip():
            answer[name] = form[name].strip()
    content: dict[str, Any] = {
        "id": entry_id,
        "topic": topic,
        "question": form.get("question", "").strip(),
        "alternatives": lines("alternatives"),
        "answer": answer,
        "department": form.get("department", "").strip(),
        "links": links,
        "source": form.get("source", "").strip(),
        "verified": form.get("verified", "").strip(),
        "subject": form.get("subject", "").strip(),
    }
    for name in ("basis", "as_of", "review_by", "expires", "internal_notes"):
        if form.get(name, "").strip():
            content[name] = form[name].strip()
    return content


def _form_values(content: dict[str, Any]) -> dict[str, str]:
    answer = content.get("answer", {})
    values = {
        "question": content.get("question", ""),
        "summary": answer.get("summary", ""),
        "alternatives": "\n".join(content.get("alternatives", [])),
        "bring": "\n".join(answer.get("bring", [])),
        "links": "\n".join(f"{link['title']} | {link['url']}" for link in content.get("links", [])),
    }
    for name in TEXT_FIELDS:
        values[name] = answer.get(name) or ""
    for name in META_FIELDS:
        values[name] = str(content.get(name) or "")
    return values


async def _edit_page(
    request: Request,
    staff: StaffLogin,
    kb: KbDep,
    entry_id: str,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
    saved: str = "",
) -> HTMLResponse:
    newest = await asyncio.to_thread(kb.store.version, entry_id)
    state = await asyncio.to_thread(kb.store.entry_state, entry_id)
    if newest is None or state is None:
        return message_page(request, "없는 항목", f"{entry_id} 항목을 찾을 수 없습니다.", 404)
    published = await asyncio.to_thread(kb.store.published, entry_id)
    baseline_diff = None
    if state.baseline_pending:
        baseline_diff = _diff(newest.content, state.baseline_pending["content"])
    response = page(
        request,
        "kb_edit.html",
        staff,
        entry_id=entry_id,
        topic=state.topic,
        newest=newest,
        published=published,
        archived=state.archived,
        values=values or _form_values(newest.content),
        based_on=state.latest_version,
        errors=errors or [],
        saved=saved,
        baseline_diff=baseline_diff,
        may_edit=_actor(staff).may_edit(state.department),
        field_labels=ANSWER_FIELDS,
        text_fields=TEXT_FIELDS,
        **_context(kb),
    )
    response.status_code = status_code
    return response


# ---- a new entry (from the unanswered inbox or from scratch) ----
NEW_FIELDS = ("topic", "department", "question", "alternatives", "summary", "source", "verified")


def _new_page(
    request: Request, staff: StaffLogin, kb: KbDep, values: dict[str, str], errors: list[str], status_code: int = 200
) -> HTMLResponse:
    response = page(
        request,
        "kb_new.html",
        staff,
        values=values,
        errors=errors,
        keys=values.get("keys", ""),
        proposal=values.get("proposal", ""),
        **_context(kb),
    )
    response.status_code = status_code
    return response


@router.get("/new", response_class=HTMLResponse)
async def kb_new(request: Request, staff: CuratorStaff, kb: KbDep) -> HTMLResponse:
    values = {name: request.query_params.get(name, "") for name in (*NEW_FIELDS, "keys", "proposal")}
    values["department"] = values["department"] or (staff.user.department or "")
    values["verified"] = values["verified"] or today_kst().isoformat()
    return _new_page(request, staff, kb, values, [])


@router.post("/new", response_class=HTMLResponse)
async def kb_create(request: Request, staff: CuratorFormCsrf, kb: KbDep, analytics: AnalyticsDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    topic = form.get("topic", "")
    content = _form_content(form, "C00-000", topic)
    try:
        version = await kb.create_entry(topic, content, _actor(staff))
    except ValidationError as exc:
        return _new_page(request, staff, kb, form, _validation_messages(exc), 422)
    except (KbError, FaqLoadError) as exc:
        return _new_page(request, staff, kb, form, str(exc).splitlines(), 422)
    keys = [k for k in form.get("keys", "").split(",") if k]
    if keys:
        await analytics.used_for_new_entry(keys, content["question"], version.entry_id, _actor(staff))
    if form.get("proposal", "").isdigit():
        await analytics.close_proposal(int(form["proposal"]))
    return RedirectResponse(f"/console/kb/{version.entry_id}?saved=v{version.number}", status_code=303)


@router.get("/{entry_id}", response_class=HTMLResponse)
async def kb_edit(request: Request, entry_id: str, staff: CuratorStaff, kb: KbDep, saved: str = "") -> HTMLResponse:
    return await _edit_page(request, staff, kb, entry_id, saved=saved)


def _validation_messages(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        name = str([p for p in err["loc"] if not isinstance(p, int)][-1])
        out.append(f"{FIELD_LABELS.get(name, name)}: {err['msg']}")
    return out


@router.post("/{entry_id}", response_class=HTMLResponse)
async def kb_save(request: Request, entry_id: str, staff: CuratorFormCsrf, kb: KbDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    state = await asyncio.to_thread(kb.store.entry_state, entry_id)
    if state is None:
        return message_page(request, "없는 항목", f"{entry_id} 항목을 찾을 수 없습니다.", 404)
    content = _form_content(form, entry_id, state.topic)
    based_on = int(form["based_on"]) if form.get("based_on", "").isdigit() else None
    try:
        version = await kb.save_draft(entry_id, content, based_on, _actor(staff), form.get("comment", ""))
    except KbConflict as exc:
        return await _edit_page(request, staff, kb, entry_id, _form_values(content), [str(exc)], 409)
    except ValidationError as exc:
        return await _edit_page(request, staff, kb, entry_id, _form_values(content), _validation_messages(exc), 422)
    except (KbError, FaqLoadError) as exc:
        return await _edit_page(request, staff, kb, entry_id, _form_values(content), str(exc).splitlines(), 422)
    if form.get("then") == "submit":
        await kb.submit(entry_id, version.number, _actor(staff))
        return RedirectResponse(f"/console/kb/{entry_id}?saved=submitted", status_code=303)
    return RedirectResponse(f"/console/kb/{entry_id}?saved=v{version.number}", status_code=303)


@router.post("/{entry_id}/submit")
async def kb_submit(entry_id: str, staff: CuratorFormCsrf, kb: KbDep, number: Annotated[int, Form()]) -> Response:
    await kb.submit(entry_id, number, _actor(staff))
    return RedirectResponse(f"/console/kb/{entry_id}?saved=submitted", status_code=303)


@router.post("/{entry_id}/archive")
async def kb_archive(entry_id: str, staff: CuratorFormCsrf, kb: KbDep, archived: Annotated[str, Form()]) -> Response:
    await kb.set_archived(entry_id, archived == "1", _actor(staff))
    return RedirectResponse(f"/console/kb/{entry_id}", status_code=303)


@router.post("/{entry_id}/baseline")
async def kb_baseline(entry_id: str, staff: CuratorFormCsrf, kb: KbDep, take: Annotated[str, Form()]) -> Response:
    await asyncio.to_thread(kb.store.resolve_baseline, entry_id, take == "1", _actor(staff))
    return RedirectResponse(f"/console/kb/{entry_id}", status_code=303)


# ---- preview: the widget's own rendering, with nothing sent anywhere ----
@router.get("/{entry_id}/preview", response_class=HTMLResponse)
async def kb_preview(request: Request, entry_id: str, staff: CuratorStaff, kb: KbDep, v: int = 0) -> HTMLResponse:
    version = await asyncio.to_thread(kb.store.version, entry_id, v or None)
    if version is None:
        return message_page(request, "없는 버전", f"{entry_id}의 그 버전을 찾을 수 없습니다.", 404)
    store = await asyncio.to_thread(kb.staged_store, [version.entry])
    text = store.render_answer(store.by_id[entry_id])
    messages = [{"from": "user", "text": version.content["question"]}, {"from": "bot", "text": text}]
    transcript = json.dumps({"messages": messages}, ensure_ascii=False)
    return page(request, "kb_preview.html", staff, transcript=transcript, version=version)


# ---- history ----
def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Per field, the lines removed (-) and added (+)."""
    left, right = _form_values(before), _form_values(after)
    out = []
    for name in left.keys() | right.keys():
        old, new = left.get(name, "").splitlines(), right.get(name, "").splitlines()
        if old != new:
            lines = difflib.unified_diff(old, new, lineterm="", n=0)
            out.append((FIELD_LABELS.get(name, name), [ln for ln in lines if not ln.startswith(("---", "+++", "@@"))]))
    return sorted(out)


@router.get("/{entry_id}/history", response_class=HTMLResponse)
async def kb_history(request: Request, entry_id: str, staff: CuratorStaff, kb: KbDep) -> HTMLResponse:
    versions = await asyncio.to_thread(kb.store.history, entry_id)
    older = [*versions[1:], None]
    pairs = [(v, _diff(before.content, v.content) if before else []) for v, before in zip(versions, older, strict=True)]
    return page(request, "kb_history.html", staff, entry_id=entry_id, pairs=pairs, labels=STATUS_LABELS)


@router.post("/{entry_id}/restore/{number}")
async def kb_restore(entry_id: str, number: int, staff: CuratorFormCsrf, kb: KbDep) -> Response:
    version = await kb.restore(entry_id, number, _actor(staff))
    return RedirectResponse(f"/console/kb/{entry_id}?saved=v{version.number}", status_code=303)


# ---- review and publish ----
@router.get("/review/queue", response_class=HTMLResponse)
async def kb_review(request: Request, staff: CuratorStaff, kb: KbDep) -> HTMLResponse:
    queue = await asyncio.to_thread(kb.store.review_queue)
    items = []
    for version in queue:
        published = await asyncio.to_thread(kb.store.published, version.entry_id)
        diff = _diff(published.content, version.content) if published else []
        check = await asyncio.to_thread(kb.store.check_of, version.entry_id, version.number)
        items.append({"version": version, "diff": diff, "check": check, "own": version.author == staff.user.username})
    return page(request, "kb_review.html", staff, items=items, labels=STATUS_LABELS)


@router.post("/{entry_id}/check/{number}")
async def kb_check(entry_id: str, number: int, staff: CuratorFormCsrf, kb: KbDep) -> Response:
    await kb.check(entry_id, number, _actor(staff))
    return RedirectResponse(f"/console/kb/review/queue#v-{entry_id}-{number}", status_code=303)


@router.post("/{entry_id}/review/{number}")
async def kb_decide(
    entry_id: str,
    number: int,
    staff: CuratorFormCsrf,
    kb: KbDep,
    decision: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
    publish_at: Annotated[str, Form()] = "",
) -> Response:
    when = None
    if decision == "approve" and publish_at.strip():
        when = dt.datetime.fromisoformat(publish_at.strip()).replace(tzinfo=KST)
    await kb.review(entry_id, number, _actor(staff), decision == "approve", comment, when)
    return RedirectResponse("/console/kb/review/queue", status_code=303)


# ---- synonyms and golden questions ----
@router.get("/terms/synonyms", response_class=HTMLResponse)
async def kb_synonyms(request: Request, staff: CuratorStaff, kb: KbDep) -> HTMLResponse:
    synonyms = await asyncio.to_thread(kb.store.synonyms)
    return page(request, "kb_synonyms.html", staff, synonyms=sorted(synonyms.items()))


@router.post("/terms/synonyms")
async def kb_synonym_save(
    staff: CuratorFormCsrf,
    kb: KbDep,
    variant: Annotated[str, Form()],
    canonical: Annotated[str, Form()] = "",
    delete: Annotated[str, Form()] = "",
) -> Response:
    if delete:
        await kb.delete_synonym(variant, _actor(staff))
    else:
        await kb.set_synonym(variant, canonical, _actor(staff))
    return RedirectResponse("/console/kb/terms/synonyms", status_code=303)


@router.get("/terms/golden", response_class=HTMLResponse)
async def kb_golden(request: Request, staff: CuratorStaff, kb: KbDep) -> HTMLResponse:
    golden = await asyncio.to_thread(kb.store.golden_questions)
    return page(request, "kb_golden.html", staff, golden=golden)


@router.post("/terms/golden")
async def kb_golden_save(
    staff: CuratorFormCsrf,
    kb: KbDep,
    question: Annotated[str, Form()] = "",
    entry_id: Annotated[str, Form()] = "",
    delete: Annotated[int, Form()] = 0,
) -> Response:
    if delete:
        await asyncio.to_thread(kb.store.delete_golden, delete, _actor(staff))
    else:
        await asyncio.to_thread(kb.store.add_golden, question, entry_id.strip(), _actor(staff))
    return RedirectResponse("/console/kb/terms/golden", status_code=303)


# ---- Excel ----
@router.get("/excel/export.xlsx")
async def kb_export(staff: CuratorStaff, kb: KbDep) -> FileResponse:
    path = scratch_file("minwon-export-", f"faq-{today_kst().isoformat()}.xlsx")
    await kb.export_xlsx(path)
    return download_once(path)


@router.get("/excel/import", response_class=HTMLResponse)
async def kb_import_page(request: Request, staff: CuratorStaff) -> HTMLResponse:
    return page(request, "kb_import.html", staff, problems=[], result=None, admin=staff.user.role == Role.ADMIN)


@router.post("/excel/import", response_class=HTMLResponse)
async def kb_import(
    request: Request,
    staff: CuratorFormCsrf,
    kb: KbDep,
    workbook: Annotated[UploadFile, File()],
    publish: Annotated[str, Form()] = "",
) -> HTMLResponse:
    data = await workbook.read(MAX_FILE_BYTES + 1)
    admin = staff.user.role == Role.ADMIN
    try:
        result = await kb.import_xlsx(data, _actor(staff), publish == "1" and admin)
    except ImportRefused as exc:
        response = page(request, "kb_import.html", staff, problems=exc.problems, result=None, admin=admin)
        response.status_code = 422
        return response
    except KbError as exc:
        response = page(request, "kb_import.html", staff, problems=[str(exc)], result=None, admin=admin)
        response.status_code = 403
        return response
    return page(request, "kb_import.html", staff, problems=[], result=result, admin=admin)


# ---- JSON for the console script ----
@router.get("/api/check/{entry_id}/{number}")
async def kb_check_status(entry_id: str, number: int, staff: CuratorStaff, kb: KbDep) -> JSONResponse:
    check = await asyncio.to_thread(kb.store.check_of, entry_id, number)
    return JSONResponse(check or {"status": "none"})


def install(app: Any) -> None:
    """Errors the knowledge base raises become the console's message page (403 for permissions)."""
    from api.kb.store import KbForbidden

    async def kb_error(request: Request, exc: Exception) -> Response:
        status = 403 if isinstance(exc, KbForbidden) else 409 if isinstance(exc, KbConflict) else 400
        return message_page(request, "처리하지 못했습니다", str(exc), status)

    app.add_exception_handler(KbError, kb_error)
