"""The council's workbook: one row per conversation (sheet 대화), and the period's numbers (sheet 지표).

Text in it is what the database holds: masked at the door, so the workbook carries no personal data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from api.analytics.metrics import STRICT_RULE, ConversationFacts, kst
from api.kinds import TurnOutcome

CONVERSATION_COLUMNS = (
    "대화",
    "시작(KST)",
    "주민 발화",
    "답변",
    "관련 안내",
    "선택지 제시",
    "답하지 못함",
    "상담원 요청",
    "부정 평가",
    "24시간 안 재질문",
    "엄격 해결",
    "첫 질문(가림 처리됨)",
)
METRIC_LABELS = {
    "conversations": "대화 수",
    "resident_turns": "주민 발화 수",
    "questions": "민원 질문 수",
    "answered": "답변",
    "related": "관련 안내",
    "clarified": "선택지 제시",
    "unanswered": "답하지 못함",
    "other": "인사·감사 등",
    "handoff_turns": "상담원 요청 발화",
    "held": "상담원 대기·상담 중 발화",
    "rasa_down": "대화 엔진 장애",
    "handoff_requests": "상담원 연결 요청",
    "overdue_answers": "검토 기한 지난 답변을 받은 대화",
}


def write_workbook(
    path: Path, metrics: dict[str, Any], facts: list[ConversationFacts], first_questions: dict[str, str]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "대화"
    sheet.append(CONVERSATION_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    yes = {True: "예", False: "아니요"}
    for fact in facts:
        sheet.append(
            [
                fact.id[:12],
                kst(fact.first_at),
                fact.turns,
                fact.outcomes[TurnOutcome.ANSWERED],
                fact.outcomes[TurnOutcome.RELATED],
                fact.outcomes[TurnOutcome.CLARIFIED],
                fact.outcomes[TurnOutcome.UNANSWERED],
                yes[fact.handoff],
                yes[fact.negative],
                yes[fact.returned],
                yes[fact.resolved],
                first_questions.get(fact.id, ""),
            ]
        )
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["L"].width = 60
    numbers = book.create_sheet("지표")
    numbers.append(["지표", "값"])
    numbers.append(["기간", f"{metrics['period']['since'] or '처음'} ~ {metrics['period']['until'] or '지금'}"])
    for key, label in METRIC_LABELS.items():
        numbers.append([label, metrics[key]])
    for key, value in metrics["rates"].items():
        numbers.append([f"{METRIC_LABELS[key]} 비율", value])
    strict = metrics["strict_resolution"]
    numbers.append(["엄격 해결 대화", strict["resolved"]])
    numbers.append(["엄격 해결 대상(답변을 받은 대화)", strict["eligible"]])
    numbers.append(["엄격 해결률", strict["rate"]])
    numbers.append(["엄격 해결의 정의", STRICT_RULE])
    for key, value in metrics["handoffs"].items():
        numbers.append([f"상담원 연결: {key}", value])
    for key, value in metrics["tickets"].items():
        numbers.append([f"전화 상담 요청: {key}", value])
    numbers.append(["도움이 됐어요", metrics["feedback"]["positive"]])
    numbers.append(["도움이 안 됐어요", metrics["feedback"]["negative"]])
    for topic, count in metrics["by_topic"].items():
        numbers.append([f"주제 {topic}", count])
    for department, count in metrics["by_department"].items():
        numbers.append([f"부서 {department}", count])
    for cell in numbers[1]:
        cell.font = Font(bold=True)
    numbers.column_dimensions["A"].width = 36
    numbers.column_dimensions["B"].width = 80
    book.save(path)
