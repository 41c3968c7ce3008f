"""Small intents on a fixed held-out set, and per-intent F1 (mean ± std) over fixed folds of every intent.

``evaluation/cases/nlu_small_intents_heldout.yml`` is never trained on (a test fails if bot/data/nlu.yml
contains one of its sentences). Two modes:

- default: ``rasa test nlu`` of the trained model (bot/models) on the held-out set: per-intent
  precision/recall/F1 of feedback_positive, feedback_negative and abuse and their macro-F1;
- ``--folds K``: the examples of every intent in bot/data/nlu.yml split into K stratified folds fixed by
  ``--seed`` (nlu_compare.py's folds, so the numbers compare with its tokenizer table). Per fold, NLU
  only is trained on the other folds with the shipped bot/config.yml and tested on the fold plus the
  held-out set. Writes evaluation/results/nlu_folds.md and .json: F1 per intent as mean ± std over the
  folds, the held-out macro-F1 of each fold model, and the shipped model's held-out score.

Usage: .venv/bin/python evaluation/nlu_heldout.py [--cases FILE] [--folds 5 [--seed 42] [--epochs N]]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from api.runner import BOT_DIR, rasa_env, trained_model
from api.settings import Settings
from evaluation.convo_checks import nlu_examples, squash
from evaluation.nlu_compare import load_nlu, make_folds, write_nlu
from faq.paths import REPO_ROOT

CASES = REPO_ROOT / "evaluation" / "cases" / "nlu_small_intents_heldout.yml"
SMALL_INTENTS = ("feedback_positive", "feedback_negative", "abuse")
RESULTS = REPO_ROOT / "evaluation" / "results"
GOAL = 0.8  # issue 17: macro-F1 of the small intents on the held-out set

Prediction = tuple[str, str]  # (gold intent, predicted intent)
Scores = dict[str, dict[str, float]]


def intent_scores(predictions: Iterable[Prediction], intents: Iterable[str]) -> Scores:
    """Precision, recall, F1 and support per intent, over these predictions only.

    A prediction of an intent outside ``intents`` (nlu_fallback: the text goes to FAQ retrieval) is
    simply wrong for its gold intent, as it is for the resident."""
    pairs = list(predictions)
    scores: Scores = {}
    for intent in intents:
        true_pos = sum(1 for gold, pred in pairs if gold == intent and pred == intent)
        predicted = sum(1 for _, pred in pairs if pred == intent)
        support = sum(1 for gold, _ in pairs if gold == intent)
        precision = true_pos / predicted if predicted else 0.0
        recall = true_pos / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[intent] = {"precision": precision, "recall": recall, "f1-score": f1, "support": float(support)}
    return scores


def macro_f1(scores: Scores, intents: Iterable[str] = SMALL_INTENTS) -> float:
    values = [scores[i]["f1-score"] for i in intents if i in scores]
    return statistics.fmean(values) if values else 0.0


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Sample standard deviation, as nlu_compare.py reports it (0 for a single value)."""
    if not values:
        return 0.0, 0.0
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def rasa_bin() -> str:
    return str(Settings.from_env(with_secret=False).rasa_bin)


