"""Vague questions and plain FAQ questions, scored on what the retrieval decision shows the resident.

Retrieval decides answer vs choices (``faq/retriever.py``: ``answer``, ``related``, ``choose``,
``clarify``, ``none``); the bot's action shows that decision unchanged on a first turn. So both sets
are scored at the retrieval level, without Rasa (a question Rasa's NLU takes for another intent is the
conversation suite's business).

- **Vague or multi-service questions** (``cases/vague.jsonl``: our own wording, ``accept`` lists the
  entries that would be a right answer, and ``clarify`` when choices are right): the clarify rate (got
  choices), the wrong-answer rate (answered directly with an entry not accepted) and the right-answer
  rate (answered directly with an accepted entry).
- **Plain FAQ questions**: the first resident turn of every conversation in
  ``evaluation/conversations/faq``, checked against that conversation's first ``#bot`` block: answered
  right, answered wrong, choices with a right entry among them, choices without one.

Usage: .venv/bin/python evaluation/vague_eval.py [--cases FILE] [--convos DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evaluation.convo import BotMessage, Step, failed_expectations, load_dir
from evaluation.retrieval_eval import question_lines
from faq.paths import REPO_ROOT
from faq.retriever import Retriever, SearchResult

CASES = REPO_ROOT / "evaluation" / "cases" / "vague.jsonl"
PLAIN = REPO_ROOT / "evaluation" / "conversations" / "faq"
RESULTS = REPO_ROOT / "evaluation" / "results"
CHOICES = ("clarify", "choose")  # decisions that show the resident entries to pick from

VagueOutcome = Literal["choices", "right", "wrong", "related", "none", "expired"]
PlainOutcome = Literal["answered_right", "answered_wrong", "choices_right", "choices_wrong", "related", "none"]
PLAIN_OUTCOMES: tuple[PlainOutcome, ...] = (
    "answered_right",
    "answered_wrong",
    "choices_right",
    "choices_wrong",
    "related",
    "none",
)


class VagueCaseError(ValueError):
    pass


@dataclass(frozen=True)
class VagueCase:
    q: str
    accept: frozenset[str]  # entry ids that answer it; "clarify": choices are a right reply

    @property
    def clarify_ok(self) -> bool:
        return "clarify" in self.accept


def load_vague_cases(path: Path = CASES) -> list[VagueCase]:
    cases = []
    for number, raw in question_lines(path, VagueCaseError):
        accept = raw.get("accept")
        if not isinstance(accept, list) or not accept or not all(isinstance(a, str) for a in accept):
            raise VagueCaseError(f'{path}:{number}: "accept" must list entry ids and/or "clarify"')
        cases.append(VagueCase(raw["q"].strip(), frozenset(accept)))
    return cases


def vague_outcome(case: VagueCase, result: SearchResult) -> VagueOutcome:
    if result.decision in CHOICES and result.results:
        return "choices"
    if result.decision == "answer":
        return "right" if result.results[0].id in case.accept else "wrong"
    if result.decision in ("related", "expired"):
        return result.decision
    return "none"


@dataclass
class VagueTally:
    outcomes: Counter[str] = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, case: VagueCase, result: SearchResult) -> VagueOutcome:
        outcome = vague_outcome(case, result)
        self.outcomes[outcome] += 1
        shown = [r.id for r in result.results[:3]]
        self.rows.append({"q": case.q, "outcome": outcome, "decision": result.decision, "shown": shown})
        return outcome

    def metrics(self) -> dict[str, float | int]:
        n = sum(self.outcomes.values())

        def rate(name: str) -> float:
            return round(self.outcomes[name] / n, 4) if n else 0.0

        return {
            "cases": n,
            "clarify_rate": rate("choices"),
            "wrong_answer_rate": rate("wrong"),
            "right_answer_rate": rate("right"),
            "related_rate": rate("related"),
            "not_found_rate": rate("none"),
            "wrong": self.outcomes["wrong"],
        }


def run_vague(retriever: Retriever, cases: Iterable[VagueCase]) -> VagueTally:
    tally = VagueTally()
    for case in cases:
        tally.add(case, retriever.search(case.q, top_k=3))
    return tally


@dataclass(frozen=True)
class PlainCase:
    q: str
    expect: Step  # the conversation's first #bot block
    source: str


def load_plain_cases(folder: Path = PLAIN) -> list[PlainCase]:
    cases = []
    for convo in load_dir(folder):
        me = next((s for s in convo.steps if s.sender == "me"), None)
        bot = next((s for s in convo.steps if s.sender == "bot"), None)
        if me is not None and bot is not None and not me.pressed:
            cases.append(PlainCase(me.text, bot, f"{folder.name}/{convo.path.name}"))
    return cases


def plain_outcome(case: PlainCase, result: SearchResult, shown: BotMessage) -> PlainOutcome:
    """``shown``: the first message the resident reads for ``result`` (bot.actions.faq.faq_messages)."""
    passes = not failed_expectations(case.expect, shown)
    if result.decision == "answer":
        return "answered_right" if passes else "answered_wrong"
    if result.decision in CHOICES and result.results:
        # Would pressing one of the choices give the expected facts? Text checks only: the buttons
        # a #bot block expects belong to the answer, not to the list of choices.
        text_checks = Step(
            "bot", case.expect.line, expectations=tuple(e for e in case.expect.expectations if e.check != "BUTTONS")
        )
        right = any(not failed_expectations(text_checks, BotMessage(r.answer)) for r in result.results)
        return "choices_right" if right else "choices_wrong"
    return "related" if result.decision == "related" else "none"


@dataclass
class PlainTally:
    outcomes: Counter[str] = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, case: PlainCase, result: SearchResult, shown: BotMessage) -> PlainOutcome:
        outcome = plain_outcome(case, result, shown)
        self.outcomes[outcome] += 1
        self.rows.append(
            {"q": case.q, "source": case.source, "outcome": outcome, "shown": [r.id for r in result.results]}
        )
        return outcome

    def metrics(self) -> dict[str, float | int]:
        n = sum(self.outcomes.values())
        return {"cases": n, **{k: self.outcomes[k] for k in PLAIN_OUTCOMES}}


def shown_message(question: str, result: SearchResult, retriever: Retriever) -> BotMessage:
    """The first message the resident reads for this decision, as the bot's action renders it."""
    from bot.actions.faq import faq_messages

    first = faq_messages(question, result, retriever)[0]
    buttons = first.get("buttons") or []
    return BotMessage(
        first["text"],
        tuple(str(b["title"]) for b in buttons),
        tuple(str(b["payload"]) for b in buttons),
    )


