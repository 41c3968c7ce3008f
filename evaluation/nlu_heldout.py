"""Small intents on a fixed held-out set: per-intent precision/recall/F1 of the trained model.

``evaluation/cases/nlu_small_intents_heldout.yml`` is never trained on (a test fails if bot/data/nlu.yml
contains one of its sentences). Runs ``rasa test nlu`` (Rasa env) on the trained model.

Usage: .venv/bin/python evaluation/nlu_heldout.py [--cases FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from api.runner import BOT_DIR, rasa_env, trained_model
from api.settings import Settings
from faq.paths import REPO_ROOT

CASES = REPO_ROOT / "evaluation" / "cases" / "nlu_small_intents_heldout.yml"
SMALL_INTENTS = ("feedback_positive", "feedback_negative", "abuse")


def score(cases: Path) -> dict[str, dict[str, float]]:
    """Per-intent precision, recall, F1 and support for the intents of ``cases``."""
    with tempfile.TemporaryDirectory(prefix="nlu-heldout-") as tmp:
        command = [
            str(Settings.from_env(with_secret=False).rasa_bin),
            "test",
            "nlu",
            "--nlu",
            str(cases.resolve()),
            "--model",
            str(trained_model()),
            "--out",
            tmp,
        ]
        run = subprocess.run(command, cwd=BOT_DIR, env=rasa_env(), capture_output=True, text=True, check=False)
        report = Path(tmp) / "intent_report.json"
        if not report.exists():
            raise RuntimeError(f"rasa test nlu failed (exit {run.returncode}):\n{run.stderr[-2000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return {
        intent: {k: float(v) for k, v in values.items() if k in ("precision", "recall", "f1-score", "support")}
        for intent, values in data.items()
        if isinstance(values, dict) and intent in SMALL_INTENTS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, default=CASES)
    args = parser.parse_args()
    scores = score(args.cases)
    print("| intent | precision | recall | F1 | n |\n|---|---|---|---|---|")
    for intent, s in scores.items():
        print(f"| {intent} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1-score']:.2f} | {s['support']:.0f} |")
    macro = sum(s["f1-score"] for s in scores.values()) / len(scores)
    print(f"macro-F1 (small intents, held-out): {macro:.3f}")


if __name__ == "__main__":
    main()
