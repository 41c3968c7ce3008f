"""Tune fusion and confidence settings on the dev set, report on a held-out split.

Candidates (embedding + BM25) are computed once per case; each setting then
only re-runs the cheap fusion/decision step, so a grid of thousands of
settings takes seconds. Cases are split 70/30 by a hash of the question so
the split is stable across runs. The chosen setting maximises tune-split
hit@1 subject to out-of-scope rejection >= --min-oos (0.97) and hit@3 >= 0.97.

Usage: .venv/bin/python evaluation/tune_retrieval.py [--cases evaluation/cases/dev.jsonl]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from api.knowledge import load_retriever
from api.settings import Settings
from evaluation.retrieval_eval import MRR_DEPTH, Case, Tally, load_cases, score_case
from faq.retriever import Candidates, RetrievalConfig, Retriever

FUSION_GRIDS: list[dict[str, list[Any]]] = [
    {"fusion": ["rrf"], "rrf_k": [5.0, 10.0, 20.0, 60.0], "dense_weight": [1.0, 2.0, 3.0]},
    {"fusion": ["score"], "bm25_share": [0.005, 0.01, 0.02, 0.03, 0.05, 0.08]},
]
DECISION_GRID: dict[str, list[Any]] = {
    "confident_similarity": [0.88, 0.89, 0.90, 0.91, 0.92],
    "rerank_tolerance": [0.0, 0.005, 0.01, 0.02],
    "agreement_similarity": [0.85, 0.87, 0.89],
    "agreement_bm25_lead": [1.0, 1.2, 1.5],
    "in_scope_similarity": [0.87, 0.88, 0.89, 0.90],
}


def split_of(question: str) -> str:
    return "holdout" if int(hashlib.sha256(question.encode()).hexdigest(), 16) % 10 < 3 else "tune"


def run(retriever: Retriever, prepared: list[tuple[Case, Candidates]], config: RetrievalConfig) -> Tally:
    retriever.config = config
    total = Tally()
    for case, found in prepared:
        total.add(score_case(case, retriever.decide(case.q, found, MRR_DEPTH, "hybrid")))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default="evaluation/cases/dev.jsonl")
    parser.add_argument("--min-oos", type=float, default=0.97, help="required out-of-scope rejection on the tune split")
    args = parser.parse_args()
    cases = load_cases(Path(args.cases))
    retriever = load_retriever(Settings.from_env(with_secret=False))
    print(f"[tune] computing candidates for {len(cases)} cases")
    prepared: dict[str, list[tuple[Case, Candidates]]] = {"tune": [], "holdout": []}
    for case in cases:
        prepared[split_of(case.q)].append((case, retriever.candidates(case.q, "hybrid")))
    print(f"[tune] tune {len(prepared['tune'])} / holdout {len(prepared['holdout'])} cases")
    base = RetrievalConfig()
    settings: list[dict[str, Any]] = []
    for fusion_grid in FUSION_GRIDS:
        grid: dict[str, list[Any]] = {**fusion_grid, **DECISION_GRID}
        names = list(grid)
        settings += [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    best: tuple[float, RetrievalConfig, dict[str, float | None]] | None = None
    tuned = set(DECISION_GRID) | {k for g in FUSION_GRIDS for k in g}
    for i, setting in enumerate(settings, start=1):
        config = replace(base, **setting)
        if config.agreement_similarity > config.confident_similarity:
            continue
        metrics = run(retriever, prepared["tune"], config).metrics()
        if (metrics["oos_rejection"] or 0) < args.min_oos or (metrics["hit@3"] or 0) < 0.97:
            continue
        key = (metrics["hit@1"] or 0) + 0.01 * (metrics["mrr"] or 0)
        if best is None or key > best[0]:
            best = (key, config, metrics)
        if i % 2000 == 0:
            print(f"[tune] {i}/{len(settings)} settings, best hit@1 so far {best[2]['hit@1'] if best else '-'}")
    assert best is not None, "no setting met the constraints"
    _, config, tune_metrics = best
    print(
        "[tune] default:",
        {
            k: round(v, 3) if isinstance(v, float) else v
            for k, v in run(retriever, prepared["holdout"], base).metrics().items()
        },
    )
    print("[tune] chosen :", {k: v for k, v in asdict(config).items() if k in tuned})
    print("[tune] tune split   :", {k: round(v, 3) if isinstance(v, float) else v for k, v in tune_metrics.items()})
    holdout = run(retriever, prepared["holdout"], config).metrics()
    print("[tune] holdout split:", {k: round(v, 3) if isinstance(v, float) else v for k, v in holdout.items()})


if __name__ == "__main__":
    main()
