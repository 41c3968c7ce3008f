"""Retrieval quality on labelled cases, per mode and per topic, with a readable report.

Case format (JSONL), as agreed with QA tooling:
  {"q": "...", "expect": [["여권"], ["분실", "잃어"]]}   a hit = the result's question+answer
                                                      contains one string of every group
  {"q": "...", "expect_confident": false}              out of scope: must not be answered
Optional keys: "topic" (per-topic breakdown), "entry", "source".

Metrics per mode: hit@1 (top result correct AND confident), hit@3, MRR@10,
out-of-scope rejection (not confident), per topic and overall.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.report_html import html_page
from faq.retriever import MODES, Retriever, SearchResult

MRR_DEPTH = 10


@dataclass
class Case:
    q: str
    expect: list[list[str]] | None
    topic: str
    raw: dict[str, object]

    @property
    def out_of_scope(self) -> bool:
        return self.expect is None


class CaseError(ValueError):
    pass


def question_lines(path: Path, error: type[ValueError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, case) for each non-blank line of a JSONL case file; ``error`` names the file and line
    of a line that is not JSON or has no non-empty "q"."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("q"), str) or not raw["q"].strip():
            raise error(f'{path}:{number}: each case needs a non-empty "q"')
        yield number, raw


def load_cases(path: Path) -> list[Case]:
    cases = []
    for number, raw in question_lines(path, CaseError):
        expect = raw.get("expect")
        if expect is None and raw.get("expect_confident") is not False:
            raise CaseError(f'{path}:{number}: needs "expect" groups or "expect_confident": false')
        if expect is not None and (
            not isinstance(expect, list)
            or not expect
            or not all(isinstance(g, list) and g and all(isinstance(s, str) for s in g) for g in expect)
        ):
            raise CaseError(f'{path}:{number}: "expect" must be a list of non-empty lists of strings')
        topic = str(raw.get("topic") or ("OOS" if expect is None else "?"))
        cases.append(Case(raw["q"], expect, topic, raw))
    return cases


def split_of(question: str) -> str:
    """The dev set's fixed 70/30 tune/holdout split: settings are chosen on tune, gated on holdout."""
    return "holdout" if int(hashlib.sha256(question.encode()).hexdigest(), 16) % 10 < 3 else "tune"


def is_hit(expect: list[list[str]], text: str) -> bool:
    return all(any(s in text for s in group) for group in expect)


