"""Checks that keep the conversation suite honest.

- **Unseen phrasings**: a resident turn that is (after dropping spaces and punctuation) one of the bot's
  NLU training examples, a Rasa test story, an FAQ question or alternative, or a retrieval dev-set
  paraphrase measures memorisation, not understanding. Pressing a button (``BUTTON``) is exempt.
- **Facts from the knowledge base**: every text a ``#bot`` block expects must occur in something the
  bot can say — a rendered FAQ answer or question, or one of its fixed replies — so a fee or deadline
  in a test is the one the content pack states, not one typed from memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from evaluation.convo import Convo, normalize
from faq.paths import REPO_ROOT
from faq.store import FaqStore

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
NOT_WORD = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """Spacing, punctuation and case removed: "여권 잃어버렸어요!" and "여권잃어버렸어요" are the same."""
    return NOT_WORD.sub("", text).lower()


def nlu_examples(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples: list[str] = []
    for block in data.get("nlu", []):
        if "intent" in block:
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    examples.append(ANNOTATION.sub(r"\1", line.strip()[2:]))
    return examples


def _story_turns(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        ANNOTATION.sub(r"\1", str(step["user"]).strip())
        for story in data.get("stories", [])
        for step in story.get("steps", [])
        if "user" in step
    ]


def known_phrasings(store: FaqStore, root: Path = REPO_ROOT) -> dict[str, str]:
    """Squashed phrasing -> where it comes from."""
    sources: dict[str, str] = {}

    def add(texts: list[str], source: str) -> None:
        for text in texts:
            sources.setdefault(squash(text), source)

    add(nlu_examples(root / "bot" / "data" / "nlu.yml"), "bot/data/nlu.yml")
    add(_story_turns(root / "bot" / "tests" / "test_stories.yml"), "bot/tests/test_stories.yml")
    for entry in store.entries:
        add(entry.phrasings, f"faq/data ({entry.id})")
    paraphrases = root / "evaluation" / "cases" / "dev_paraphrases.tsv"
    lines = paraphrases.read_text(encoding="utf-8").splitlines()
    add([line.split("\t", 1)[1] for line in lines if "\t" in line and not line.startswith("#")], paraphrases.name)
    sources.pop("", None)
    return sources


@dataclass(frozen=True)
class Finding:
    convo: Convo
    line: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.convo.path}:{self.line}: {self.text!r} — {self.why}"


def reused_turns(convos: list[Convo], store: FaqStore) -> list[Finding]:
    known = known_phrasings(store)
    return [
        Finding(convo, step.line, step.text, f"copied from {known[squash(step.text)]}")
        for convo in convos
        for step in convo.resident_turns
        if not step.pressed and squash(step.text) in known
    ]


def _fixed_replies(store: FaqStore, root: Path) -> list[str]:
    from api.chat import NO_REPLY
    from api.handoff import texts
    from bot.actions import faq as actions

    domain = yaml.safe_load((root / "bot" / "domain.yml").read_text(encoding="utf-8"))
    replies: list[str] = []
    for variants in domain["responses"].values():
        for variant in variants:
            replies.append(store.profile.fill_markers(variant.get("text", "")))
            replies.extend(str(b["title"]) for b in variant.get("buttons", []))
    constants = [v for v in [*vars(actions).values(), *vars(texts).values(), NO_REPLY] if isinstance(v, str)]
    named = [*vars(actions).values(), *vars(texts).values()]
    buttons = [v["title"] for v in named if isinstance(v, dict) and "title" in v]
    # Templates such as "대기 순서는 {position}번째": each fixed piece is something the bot says.
    pieces = [p for text in constants for p in PLACEHOLDER.split(text) if p.strip()]
    return [*replies, *pieces, *map(str, buttons)]


def bot_vocabulary(store: FaqStore, root: Path = REPO_ROOT) -> list[str]:
    """Normalised texts the bot can show: rendered answers, entry questions (choices), fixed replies."""
    texts = [store.render_answer(e) for e in store.entries] + [e.question for e in store.entries]
    return [normalize(t) for t in [*texts, *_fixed_replies(store, root)] if t.strip()]


def unsupported_expectations(convos: list[Convo], store: FaqStore) -> list[Finding]:
    """Positive ``#bot`` expectations that nothing the bot can say contains."""
    vocabulary = bot_vocabulary(store)
    findings = []
    for convo in convos:
        for step in convo.steps:
            for expectation in step.expectations:
                if expectation.negated:
                    continue
                for arg in expectation.args:
                    for part in (p for p in arg.split("*") if p.strip()):
                        needle = normalize(part).lower()
                        if not any(needle in text.lower() for text in vocabulary):
                            findings.append(Finding(convo, step.line, part, "not in any answer or bot reply"))
    return findings


def joined_negations(convos: list[Convo]) -> list[Finding]:
    """``#bot`` text that has a ``!`` after a space: Botium joined a second ``!`` line into the expected text
    instead of negating it. One text per block; a second condition is ``!TEXT_CONTAINS_ANY …``."""
    return [
        Finding(convo, step.line, e.args[0], "a later '!' line is joined, not negated: use !TEXT_CONTAINS_ANY")
        for convo in convos
        for step in convo.steps
        for e in step.expectations
        if e.check == "text" and " !" in e.args[0]
    ]
