"""The knowledge base as an Excel workbook: export, and an all-or-nothing import with precise refusals.

Sheet ``FAQ``, one row per entry, header row first. Lists (다른 표현, 준비물, 바로가기) hold one item
per line in the cell. Cells are written as text, so a value starting with = + - @ is never run as a
formula; a formula found on import is refused. Any problem — not a workbook, a missing column, an
empty 질문 or 답변, a duplicate id, an unknown department, an over-long cell, an edit made on top of
an older version — refuses the whole file with the sheet, row and column, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from faq.store import ANSWER_FIELDS, CountyProfile, Entry

SHEET = "FAQ"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CELL_CHARS = 4000
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple[str, ...]  # where the value lives in a version's content
    kind: str = "text"  # text | lines | links | date | number
    required: bool = False
    export_only: bool = False


ANSWER_COLUMNS = [
    Column(label, ("answer", name), "lines" if name == "bring" else "text") for name, label in ANSWER_FIELDS.items()
]
COLUMNS: list[Column] = [
    Column("id", ("id",), required=True),
    Column("주제", ("topic",)),
    Column("질문", ("question",), required=True),
    Column("다른 표현", ("alternatives",), "lines", required=True),
    Column("답변", ("answer", "summary"), required=True),
    *ANSWER_COLUMNS,
    Column("바로가기", ("links",), "links"),
    Column("담당부서", ("department",)),
    Column("출처", ("source",)),
    Column("근거", ("basis",)),
    Column("확인일", ("verified",), "date"),
    Column("기준", ("as_of",)),
    Column("검토기한", ("review_by",), "date"),
    Column("만료일", ("expires",), "date"),
    Column("내부 메모", ("internal_notes",)),
    Column("후속 질문 주제", ("subject",)),
    Column("상태", ("_status",), export_only=True),
    Column("버전", ("_version",), "number"),
]
REQUIRED_HEADERS = [c.header for c in COLUMNS if c.required]


class ImportRefused(ValueError):
    """The workbook cannot be imported; ``problems`` name sheet, row and column. Nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportRow:
    row: int
    entry_id: str  # "" for a new entry
    topic: str
    content: dict[str, Any]
    based_on: int | None


@dataclass
class ParsedWorkbook:
    rows: list[ImportRow] = field(default_factory=list)


# ---- export ----
def _cell_value(content: dict[str, Any], column: Column) -> str | int | None:
    value: Any = content
    for key in column.path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or value == [] or value == "":
        return None
    if column.kind == "lines":
        return "\n".join(str(v) for v in value)
    if column.kind == "links":
        return "\n".join(f"{link['title']} | {link['url']}" for link in value)
    if column.kind == "number":
        return int(value)
    return str(value)