@dataclass
class Tally:
    n: int = 0
    hit1: int = 0
    hit3: int = 0
    rr: float = 0.0
    oos_n: int = 0
    oos_rejected: int = 0

    def add(self, other: Tally) -> None:
        for name in ("n", "hit1", "hit3", "rr", "oos_n", "oos_rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float | int | None]:
        return {
            "cases": self.n,
            "hit@1": self.hit1 / self.n if self.n else None,
            "hit@3": self.hit3 / self.n if self.n else None,
            "mrr": self.rr / self.n if self.n else None,
            "oos_cases": self.oos_n,
            "oos_rejection": self.oos_rejected / self.oos_n if self.oos_n else None,
        }


@dataclass
class ModeReport:
    mode: str
    overall: Tally = field(default_factory=Tally)
    topics: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    failures: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0


def score_case(case: Case, result: SearchResult) -> Tally:
    tally = Tally()
    if case.out_of_scope:
        tally.oos_n = 1
        tally.oos_rejected = int(not result.confident)
        return tally
    assert case.expect is not None
    tally.n = 1
    hits = [is_hit(case.expect, f"{r.question}\n{r.answer}") for r in result.results[:MRR_DEPTH]]
    tally.hit1 = int(bool(hits) and hits[0] and result.confident)
    tally.hit3 = int(any(hits[:3]))
    first = next((i for i, h in enumerate(hits) if h), None)
    tally.rr = 1.0 / (first + 1) if first is not None else 0.0
    return tally


def evaluate(
    retriever: Retriever,
    cases: list[Case],
    modes: Iterable[str] = MODES,
    progress: Callable[[str], None] = print,
) -> list[ModeReport]:
    reports = []
    for mode in modes:
        report = ModeReport(mode)
        started = time.perf_counter()
        for i, case in enumerate(cases, start=1):
            result = retriever.search(case.q, top_k=MRR_DEPTH, mode=mode)  # type: ignore[arg-type]
            tally = score_case(case, result)
            report.overall.add(tally)
            report.topics[case.topic].add(tally)
            missed = (tally.n and not tally.hit1) or (tally.oos_n and not tally.oos_rejected)
            if missed:
                report.failures.append(
                    {
                        "q": case.q,
                        "topic": case.topic,
                        "expected": case.expect or "not confident",
                        "confident": result.confident,
                        "got": [r.id + " " + r.question for r in result.results[:3]],
                    }
                )
            if i % 100 == 0 or i == len(cases):
                progress(f"[eval] {mode}: {i}/{len(cases)} cases")
        report.seconds = time.perf_counter() - started
        reports.append(report)
    return reports


def _fmt(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_table(reports: list[ModeReport]) -> str:
    lines = [
        "| mode | cases | hit@1 | hit@3 | MRR | OOS cases | OOS rejection | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        m = r.overall.metrics()
        lines.append(
            f"| {r.mode} | {m['cases']} | {_fmt(m['hit@1'])} | {_fmt(m['hit@3'])} | {_fmt(m['mrr'])} "
            f"| {m['oos_cases']} | {_fmt(m['oos_rejection'])} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)


def topic_table(reports: list[ModeReport]) -> str:
    topics = sorted({t for r in reports for t in r.topics})
    header = "| topic | cases | " + " | ".join(f"{r.mode} hit@1 | {r.mode} hit@3" for r in reports) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(reports))]
    for topic in topics:
        first = reports[0].topics[topic].metrics()
        count = first["cases"] or first["oos_cases"]
        cells = []
        for r in reports:
            m = r.topics[topic].metrics()
            if topic == "OOS":
                cells.append(f"rejected {_fmt(m['oos_rejection'])} | ")
            else:
                cells.append(f"{_fmt(m['hit@1'])} | {_fmt(m['hit@3'])}")
        lines.append(f"| {topic} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_topics(reports: list[ModeReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    topics = sorted(t for t in {t for r in reports for t in r.topics} if t != "OOS")
    x = np.arange(len(topics))
    width = 0.8 / len(reports)
    fig, ax = plt.subplots(figsize=(max(10, len(topics) * 0.45), 4.5))
    for i, r in enumerate(reports):
        values = [r.topics[t].metrics()["hit@1"] or 0.0 for t in topics]
        ax.bar(x + i * width, values, width, label=r.mode)
    ax.set_xticks(x + width * (len(reports) - 1) / 2, topics, rotation=90)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("hit@1 (confident and correct)")
    ax.set_title("Retrieval hit@1 per topic")
    ax.axhline(0.85, color="grey", linestyle="--", linewidth=0.8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(reports: list[ModeReport], cases_path: Path, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_topics(reports, out_dir / "topics_hit1.png")
    failures = []
    for r in reports:
        failures.append(f"\n### {r.mode}: {len(r.failures)} misses\n")
        for f in r.failures[:60]:
            failures.append(
                f"- `{f['q']}` ({f['topic']}) expected {f['expected']}; confident={f['confident']}; got {f['got']}"
            )
    markdown = "\n".join(
        [
            "# Retrieval evaluation",
            f"\nCases: `{cases_path}`\n",
            "hit@1 counts only answers given with confidence; hit@3 counts the choices offered; "
            "OOS rejection is the share of out-of-scope questions not answered.\n",
            summary_table(reports),
            "\n## Per topic\n",
            "![hit@1 per topic](topics_hit1.png)\n",
            topic_table(reports),
            "\n## Misses (first 60 per mode)",
            *failures,
        ]
    )
    (out_dir / "report.md").write_text(markdown, encoding="utf-8")
    (out_dir / "report.html").write_text(html_page("Retrieval evaluation", markdown), encoding="utf-8")
    (out_dir / "metrics.json").write_text(
        json.dumps(
            {
                r.mode: {"overall": r.overall.metrics(), "topics": {t: v.metrics() for t, v in r.topics.items()}}
                for r in reports
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return out_dir / "report.md"
