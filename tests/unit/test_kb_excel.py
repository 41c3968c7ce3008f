"""Excel round trip of the live knowledge base, and refusals that name sheet, row and column and change nothing."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.db import Database
from api.kb.excel import COLUMNS, ImportRefused
from api.kb.service import KnowledgeService
from api.kb.store import Actor
from api.kinds import Role, VersionStatus
from api.knowledge import Knowledge
from api.settings import Settings

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
ADMIN = Actor("admin", Role.ADMIN)


@pytest.fixture
def service(kb_settings: Settings, db: Database, embedder) -> KnowledgeService:
    kb = KnowledgeService(kb_settings, db, Knowledge(kb_settings, embedder))
    asyncio.run(kb.start())
    return kb


def exported(service: KnowledgeService, tmp_path: Path) -> Path:
    path = tmp_path / "faq.xlsx"
    assert asyncio.run(service.export_xlsx(path)) >= 450
    return path


def column(header: str) -> int:
    return next(i for i, c in enumerate(COLUMNS, start=1) if c.header == header)


def row_of(sheet, entry_id: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == entry_id)


def edit(path: Path, changes: dict[tuple[str, str], object]) -> bytes:
    book = load_workbook(path)
    sheet = book["FAQ"]
    for (entry_id, header), value in changes.items():
        sheet.cell(row_of(sheet, entry_id), column(header)).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def snapshot(service: KnowledgeService) -> list[tuple]:
    return [(c["id"], s, n, str(c)) for c, s, n in service.store.export_rows()]


def test_the_export_has_the_contract_columns_and_text_cells(service: KnowledgeService, tmp_path: Path) -> None:
    path = exported(service, tmp_path)
    sheet = load_workbook(path)["FAQ"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[0] == "id" and {"질문", "다른 표현", "답변"} <= set(headers[:5])
    assert {"준비물", "수수료", "처리기간", "신청 장소", "온라인", "참고"} <= set(headers)
    assert {"담당부서", "출처", "확인일", "검토기한", "상태"} <= set(headers)
    row = row_of(sheet, "T01-002")
    alternatives = sheet.cell(row, column("다른 표현")).value
    assert isinstance(alternatives, str) and len(alternatives.splitlines()) >= 6


def test_a_cell_that_looks_like_a_formula_stays_text(service: KnowledgeService, tmp_path: Path) -> None:
    content = service.store.published("T01-002").content
    content["answer"]["note"] = '=HYPERLINK("http://evil.example")'
    asyncio.run(service.save_draft("T01-002", content, 1, ADMIN))
    path = exported(service, tmp_path)
    cell = load_workbook(path)["FAQ"].cell(row_of(load_workbook(path)["FAQ"], "T01-002"), column("참고"))
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil.example")'


def test_round_trip_edits_become_reviews_and_publish_goes_live(service: KnowledgeService, tmp_path: Path) -> None:
    path = exported(service, tmp_path)
    data = edit(path, {("T01-002", "참고"): "엑셀에서 고친 참고 문구입니다."})
    counts = asyncio.run(service.import_xlsx(data, ADMIN, publish=False))
    assert counts == {"new": 0, "changed": 1, "unchanged": counts["unchanged"]} and counts["unchanged"] >= 450
    newest = service.store.version("T01-002")
    assert newest.status == VersionStatus.IN_REVIEW
    assert newest.content["answer"]["note"] == "엑셀에서 고친 참고 문구입니다."
    assert service.store.published("T01-002").number == 1  # not live until reviewed

    path = exported(service, tmp_path)  # a fresh export carries the new version number
    data = edit(path, {("T01-002", "참고"): "바로 공개한 참고 문구입니다."})
    asyncio.run(service.import_xlsx(data, ADMIN, publish=True))
    retriever = service.knowledge.current()
    assert retriever is not None
    assert "바로 공개한 참고 문구입니다." in retriever.search("여권 수수료 얼마예요").results[0].answer


def test_an_empty_id_is_a_new_entry(service: KnowledgeService, tmp_path: Path) -> None:
    path = exported(service, tmp_path)
    book = load_workbook(path)
    sheet = book["FAQ"]
    source_row = row_of(sheet, "T01-002")
    values = [sheet.cell(source_row, c).value for c in range(1, len(COLUMNS) + 1)]
    values[column("id") - 1] = None
    values[column("질문") - 1] = "여권 발급 기념품은 있나요?"
    values[column("버전") - 1] = None
    sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    counts = asyncio.run(service.import_xlsx(out.getvalue(), ADMIN, publish=False))
    assert counts["new"] == 1
    [row] = service.store.search(text="여권 발급 기념품")
    assert row.id == "C01-001" and row.open_status == VersionStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({("T01-002", "답변"): None}, "FAQ 시트 {row}행 '답변' 열: 비어 있습니다."),
        ({("T01-002", "담당부서"): "우주항공과"}, "FAQ 시트 {row}행 '담당부서' 열: 알 수 없는 부서 '우주항공과'"),
        ({("T01-002", "참고"): "가" * 5000}, "FAQ 시트 {row}행 '참고' 열: 5,000자로 너무 깁니다"),
        ({("T01-003", "id"): "T01-002"}, "'id' 열: T01-002가 {row}행에도 있습니다."),
        ({("T01-002", "버전"): 0}, "T01-002는 내보낸 뒤(v0) 다른 사람이 고쳤습니다"),
        ({("T01-002", "다른 표현"): "하나"}, "FAQ 시트 {row}행 '다른 표현' 열: Value error, needs at least 4"),
    ],
)
def test_a_problem_anywhere_refuses_the_whole_workbook(
    service: KnowledgeService, tmp_path: Path, change: dict, message: str
) -> None:
    path = exported(service, tmp_path)
    row = row_of(load_workbook(path)["FAQ"], "T01-002")
    # A good edit elsewhere in the same file must not be applied either.
    data = edit(path, {**change, ("T06-001", "참고"): "같이 고친 다른 행"})
    before = snapshot(service)
    with pytest.raises(ImportRefused) as info:
        asyncio.run(service.import_xlsx(data, ADMIN, publish=True))
    assert any(message.format(row=row) in problem for problem in info.value.problems), info.value.problems
    assert snapshot(service) == before


def test_not_a_workbook_and_a_missing_column_are_refused(service: KnowledgeService, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match=r"엑셀\(\.xlsx\) 통합 문서가 아니거나"):
        asyncio.run(service.import_xlsx(b"PK\x03\x04 not really a zip", ADMIN, publish=False))
    path = exported(service, tmp_path)
    book = load_workbook(path)
    book["FAQ"].delete_cols(column("질문"))
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match=r"FAQ 시트 1행: '질문' 열이 없습니다\."):
        asyncio.run(service.import_xlsx(out.getvalue(), ADMIN, publish=False))


def test_the_cli_refuses_with_a_non_zero_exit_and_says_where(kb_settings: Settings, tmp_path: Path) -> None:
    env = {**__import__("os").environ, **kb_settings.child_env()}
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not excel")
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "faq", "import", "--xlsx", str(broken)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1 and "nothing was changed" in result.stderr and "통합 문서가 아니거나" in result.stderr
