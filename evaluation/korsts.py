"""KorSTS Spearman correlation of the embedding model (catches conversion bugs).

Usage: .venv/bin/python evaluation/korsts.py [--split test] [--model PATH]
Reference: multilingual-e5-small ≈ 0.768 (prototype); Korean SBERT models 0.78-0.85.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from api.settings import Settings
from faq.embedder import Embedder

DATA = Settings.from_env(with_secret=False).shared_data_dir / "korsts"


def load_pairs(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    left, right, scores = [], [], []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("sentence1") and row.get("sentence2") and row.get("score"):
                left.append(row["sentence1"])
                right.append(row["sentence2"])
                scores.append(float(row["score"]))
    return left, right, np.array(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--backends", default="torch,onnx,int8", help="encoders to compare in this run")
    args = parser.parse_args()
    path = DATA / f"korsts-sts-{args.split}.tsv"
    left, right, gold = load_pairs(path)
    model = args.model or Settings.from_env(with_secret=False).embedding_model
    results: dict[str, float] = {}
    for backend in args.backends.split(","):
        embedder = Embedder(model, backend=backend)
        started = time.perf_counter()
        a = embedder.encode(left, show_progress=True)
        b = embedder.encode(right, show_progress=True)
        elapsed = time.perf_counter() - started
        results[embedder.backend] = rho = spearmanr((a * b).sum(axis=1), gold).statistic
        print(
            f"KorSTS {args.split} ({embedder.backend}): {len(gold)} pairs, Spearman {rho:.4f}, "
            f"{2 * len(gold) / elapsed:.0f} sentences/s"
        )
    base = results.get("torch")
    for backend, rho in results.items():
        if base is not None and backend != "torch":
            print(f"difference {backend} - torch: {rho - base:+.5f}")


if __name__ == "__main__":
    main()
