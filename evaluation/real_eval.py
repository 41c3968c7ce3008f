"""Retrieval on real resident question titles, labelled by hand: does the bot answer right, and how often wrong?

Labels (``evaluation/cases/real_labels.tsv``): each held-out title is ``answer`` (these entries answer it),
``gap`` (a national sub-question no entry answers), ``local`` (only the county can answer) or ``out``.
What counts, per case:

- hit@1: the bot answers directly (decision ``answer``) with a gold entry;
- hit@3: a gold entry is among the (up to three) entries it shows, answered or offered;
- confident-wrong: the bot answers directly with an entry that does not answer the question
  (for gap/local/out any direct answer is wrong: the honest reply is related guidance, a choice or the office).
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evaluation.report_html import html_page
from faq.retriever import Mode, Retriever, SearchResult

Kind = Literal["answer", "gap", "local", "out"]
KINDS: tuple[Kind, ...] = ("answer", "gap", "local", "out")
LABELS = Path(__file__).resolve().parent / "cases" / "real_labels.tsv"


@dataclass(frozen=True)
class RealCase:
    id: str
    set: str  # random | balanced
    topic: str  # the gold entry's topic, else the balanced sample's topic, else "-"
    split: str  # tune | test
    kind: Kind
    gold: frozenset[str]
    question: str


class LabelError(ValueError):
    pass


def load_real_cases(path: Path = LABELS, split: str | None = None) -> list[RealCase]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    cases = []
    for number, row in enumerate(reader, start=2):
        kind = row.get("kind", "")
        if kind not in KINDS:
            raise LabelError(f"{path}: row {number}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        gold = frozenset(g.strip() for g in (row.get("gold") or "").split(",") if g.strip())
        if (kind == "answer") != bool(gold):
            raise LabelError(f"{path}: row {number}: gold ids are required for 'answer' and only for it")
        topic = min(gold)[:3] if gold else (row.get("sample_topic") or "-")
        case = RealCase(row["id"], row["set"], topic, row["split"], kind, gold, row["question"])
        if split is None or case.split == split:
            cases.append(case)
    return cases


@dataclass
class RealTally:
    cases: int = 0
    answer_cases: int = 0
    hit1: int = 0
    hit3: int = 0
    confident: int = 0
    confident_wrong: int = 0
    decisions: Counter[str] = field(default_factory=Counter)

    def add(self, case: RealCase, result: SearchResult) -> None:
        self.cases += 1
        self.decisions[result.decision] += 1
        shown = [r.id for r in result.results[:3]]
        answered = result.decision == "answer"
        self.confident += answered
        if case.kind == "answer":
            self.answer_cases += 1
            self.hit1 += answered and shown[0] in case.gold
            self.hit3 += any(i in case.gold for i in shown)
        if answered and shown[0] not in case.gold:
            self.confident_wrong += 1

    def metrics(self) -> dict[str, float | int | None]:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "cases": self.cases,
            "answer_cases": self.answer_cases,
            "hit@1": rate(self.hit1, self.answer_cases),
            "hit@3": rate(self.hit3, self.answer_cases),
            "confident_rate": rate(self.confident, self.cases),
            "confident_wrong": self.confident_wrong,
            "confident_wrong_rate": rate(self.confident_wrong, self.cases),
            **{f"decision_{k}": v for k, v in sorted(self.decisions.items())},
        }


@dataclass
class RealReport:
    overall: RealTally = field(default_factory=RealTally)
    by_kind: dict[str, RealTally] = field(default_factory=lambda: defaultdict(RealTally))
    by_set: dict[str, RealTally] = field(default_factory=lambda: defaultdict(RealTally))
    by_topic: dict[str, RealTally] = field(default_factory=lambda: defaultdict(RealTally))
    wrong: list[tuple[RealCase, SearchResult]] = field(default_factory=list)


def evaluate_real(
    retriever: Retriever, cases: Iterable[RealCase], progress: Callable[[str], None] = print, mode: Mode = "hybrid"
) -> RealReport:
    report = RealReport()
    cases = list(cases)
    for number, case in enumerate(cases, start=1):
        result = retriever.search(case.question, top_k=3, mode=mode)
        for tally in (report.overall, report.by_kind[case.kind], report.by_set[case.set], report.by_topic[case.topic]):
            tally.add(case, result)
        if result.decision == "answer" and result.results[0].id not in case.gold:
            report.wrong.append((case, result))
        if number % 200 == 0:
            progress(f"[eval] {number}/{len(cases)} real titles")
    return report


def _row(name: str, tally: RealTally) -> str:
    m = tally.metrics()

    def pct(value: float | int | None) -> str:
        return "-" if value is None else f"{float(value) * 100:.1f}%"

    return (
        f"| {name} | {m['cases']} | {m['answer_cases']} | {pct(m['hit@1'])} | {pct(m['hit@3'])} | "
        f"{pct(m['confident_rate'])} | {m['confident_wrong']} ({pct(m['confident_wrong_rate'])}) |"
    )


HEADER = "| | cases | answerable | hit@1 | hit@3 | answered directly | confident-wrong |\n|---|---|---|---|---|---|---|"


def summary_markdown(report: RealReport, titles: dict[str, str] | None = None) -> str:
    titles = titles or {}
    lines = ["## Overall", HEADER, _row("all", report.overall)]
    lines += [_row(f"kind: {k}", report.by_kind[k]) for k in KINDS if k in report.by_kind]
    lines += [_row(f"set: {s}", report.by_set[s]) for s in sorted(report.by_set)]
    lines += ["", "## Per topic (gold entry's topic; balanced-set topic for unanswerable titles)", HEADER]
    for topic in sorted(report.by_topic):
        lines.append(_row(f"{topic} {titles.get(topic, '')}".strip(), report.by_topic[topic]))
    if report.wrong:
        lines += ["", "## Answered directly but wrong", "| title | kind | gold | answered with |", "|---|---|---|---|"]
        for case, result in report.wrong:
            best = result.results[0]
            lines.append(
                f"| {case.question} | {case.kind} | {', '.join(sorted(case.gold)) or '-'} | {best.id} {best.question} |"
            )
    return "\n".join(lines)


def write_real_report(report: RealReport, out_dir: Path, titles: dict[str, str] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    body = summary_markdown(report, titles)
    (out_dir / "report.md").write_text("# Real resident titles\n\n" + body + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(html_page("Real resident titles", body), encoding="utf-8")
    metrics = {
        "overall": report.overall.metrics(),
        "by_kind": {k: t.metrics() for k, t in report.by_kind.items()},
        "by_set": {k: t.metrics() for k, t in report.by_set.items()},
        "by_topic": {k: t.metrics() for k, t in report.by_topic.items()},
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    topics = sorted(t for t in report.by_topic if report.by_topic[t].answer_cases)
    hit1 = [float(report.by_topic[t].metrics()["hit@1"] or 0) for t in topics]
    hit3 = [float(report.by_topic[t].metrics()["hit@3"] or 0) for t in topics]
    fig, ax = plt.subplots(figsize=(12, 4))
    xs = range(len(topics))
    ax.bar([x - 0.2 for x in xs], hit1, width=0.4, label="hit@1 (answered, right)")
    ax.bar([x + 0.2 for x in xs], hit3, width=0.4, label="hit@3 (right entry shown)")
    ax.set_xticks(list(xs), topics, rotation=90)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of answerable titles")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(out_dir / "topics_real.png", dpi=110)
    plt.close(fig)
    return out_dir / "report.md"
