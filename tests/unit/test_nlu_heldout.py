"""The small-intent held-out set stays held out: none of its sentences is a training example."""

from __future__ import annotations

import pytest
import yaml

from evaluation.convo_checks import nlu_examples, squash
from evaluation.nlu_heldout import CASES, SMALL_INTENTS, folds_markdown, intent_scores, macro_f1, mean_std
from faq.paths import REPO_ROOT


def test_held_out_sentences_are_not_trained_on() -> None:
    trained = {squash(e) for e in nlu_examples(REPO_ROOT / "bot" / "data" / "nlu.yml")}
    held_out = nlu_examples(CASES)
    assert len(held_out) >= 30
    assert [e for e in held_out if squash(e) in trained] == []


def test_held_out_set_covers_every_small_intent() -> None:
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    assert {block["intent"] for block in data["nlu"]} == set(SMALL_INTENTS)


def test_intent_scores_count_a_fallback_as_a_miss_and_a_wrong_intent_against_both() -> None:
    predictions = [
        ("feedback_negative", "feedback_negative"),
        ("feedback_negative", "feedback_positive"),  # "도움이 안 됐어요" read as praise
        ("feedback_negative", "nlu_fallback"),  # sent to FAQ retrieval: not understood as feedback
        ("feedback_positive", "feedback_positive"),
    ]
    scores = intent_scores(predictions, ["feedback_positive", "feedback_negative"])
    assert scores["feedback_negative"]["precision"] == 1.0
    assert scores["feedback_negative"]["recall"] == pytest.approx(1 / 3)
    assert scores["feedback_negative"]["f1-score"] == pytest.approx(0.5)
    assert scores["feedback_positive"]["precision"] == 0.5
    assert scores["feedback_positive"]["f1-score"] == pytest.approx(2 / 3)
    assert scores["feedback_negative"]["support"] == 3


def test_an_intent_never_predicted_nor_present_scores_zero_and_pulls_the_macro_down() -> None:
    scores = intent_scores([("abuse", "abuse")], SMALL_INTENTS)
    assert scores["abuse"]["f1-score"] == 1.0
    assert scores["feedback_positive"]["f1-score"] == 0.0
    assert macro_f1(scores) == pytest.approx(1 / 3)


def test_mean_std_over_folds_is_the_sample_std() -> None:
    assert mean_std([0.8, 1.0]) == pytest.approx((0.9, 0.1414213))
    assert mean_std([0.7]) == (0.7, 0.0)


def test_folds_report_gives_mean_and_std_per_intent_and_the_held_out_macro() -> None:
    def fold(f1: float) -> dict[str, dict[str, float]]:
        return {i: {"precision": f1, "recall": f1, "f1-score": f1, "support": 5.0} for i in ("greet", *SMALL_INTENTS)}

    result = {
        "folds": 2,
        "seed": 42,
        "epochs": None,
        "labels": ["greet", *SMALL_INTENTS],
        "per_fold": [fold(0.8), fold(1.0)],
        "held_out_per_fold": [fold(0.6), fold(0.8)],
        "shipped_held_out": fold(0.9),
        "train_seconds": [60.0, 62.0],
    }
    markdown = folds_markdown(result)
    assert "| greet | 0.900 ± 0.141 |" in markdown
    assert "| **macro** | 0.700 ± 0.141 | 0.900 |" in markdown