def export_workbook(rows: Iterable[tuple[dict[str, Any], str, int]], path: Path) -> int:
    """Write ``(content, status, version)`` rows to ``path``; returns the number of entries written."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append([c.header for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for content, status, version in rows:
        values = [_cell_value({**content, "_status": status, "_version": version}, c) for c in COLUMNS]
        sheet.append([None] * len(COLUMNS))
        for index, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=sheet.max_row, column=index)
            cell.value = value
            if isinstance(value, str):
                # Text, always: "=1+1", "- 신분증" and "@홈페이지" stay text in Excel, never a formula.
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        count += 1
    sheet.freeze_panes = "B2"
    for letter, width in (("A", 10), ("C", 40), ("D", 40), ("E", 60)):
        sheet.column_dimensions[letter].width = width
    book.save(path)
    return count


# ---- import ----
def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _department_key(value: str, profile: CountyProfile) -> str | None:
    departments = profile.values.get("dept", {}) or {}
    if value in departments:
        return value
    for key, dept in departments.items():
        if isinstance(dept, dict) and value in (str(dept.get("name", "")), f"{key} ({dept.get('name', '')})"):
            return str(key)
    return None


def read_workbook(
    data: bytes, profile: CountyProfile, existing: dict[str, int], existing_departments: dict[str, str]
) -> ParsedWorkbook:
    """Parse and check every row; raise ImportRefused with every problem found (nothing is written).

    ``existing``: entry id → its latest version number (to refuse edits made on top of an older export);
    ``existing_departments``: entry id → department, kept when the 담당부서 cell is left empty.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(
            [f"파일이 너무 큽니다 ({len(data) // 1024 // 1024} MB, 최대 {MAX_FILE_BYTES // 1024 // 1024} MB)."]
        )
    if not data:
        raise ImportRefused(["빈 파일입니다. 엑셀(.xlsx) 파일을 올려 주세요."])
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportRefused([f"엑셀(.xlsx) 통합 문서가 아니거나 손상된 파일입니다 ({type(exc).__name__})."]) from exc
    if SHEET not in book.sheetnames:
        raise ImportRefused([f"'{SHEET}' 시트가 없습니다 (있는 시트: {', '.join(book.sheetnames)})."])
    sheet = book[SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise ImportRefused([f"{SHEET} 시트가 비어 있습니다."])
    headers = [_text(h) for h in rows[0]]
    missing = [h for h in REQUIRED_HEADERS if h not in headers]
    if missing:
        raise ImportRefused([f"{SHEET} 시트 1행: '{h}' 열이 없습니다." for h in missing])
    positions = {c.header: headers.index(c.header) for c in COLUMNS if c.header in headers}
    problems: list[str] = []
    parsed = ParsedWorkbook()
    seen: dict[str, int] = {}
    for number, values in enumerate(rows[1:], start=2):
        if all(v is None or _text(v) == "" for v in values):
            continue
        where = f"{SHEET} 시트 {number}행"
        cells: dict[str, str] = {}
        for column in COLUMNS:
            position = positions.get(column.header)
            raw = values[position] if position is not None and position < len(values) else None
            if isinstance(raw, str) and raw.startswith("=") and column.kind != "number":
                problems.append(f"{where} '{column.header}' 열: 수식은 쓸 수 없습니다. 글자로 입력해 주세요.")
                continue
            text = _text(raw)
            if len(text) > MAX_CELL_CHARS:
                problems.append(
                    f"{where} '{column.header}' 열: {len(text):,}자로 너무 깁니다 (최대 {MAX_CELL_CHARS:,}자)."
                )
            cells[column.header] = text
        for header in ("질문", "답변"):
            if not cells.get(header):
                problems.append(f"{where} '{header}' 열: 비어 있습니다.")
        entry_id = cells.get("id", "")
        if entry_id:
            if entry_id in seen:
                problems.append(f"{where} 'id' 열: {entry_id}가 {seen[entry_id]}행에도 있습니다.")
            seen[entry_id] = number
        topic = cells.get("주제", "") or entry_id[:3].replace("C", "T", 1)
        if not entry_id and not topic:
            problems.append(f"{where} '주제' 열: 새 항목(id 없음)은 주제(T01 등)를 적어 주세요.")
        department = cells.get("담당부서", "")
        dept_key = _department_key(department, profile) if department else None
        if department and dept_key is None:
            problems.append(
                f"{where} '담당부서' 열: 알 수 없는 부서 '{department}' (county.yaml의 dept 키나 부서 이름)."
            )
        if not department and entry_id not in existing:
            problems.append(f"{where} '담당부서' 열: 새 항목은 담당부서를 적어 주세요.")
        dept_key = dept_key or existing_departments.get(entry_id, "")
        based_on: int | None = None
        if cells.get("버전"):
            try:
                based_on = int(cells["버전"])
            except ValueError:
                problems.append(f"{where} '버전' 열: 숫자가 아닙니다 ('{cells['버전']}').")
        if entry_id and entry_id in existing and based_on is not None and based_on != existing[entry_id]:
            problems.append(
                f"{where}: {entry_id}는 내보낸 뒤(v{based_on}) 다른 사람이 고쳤습니다 (지금 v{existing[entry_id]}). "
                "새로 내보낸 파일에 다시 반영해 주세요."
            )
        if entry_id and entry_id not in existing and not entry_id.startswith(("T", "C")):
            problems.append(f"{where} 'id' 열: '{entry_id}'는 id 형식이 아닙니다 (비워 두면 새 항목).")
        content = _content(cells, dept_key or "")
        content["id"] = entry_id or f"C{topic[1:3] if topic else '00'}-000"
        content["topic"] = topic
        try:
            Entry.model_validate(content)
        except ValidationError as exc:
            for err in exc.errors():
                header = _header_for(err["loc"])
                problems.append(f"{where} '{header}' 열: {err['msg']}")
        parsed.rows.append(ImportRow(number, entry_id, topic, content, based_on))
    if problems:
        raise ImportRefused(problems)
    if not parsed.rows:
        raise ImportRefused([f"{SHEET} 시트에 항목이 없습니다."])
    return parsed


def _content(cells: dict[str, str], department: str) -> dict[str, Any]:
    content: dict[str, Any] = {"answer": {}}
    for column in COLUMNS:
        if column.export_only or column.header in ("id", "주제", "버전"):
            continue
        value = cells.get(column.header, "")
        target = content
        for key in column.path[:-1]:
            target = target.setdefault(key, {})
        if column.kind == "lines":
            target[column.path[-1]] = [line.strip() for line in value.splitlines() if line.strip()]
        elif column.kind == "links":
            links = []
            for line in value.splitlines():
                title, _, url = line.partition("|")
                if line.strip():
                    links.append({"title": title.strip(), "url": url.strip()})
            target[column.path[-1]] = links
        elif value:
            target[column.path[-1]] = value
    content["department"] = department
    return content


def _header_for(loc: tuple[int | str, ...]) -> str:
    path = tuple(str(p) for p in loc if not isinstance(p, int))
    for column in COLUMNS:
        if column.path == path[: len(column.path)]:
            return column.header
    return ".".join(path)
