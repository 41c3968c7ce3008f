"""A fast subset of the Botium conversation suite through the real stack: one conversation per flow.

The whole suite runs with ``minwon eval conversations`` (evaluation/README.md); these are the ones
that must never break — each checks what the resident reads (the fee, the deadline, the office, the
choices), not which action ran.
"""

from __future__ import annotations

import httpx
import pytest

from api.runner import Stack
from evaluation.convo import load, parse
from evaluation.convo_run import markdown_report, run_convo
from faq.paths import REPO_ROOT

pytestmark = pytest.mark.e2e
SUITE = REPO_ROOT / "evaluation" / "conversations"
FAST = [
    "faq/move_in_deadline",
    "faq/passport_fee",
    "faq/resident_copy_fee",
    "followup/facet_fee_after_passport",
    "followup/two_facets_passport",
    "clarify/vague_document",
    "clarify/vague_document_then_choice",
    "out_of_scope/lotto",
    "smalltalk/greeting",
    "handoff/after_answer",
    "feedback/negative_not_what_asked",
]


@pytest.mark.parametrize("name", FAST)
def test_conversation(stack: Stack, name: str) -> None:
    convo = load(SUITE / f"{name}.convo.txt")
    with httpx.Client() as client:
        result = run_convo(client, stack.api_url, convo)
    assert result.passed, markdown_report([result], stack.api_url)


def test_a_wrong_expectation_fails_and_the_report_shows_what_the_resident_saw(stack: Stack) -> None:
    wrong = parse(
        "틀린 수수료\n#me\n새 아파트로 옮겼는데 주소 이전 신고에 기한이 있나요\n#bot\n99일 이내",
        SUITE / "faq" / "wrong.convo.txt",
    )
    with httpx.Client() as client:
        result = run_convo(client, stack.api_url, wrong)
    assert not result.passed and result.seen is not None
    report = markdown_report([result], stack.api_url)
    assert "기대: `99일 이내`" in report and "14일 이내" in report  # expected vs what the resident saw
