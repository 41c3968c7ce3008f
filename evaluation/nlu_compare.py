"""Compare Korean tokenizers for Rasa NLU on the same fixed folds, and report the shipped one.

Variants differ only in the tokenizer (the rest of bot/config.yml's pipeline is
kept): Kiwi with the maintained user-word list (shipped), Kiwi without it, and
a plain eojeol/whitespace baseline (Rasa's WhitespaceTokenizer drops Hangul).
Folds are stratified by intent and fixed by a seed, so every variant is
trained and tested on exactly the same examples (`rasa test nlu
--cross-validation` reshuffles on each run).

Writes evaluation/reports/nlu/: comparison.md (mean ± std of intent macro-F1
and entity F1), intent_report.md (per-intent precision/recall/F1 of the shipped
variant over all folds), confusion_matrix.png and misclassified.md.

Usage: .venv/bin/python evaluation/nlu_compare.py [--folds 5] [--variants kiwi,kiwi_plain,eojeol]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from api.runner import BOT_DIR, rasa_env
from api.settings import Settings
from faq.paths import REPO_ROOT

VARIANTS: dict[str, dict[str, object]] = {
    "kiwi": {"name": "components.kiwi_tokenizer.KiwiTokenizer", "user_words": True},
    "kiwi_plain": {"name": "components.kiwi_tokenizer.KiwiTokenizer", "user_words": False},
    "eojeol": {"name": "components.eojeol_tokenizer.EojeolTokenizer"},
}
SHIPPED = "kiwi"
OUT = REPO_ROOT / "evaluation" / "reports" / "nlu"
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")


def load_nlu(path: Path) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    intents: dict[str, list[str]] = {}
    others = []
    for block in data["nlu"]:
        if "intent" in block:
            examples = [line[2:].strip() for line in block["examples"].splitlines() if line.strip().startswith("- ")]
            intents[block["intent"]] = examples
        else:
            others.append(block)  # synonyms stay in every training set
    return intents, others


def make_folds(intents: dict[str, list[str]], folds: int, seed: int) -> list[dict[str, list[str]]]:
    rng = random.Random(seed)
    split: list[dict[str, list[str]]] = [{} for _ in range(folds)]
    for intent, examples in sorted(intents.items()):
        shuffled = examples[:]
        rng.shuffle(shuffled)
        for i, example in enumerate(shuffled):
            split[i % folds].setdefault(intent, []).append(example)
    return split


def write_nlu(path: Path, intents: dict[str, list[str]], others: list[dict[str, str]]) -> None:
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in intents.items():
        lines.append(f"  - intent: {intent}")
        lines.append("    examples: |")
        lines.extend(f"      - {e}" for e in examples)
    for block in others:
        key = "synonym" if "synonym" in block else next(iter(block))
        lines.append(f"  - {key}: {block[key]}")
        lines.append("    examples: |")
        lines.extend(f"      {line}" for line in block["examples"].splitlines() if line.strip())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_config(path: Path, tokenizer: dict[str, object]) -> None:
    config = yaml.safe_load((BOT_DIR / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"][0] = dict(tokenizer)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=BOT_DIR, env=rasa_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}")


def entity_f1(results: Path) -> float | None:
    report = results / "DIETClassifier_report.json"
    if not report.exists():
        return None
    data = json.loads(report.read_text(encoding="utf-8"))
    return float(data.get("micro avg", data.get("weighted avg", {})).get("f1-score", 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    intents, others = load_nlu(BOT_DIR / "data" / "nlu.yml")
    folds = make_folds(intents, args.folds, args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    scores: dict[str, dict[str, list[float]]] = {
        v: {"intent_macro_f1": [], "entity_f1": [], "train_s": []} for v in variants
    }
    predictions: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="nlu-compare-") as tmp:
        work = Path(tmp)
        for k in range(args.folds):
            train = {i: [e for j, f in enumerate(folds) if j != k for e in f.get(i, [])] for i in intents}
            write_nlu(work / f"train{k}.yml", train, others)
            write_nlu(work / f"test{k}.yml", folds[k], [])
        for variant in variants:
            write_config(work / f"{variant}.yml", VARIANTS[variant])
            for k in range(args.folds):
                print(f"[nlu] {variant}: fold {k + 1}/{args.folds}", flush=True)
                model_dir, results = work / f"m-{variant}-{k}", work / f"r-{variant}-{k}"
                started = time.perf_counter()
                run(
                    [
                        str(Settings.from_env(with_secret=False).rasa_bin),
                        "train",
                        "nlu",
                        "--config",
                        str(work / f"{variant}.yml"),
                        "--nlu",
                        str(work / f"train{k}.yml"),
                        "--out",
                        str(model_dir),
                        "--fixed-model-name",
                        "m",
                    ]
                )
                scores[variant]["train_s"].append(time.perf_counter() - started)
                run(
                    [
                        str(Settings.from_env(with_secret=False).rasa_bin),
                        "test",
                        "nlu",
                        "--model",
                        str(model_dir / "m.tar.gz"),
                        "--nlu",
                        str(work / f"test{k}.yml"),
                        "--out",
                        str(results),
                        "--successes",
                        "--no-plot",
                    ]
                )
                report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
                scores[variant]["intent_macro_f1"].append(float(report["macro avg"]["f1-score"]))
                ent = entity_f1(results)
                if ent is not None:
                    scores[variant]["entity_f1"].append(ent)
                if variant == SHIPPED:
                    for name in ("intent_successes.json", "intent_errors.json"):
                        path = results / name
                        if path.exists():
                            for item in json.loads(path.read_text(encoding="utf-8")):
                                predictions.append(
                                    {
                                        "text": item["text"],
                                        "gold": item["intent"],
                                        "pred": (item.get("intent_prediction") or {}).get("name"),
                                    }
                                )
                shutil.rmtree(model_dir, ignore_errors=True)
    write_comparison(scores, args)
    if predictions:
        write_intent_report(predictions)
    print((OUT / "comparison.md").read_text(encoding="utf-8"))


def _ms(values: list[float]) -> str:
    if not values:
        return "–"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {spread:.3f}"


def write_comparison(scores: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    lines = [
        "# Korean tokenizers for Rasa NLU",
        "",
        f"{args.folds} stratified folds, seed {args.seed}, same folds for every variant; "
        "pipeline otherwise as in bot/config.yml. Mean ± std over folds.",
        "",
        "| tokenizer | intent macro-F1 | entity F1 | training s/fold |",
        "|---|---|---|---|",
    ]
    for variant, s in scores.items():
        label = {
            "kiwi": "Kiwi + user words (shipped)",
            "kiwi_plain": "Kiwi, no user words",
            "eojeol": "eojeol/whitespace baseline",
        }[variant]
        lines.append(f"| {label} | {_ms(s['intent_macro_f1'])} | {_ms(s['entity_f1'])} | {_ms(s['train_s'])} |")
    (OUT / "comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "comparison.json").write_text(json.dumps(scores, indent=2), encoding="utf-8")


def write_intent_report(predictions: list[dict[str, object]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import classification_report, confusion_matrix

    gold = [str(p["gold"]) for p in predictions]
    pred = [str(p["pred"]) for p in predictions]
    labels = sorted(set(gold) | set(pred))
    report = classification_report(gold, pred, labels=labels, output_dict=True, zero_division=0)
    lines = [
        "# Intent report (shipped tokenizer, all folds)",
        "",
        "| intent | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for label in labels:
        r = report[label]
        lines.append(
            f"| {label} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1-score']:.3f} | {int(r['support'])} |"
        )
    macro = report["macro avg"]
    lines.append(f"| **macro avg** | {macro['precision']:.3f} | {macro['recall']:.3f} | {macro['f1-score']:.3f} | |")
    (OUT / "intent_report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wrong = [p for p in predictions if p["gold"] != p["pred"]]
    (OUT / "misclassified.md").write_text(
        "# Misclassified examples\n\n" + "\n".join(f"- `{p['text']}`: {p['gold']} → {p['pred']}" for p in wrong) + "\n",
        encoding="utf-8",
    )
    matrix = confusion_matrix(gold, pred, labels=labels)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color="black" if i != j else "white")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Intent confusion matrix (shipped tokenizer, all folds)")
    fig.tight_layout()
    fig.savefig(OUT / "confusion_matrix.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