def run_plain(retriever: Retriever, cases: Iterable[PlainCase]) -> PlainTally:
    tally = PlainTally()
    for case in cases:
        result = retriever.search(case.q, top_k=3)
        tally.add(case, result, shown_message(case.q, result, retriever))
    return tally


def markdown(vague: VagueTally, plain: PlainTally) -> str:
    v, p = vague.metrics(), plain.metrics()
    lines = [
        "# Vague questions and plain FAQ questions (retrieval decision)",
        "",
        f"## Vague or multi-service questions (`cases/vague.jsonl`, {v['cases']})",
        "",
        "| clarify (choices) | answered wrong | answered right | related guidance | not found |",
        "|---|---|---|---|---|",
        f"| {v['clarify_rate']:.0%} | {v['wrong_answer_rate']:.0%} | {v['right_answer_rate']:.0%} "
        f"| {v['related_rate']:.0%} | {v['not_found_rate']:.0%} |",
        "",
        "| question | outcome | decision | entries shown |",
        "|---|---|---|---|",
        *(f"| {r['q']} | {r['outcome']} | {r['decision']} | {', '.join(r['shown'])} |" for r in vague.rows),
        "",
        f"## Plain FAQ questions (first turn of `conversations/faq`, {p['cases']})",
        "",
        "| answered right | answered wrong | choices, right one among | choices without it | related | not found |",
        "|---|---|---|---|---|---|",
        f"| {p['answered_right']} | {p['answered_wrong']} | {p['choices_right']} | {p['choices_wrong']} "
        f"| {p['related']} | {p['none']} |",
        "",
        "| question | conversation | outcome | entries shown |",
        "|---|---|---|---|",
        *(
            f"| {r['q']} | {r['source']} | {r['outcome']} | {', '.join(r['shown'])} |"
            for r in plain.rows
            if r["outcome"] != "answered_right"
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from api.knowledge import load_retriever
    from api.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--convos", type=Path, default=PLAIN)
    parser.add_argument("--out", type=Path, default=RESULTS, help="writes vague_eval.md and vague_eval.json here")
    args = parser.parse_args()
    retriever = load_retriever(Settings.from_env(with_secret=False))
    vague = run_vague(retriever, load_vague_cases(args.cases))
    plain = run_plain(retriever, load_plain_cases(args.convos))
    args.out.mkdir(parents=True, exist_ok=True)
    report = markdown(vague, plain)
    (args.out / "vague_eval.md").write_text(report, encoding="utf-8")
    (args.out / "vague_eval.json").write_text(
        json.dumps(
            {"vague": vague.metrics(), "plain": plain.metrics(), "vague_rows": vague.rows, "plain_rows": plain.rows},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(report)


if __name__ == "__main__":
    main()