def _rasa(command: list[str]) -> None:
    run = subprocess.run(command, cwd=BOT_DIR, env=rasa_env(), capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")


def predict(model: Path, nlu_file: Path, out: Path) -> list[tuple[str, str, str]]:
    """(text, gold, predicted) for every example of ``nlu_file``, from ``rasa test nlu``."""
    command = [rasa_bin(), "test", "nlu", "--model", str(model), "--nlu", str(nlu_file), "--out", str(out)]
    _rasa([*command, "--successes", "--no-plot"])
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")):
                predicted = (item.get("intent_prediction") or {}).get("name") or ""
                rows.append((str(item["text"]), str(item["intent"]), str(predicted)))
    if not rows:
        raise RuntimeError(f"rasa test nlu wrote no predictions to {out}")
    return rows


def score(cases: Path, model: Path | None = None) -> Scores:
    """Per-intent precision, recall, F1 and support of the small intents on ``cases``."""
    with tempfile.TemporaryDirectory(prefix="nlu-heldout-") as tmp:
        rows = predict(model or trained_model(), cases.resolve(), Path(tmp))
    return intent_scores(((gold, pred) for _, gold, pred in rows), SMALL_INTENTS)


def held_out_examples(cases: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(cases.read_text(encoding="utf-8"))
    return {
        block["intent"]: [line.strip()[2:].strip() for line in block["examples"].splitlines() if line.strip()]
        for block in data["nlu"]
        if "intent" in block
    }


def write_config(path: Path, epochs: int | None) -> None:
    config = yaml.safe_load((BOT_DIR / "config.yml").read_text(encoding="utf-8"))
    if epochs is not None:
        for component in config["pipeline"]:
            if component.get("name") == "DIETClassifier":
                component["epochs"] = epochs
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run_folds(folds: int, seed: int, cases: Path, epochs: int | None) -> dict[str, object]:
    intents, others = load_nlu(BOT_DIR / "data" / "nlu.yml")
    split = make_folds(intents, folds, seed)
    held_out = held_out_examples(cases)
    held_out_texts = {squash(e) for e in nlu_examples(cases)}
    labels = sorted(intents)
    per_fold: list[Scores] = []
    held_out_per_fold: list[Scores] = []
    train_seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nlu-folds-") as tmp:
        work = Path(tmp)
        write_config(work / "config.yml", epochs)
        for k in range(folds):
            print(f"[nlu] fold {k + 1}/{folds}: training NLU ...", flush=True)
            train = {i: [e for j, f in enumerate(split) if j != k for e in f.get(i, [])] for i in intents}
            write_nlu(work / f"train{k}.yml", train, others)
            # One test run per fold: the fold's examples and the held-out sentences (disjoint, a test checks).
            test = {i: split[k].get(i, []) + held_out.get(i, []) for i in intents}
            write_nlu(work / f"test{k}.yml", test, [])
            started = time.perf_counter()
            command = [rasa_bin(), "train", "nlu", "--config", str(work / "config.yml")]
            _rasa(
                [
                    *command,
                    "--nlu",
                    str(work / f"train{k}.yml"),
                    "--out",
                    str(work / f"m{k}"),
                    "--fixed-model-name",
                    "m",
                ]
            )
            train_seconds.append(time.perf_counter() - started)
            rows = predict(work / f"m{k}" / "m.tar.gz", work / f"test{k}.yml", work / f"r{k}")
            fold_rows = [(g, p) for text, g, p in rows if squash(text) not in held_out_texts]
            held_rows = [(g, p) for text, g, p in rows if squash(text) in held_out_texts]
            per_fold.append(intent_scores(fold_rows, labels))
            held_out_per_fold.append(intent_scores(held_rows, SMALL_INTENTS))
            print(
                f"[nlu] fold {k + 1}: macro-F1 {macro_f1(per_fold[-1], labels):.3f}, small intents held-out "
                f"{macro_f1(held_out_per_fold[-1]):.3f} ({train_seconds[-1]:.0f} s training)",
                flush=True,
            )
            for stale in (work / f"m{k}", work / f"r{k}"):
                shutil.rmtree(stale, ignore_errors=True)  # a fold model is ~20 MB; five add up in /tmp
    shipped = score(cases) if trained_model().exists() else None
    return {
        "folds": folds,
        "seed": seed,
        "epochs": epochs,
        "labels": labels,
        "per_fold": per_fold,
        "held_out_per_fold": held_out_per_fold,
        "shipped_held_out": shipped,
        "train_seconds": train_seconds,
    }


def folds_markdown(result: dict[str, object]) -> str:
    labels: list[str] = result["labels"]  # type: ignore[assignment]
    per_fold: list[Scores] = result["per_fold"]  # type: ignore[assignment]
    held: list[Scores] = result["held_out_per_fold"]  # type: ignore[assignment]
    shipped: Scores | None = result["shipped_held_out"]  # type: ignore[assignment]
    seconds: list[float] = result["train_seconds"]  # type: ignore[assignment]

    def ms(values: Sequence[float]) -> str:
        mean, std = mean_std(values)
        return f"{mean:.3f} ± {std:.3f}"

    lines = [
        "# Intent F1 over fixed folds, and the small intents on the held-out set",
        "",
        f"{result['folds']} stratified folds of bot/data/nlu.yml (seed {result['seed']}); per fold, NLU trained "
        f"with bot/config.yml on the other folds (DIET epochs: {result['epochs'] or 'as shipped'}). "
        "Mean ± sample std over the folds. Written by `evaluation/nlu_heldout.py --folds`.",
        "",
        "| intent | F1 | precision | recall | examples per fold |",
        "|---|---|---|---|---|",
    ]
    for intent in labels:
        lines.append(
            f"| {intent} | {ms([f[intent]['f1-score'] for f in per_fold])} "
            f"| {ms([f[intent]['precision'] for f in per_fold])} | {ms([f[intent]['recall'] for f in per_fold])} "
            f"| {statistics.fmean(f[intent]['support'] for f in per_fold):.1f} |"
        )
    lines.append(f"| **macro** | {ms([macro_f1(f, labels) for f in per_fold])} | | | |")
    lines += [
        "",
        "## Small intents on the held-out set (`evaluation/cases/nlu_small_intents_heldout.yml`, never trained on)",
        "",
        f"Goal: macro-F1 ≥ {GOAL}.",
        "",
        "| intent | F1, fold models (mean ± std) | F1, shipped model | n |",
        "|---|---|---|---|",
    ]
    for intent in SMALL_INTENTS:
        ship = f"{shipped[intent]['f1-score']:.3f}" if shipped else "–"
        lines.append(
            f"| {intent} | {ms([f[intent]['f1-score'] for f in held])} | {ship} | {held[0][intent]['support']:.0f} |"
        )
    ship_macro = f"{macro_f1(shipped):.3f}" if shipped else "–"
    lines.append(f"| **macro** | {ms([macro_f1(f) for f in held])} | {ship_macro} | |")
    lines += ["", f"Training time per fold (2 shared cores): {ms(seconds)} s."]
    return "\n".join(lines) + "\n"


def print_scores(scores: Scores) -> None:
    print("| intent | precision | recall | F1 | n |\n|---|---|---|---|---|")
    for intent, s in scores.items():
        print(f"| {intent} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1-score']:.2f} | {s['support']:.0f} |")
    print(f"macro-F1 (small intents, held-out): {macro_f1(scores):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--folds", type=int, default=0, help="K fixed folds over every intent (0: held-out only)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=None, help="DIET epochs per fold (default: bot/config.yml)")
    args = parser.parse_args()
    if not args.folds:
        print_scores(score(args.cases))
        return
    started = time.perf_counter()
    result = run_folds(args.folds, args.seed, args.cases, args.epochs)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    markdown = folds_markdown(result) + f"Whole run: {result['total_seconds']:.0f} s.\n"
    (RESULTS / "nlu_folds.md").write_text(markdown, encoding="utf-8")
    (RESULTS / "nlu_folds.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
