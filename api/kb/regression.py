"""Check before publishing: which regression questions would get a different answer from the staged release?

The questions are the project's evaluation cases (`evaluation/cases/dev.jsonl`) and the county's own
golden questions (each with the entry that must answer it). Both releases are asked every question;
the question vectors are computed once and shared, so a check costs a few seconds, not minutes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faq.embedder import Embedder
from faq.paths import REPO_ROOT
from faq.retriever import Retriever, SearchResult

DEV_CASES = REPO_ROOT / "evaluation" / "cases" / "dev.jsonl"


@dataclass(frozen=True)
class CheckQuestion:
    question: str
    source: str  # golden | evaluation
    expected: str | None = None  # golden questions: the entry that must answer


def evaluation_questions(path: Path = DEV_CASES) -> list[CheckQuestion]:
    if not path.exists():
        return []
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            questions.append(CheckQuestion(str(case["q"]), "evaluation"))
    return questions


def _summary(result: SearchResult) -> dict[str, Any]:
    top = result.results[0] if result.results else None
    return {"decision": result.decision, "id": top.id if top else None, "question": top.question if top else None}


def compare(
    current: Retriever,
    staged: Retriever,
    questions: list[CheckQuestion],
    embedder: Embedder,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, Any]:
    """Every question whose top answer (or whether it is answered at all) changes, and golden failures."""
    if not questions:
        return {"questions": 0, "changed": [], "golden_failed": []}
    vectors = embedder.encode([q.question for q in questions])
    changed: list[dict[str, Any]] = []
    golden_failed: list[dict[str, Any]] = []
    for number, (question, vector) in enumerate(zip(questions, vectors, strict=True), start=1):
        before = _summary(current.decide(question.question, current.candidates(question.question, vector=vector)))
        after = _summary(staged.decide(question.question, staged.candidates(question.question, vector=vector)))
        row = {**asdict(question), "before": before, "after": after}
        if (before["decision"], before["id"]) != (after["decision"], after["id"]):
            changed.append(row)
        if question.expected and not (after["decision"] == "answer" and after["id"] == question.expected):
            golden_failed.append(row)
        if number % 50 == 0 or number == len(questions):
            progress(number, len(questions))
    return {"questions": len(questions), "changed": changed, "golden_failed": golden_failed}
