"""Compile the human-edited dev-set sources into evaluation/cases/dev.jsonl.

Sources (all in evaluation/cases/):
- dev_paraphrases.tsv   entry_id<TAB>question  -> expect the entry's canonical question
- real_sample_labels.tsv real-question id<TAB>topic<TAB>expect groups ("a | b ; c")
- out_of_scope.txt      one question per line -> expect_confident false

Usage: .venv/bin/python evaluation/build_dev_cases.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from api.settings import Settings
from faq.store import FaqStore

CASES = Path(__file__).resolve().parent / "cases"
REAL = Settings.from_env(with_secret=False).shared_data_dir / "real_resident_questions.csv"


def rows(path: Path) -> list[list[str]]:
    return [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def main() -> None:
    store = FaqStore.load()
    cases: list[dict[str, object]] = []
    for entry_ids, question in rows(CASES / "dev_paraphrases.tsv"):
        entries = [store.by_id[entry_id] for entry_id in entry_ids.split(",")]
        cases.append(
            {
                "q": question,
                "expect": [[entry.question for entry in entries]],
                "topic": entries[0].topic,
                "entry": entry_ids,
            }
        )
    real = {r["id"]: r["question"] for r in csv.DictReader(REAL.open(encoding="utf-8"))}
    for real_id, topic, groups in rows(CASES / "real_sample_labels.tsv"):
        expect = [[alt.strip() for alt in group.split("|")] for group in groups.split(";")]
        cases.append({"q": real[real_id], "expect": expect, "topic": topic, "source": real_id})
    for (question,) in rows(CASES / "out_of_scope.txt"):
        cases.append({"q": question, "expect_confident": False, "topic": "OOS"})
    out = CASES / "dev.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
