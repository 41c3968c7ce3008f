"""Scoring of vague and plain questions: what counts as choices, a wrong answer and a right one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.convo import BotMessage, parse
from evaluation.vague_eval import (
    CASES,
    PlainCase,
    VagueCase,
    VagueCaseError,
    VagueTally,
    load_plain_cases,
    load_vague_cases,
    plain_outcome,
)
from faq.retriever import Decision, ResultItem, SearchResult
from faq.store import FaqStore


def result(decision: Decision, *ids: str, answer: str = "") -> SearchResult:
    items = [ResultItem(id=i, question=f"{i}?", answer=answer or f"{i} 안내", score=1.0) for i in ids]
    return SearchResult("q", decision, items)


def test_a_vague_question_answered_with_an_entry_not_accepted_is_a_wrong_answer() -> None:
    case = VagueCase("이사 왔는데 해야 할 거 뭐 있어요", frozenset({"clarify", "T04-001"}))
    tally = VagueTally()
    assert tally.add(case, result("answer", "T15-004")) == "wrong"
    assert tally.add(case, result("answer", "T04-001")) == "right"
    assert tally.add(case, result("clarify", "T04-001", "T03-001")) == "choices"
    assert tally.add(case, result("choose", "T15-004", "T03-001")) == "choices"
    assert tally.add(case, result("none")) == "none"
    metrics = tally.metrics()
    assert metrics["clarify_rate"] == 0.4
    assert metrics["wrong_answer_rate"] == 0.2
    assert metrics["right_answer_rate"] == 0.2
    assert metrics["not_found_rate"] == 0.2


def test_choices_without_any_entry_are_not_choices() -> None:
    tally = VagueTally()
    assert tally.add(VagueCase("서류", frozenset({"clarify"})), result("choose")) == "none"


def test_the_vague_set_is_readable_and_names_only_real_entries() -> None:
    cases = load_vague_cases(CASES)
    assert len(cases) >= 20
    known = {e.id for e in FaqStore.load().entries} | {"clarify"}
    assert [c.q for c in cases if not c.accept <= known] == []
    assert all(c.clarify_ok for c in cases), "every question in the vague set may be answered with choices"


def test_broken_vague_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"q": "서류 떼려고요"}) + "\n", encoding="utf-8")
    with pytest.raises(VagueCaseError, match=r"v\.jsonl:1"):
        load_vague_cases(path)


FEE = parse(
    "여권 수수료\n\n#me\n여권 새로 만들면 얼마\n\n#bot\nTEXT_CONTAINS_ALL 52,000원|49,000원\n", Path("fee.convo.txt")
)
CASE = PlainCase("여권 새로 만들면 얼마", FEE.steps[1], "faq/fee.convo.txt")


def test_plain_question_answered_with_the_facts_is_right_and_without_them_wrong() -> None:
    good = result("answer", "T01-002", answer="10년 58면 52,000원, 26면 49,000원")
    assert plain_outcome(CASE, good, BotMessage(good.results[0].answer)) == "answered_right"
    bad = result("answer", "T01-001", answer="여권은 구청에서 신청합니다")
    assert plain_outcome(CASE, bad, BotMessage(bad.results[0].answer)) == "answered_wrong"


def test_plain_question_given_choices_counts_whether_the_right_entry_is_among_them() -> None:
    shown = BotMessage("혹시 아래 질문 중 하나이신가요?", ("T01-001?", "T01-002?"))
    among = SearchResult(
        "q",
        "choose",
        [
            ResultItem(id="T01-001", question="q1", answer="구청에서 신청", score=1.0),
            ResultItem(id="T01-002", question="q2", answer="58면 52,000원, 26면 49,000원", score=0.9),
        ],
    )
    assert plain_outcome(CASE, among, shown) == "choices_right"
    assert plain_outcome(CASE, result("choose", "T01-001", answer="구청"), shown) == "choices_wrong"


def test_plain_cases_are_the_first_turn_of_every_faq_conversation() -> None:
    cases = load_plain_cases()
    assert len(cases) >= 30
    assert all(c.expect.sender == "bot" and c.q for c in cases)
