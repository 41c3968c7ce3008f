"""Run the QA test conversations against the trained Rasa model and explain failures.

Wraps `rasa test core` (Rasa env) and turns its output into a report a QA
person can read: which conversation failed, at which turn, what was expected
and what the bot did instead. Custom actions are not executed here (Rasa
checks which action it would choose); answers themselves are covered by the
api's end-to-end tests and `minwon eval retrieval`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from api.runner import BOT_DIR, rasa_env, trained_model
from api.settings import Settings
from evaluation.report_html import html_page

PREDICTED = re.compile(r"#\s*predicted:\s*(.+)$")


class Problem(TypedDict):
    after: str
    expected: str
    got: str


class Failure(TypedDict):
    story: str
    problems: list[Problem]


@dataclass
class DialogueResult:
    total: int
    passed: int
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total


def parse_failures(text: str) -> list[Failure]:
    """Stories from failed_test_stories.yml, with each turn marked where the bot went wrong."""
    failures: list[Failure] = []
    current: Failure | None = None
    last_user = ""
    awaiting_user = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("- story:"):
            current = {"story": stripped.split(":", 1)[1].strip(), "problems": []}
            failures.append(current)
            last_user, awaiting_user = "", False
            continue
        if current is None or not stripped:
            continue
        key = stripped.lstrip("- ").split(":", 1)[0]
        if key == "user":
            value = stripped.split(":", 1)[1].strip()
            awaiting_user = value in ("|", "|-", "")
            if not awaiting_user:
                last_user = value.split("#", 1)[0].strip()
        elif awaiting_user:
            last_user, awaiting_user = stripped.split("#", 1)[0].strip(), False
        match = PREDICTED.search(stripped)
        if match:
            expected = stripped.split("#", 1)[0].strip().lstrip("- ").strip()
            for prefix in ("action:", "intent:"):
                expected = expected.removeprefix(prefix).strip()
            current["problems"].append({"after": last_user, "expected": expected, "got": match.group(1).strip()})
    return failures


def run_dialogue_tests(stories: Path, out_dir: Path) -> DialogueResult:
    model = trained_model()
    if not model.exists():
        raise RuntimeError(f"no trained Rasa model at {model}; run `minwon train`")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    started = time.perf_counter()
    command = [
        str(Settings.from_env(with_secret=False).rasa_bin),
        "test",
        "core",
        "--stories",
        str(stories.resolve()),
        "--model",
        str(model),
        "--out",
        str(out_dir.resolve()),
        "--no-plot",
    ]
    run = subprocess.run(command, cwd=BOT_DIR, env=rasa_env(), capture_output=True, text=True, check=False)
    report_file = out_dir / "story_report.json"
    if not report_file.exists():
        raise RuntimeError(f"rasa test failed (exit {run.returncode}):\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    summary = json.loads(report_file.read_text(encoding="utf-8")).get("conversation_accuracy")
    if not summary or not summary.get("total"):
        raise RuntimeError(f"no test conversations found in {stories} (is it a Rasa test-stories YAML file?)")
    failed_file = out_dir / "failed_test_stories.yml"
    failures = parse_failures(failed_file.read_text(encoding="utf-8")) if failed_file.exists() else []
    return DialogueResult(
        total=int(summary["total"]),
        passed=int(summary["correct"]),
        failures=failures,
        seconds=time.perf_counter() - started,
    )


def write_report(result: DialogueResult, stories: Path, out_dir: Path) -> Path:
    lines = [
        "# 대화 테스트 결과 (dialogue test report)",
        "",
        f"- 테스트 파일: `{stories}`",
        f"- 통과: **{result.passed} / {result.total}** 대화 ({result.seconds:.0f}초)",
        "",
    ]
    if result.failures:
        lines.append("## 실패한 대화")
        for failure in result.failures:
            lines.append(f"\n### {failure['story']}")
            for problem in failure["problems"]:
                lines.append(
                    f"- 사용자 입력 `{problem['after']}` 다음: 기대 `{problem['expected']}` → 실제 `{problem['got']}`"
                )
    else:
        lines.append("모든 대화가 기대한 대로 진행되었습니다.")
    markdown = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(markdown, encoding="utf-8")
    (out_dir / "report.html").write_text(html_page("대화 테스트 결과", markdown), encoding="utf-8")
    return out_dir / "report.md"
