"""`minwon eval dialogue`: QA's conversations pass, and a broken expectation is caught and explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.dialogue_eval import parse_failures
from tests.checks import unavailable

MINWON = Path(sys.executable).with_name("minwon")
RASA = Path(__file__).resolve().parents[2] / ".venv-rasa" / "bin" / "rasa"


@pytest.fixture(autouse=True)
def rasa_env_installed() -> None:
    if not RASA.exists():
        unavailable("Rasa env not installed (make envs)")


BROKEN = """version: "3.1"
stories:
  - story: 인사에 작별로 답하면 실패해야 함
    steps:
      - user: |
          안녕하세요
        intent: greet
      - action: utter_goodbye
"""


def test_parse_failures_reads_rasa_predicted_comments() -> None:
    text = """stories:
- story: 인사 (/tmp/x.yml)
  steps:
  - intent: greet
    user: |-
      안녕하세요
  - action: utter_goodbye  # predicted: utter_greet
"""
    [failure] = parse_failures(text)
    assert failure["story"].startswith("인사")
    assert failure["problems"] == [{"after": "안녕하세요", "expected": "utter_goodbye", "got": "utter_greet"}]


def test_qa_conversations_pass(tmp_path: Path) -> None:
    run = subprocess.run(
        [str(MINWON), "eval", "dialogue", "--report", str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "통과: **40 / 40**" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_a_broken_expectation_fails_with_a_readable_explanation(tmp_path: Path) -> None:
    stories = tmp_path / "broken.yml"
    stories.write_text(BROKEN, encoding="utf-8")
    run = subprocess.run(
        [str(MINWON), "eval", "dialogue", "--stories", str(stories), "--report", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "0 / 1" in report and "utter_goodbye" in report and "utter_greet" in report
