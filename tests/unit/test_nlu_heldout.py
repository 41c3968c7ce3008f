"""The small-intent held-out set stays held out: none of its sentences is a training example."""

from __future__ import annotations

import yaml

from evaluation.convo_checks import nlu_examples, squash
from evaluation.nlu_heldout import CASES, SMALL_INTENTS
from faq.paths import REPO_ROOT


def test_held_out_sentences_are_not_trained_on() -> None:
    trained = {squash(e) for e in nlu_examples(REPO_ROOT / "bot" / "data" / "nlu.yml")}
    held_out = nlu_examples(CASES)
    assert len(held_out) >= 30
    assert [e for e in held_out if squash(e) in trained] == []


def test_held_out_set_covers_every_small_intent() -> None:
    data = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    assert {block["intent"] for block in data["nlu"]} == set(SMALL_INTENTS)
